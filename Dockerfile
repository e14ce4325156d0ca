# QuickPoll production image: daphne serving HTTP and WebSockets on port 8000.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    ENVIRONMENT=production

WORKDIR /app

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
CMD ["sh", "-c", "python manage.py migrate --noinput && exec daphne --bind 0.0.0.0 --port 8000 --proxy-headers quickpoll.asgi:application"]
