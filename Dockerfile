# QuickPoll production image: bin/production on port 8000 (nginx in front of granian for HTTP
# and uvicorn for WebSockets; the README's performance section says why).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    ENVIRONMENT=production

WORKDIR /app

# nginx fronts the two servers; envsubst (gettext-base) fills in its configuration.
RUN apt-get update \
    && apt-get install -y --no-install-recommends nginx gettext-base \
    && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml README.md ./
COPY quickpoll ./quickpoll
COPY accounts ./accounts
COPY polls ./polls
COPY realtime ./realtime
RUN pip install .

COPY . .
# collectstatic only reads settings; the real SECRET_KEY arrives at run time.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && useradd --system --uid 10001 --home-dir /app quickpoll \
    && mkdir -p /app/media \
    && chown -R quickpoll /app/media

USER quickpoll
EXPOSE 8000

# Migrations run on every release, before the server takes traffic.
CMD ["sh", "-c", "python manage.py migrate --noinput && exec bin/production"]
