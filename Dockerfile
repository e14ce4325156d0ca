# QuickPoll's image. Its default command, bin/production, serves everything from one container on
# port 8000 (nginx in front of the HTTP and socket servers); compose.yaml runs the same image as
# separate services instead (bin/http, bin/sockets, the clock, a one-shot migrate).
# No migrations on start: they run once per release (compose's migrate service, the Procfile's release step).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ENVIRONMENT=production

WORKDIR /app

# nginx fronts the two servers in bin/production; envsubst (gettext-base) fills in its configuration.
RUN apt-get update \
    && apt-get install -y --no-install-recommends nginx gettext-base \
    && rm -rf /var/lib/apt/lists/*

# The locked releases, each checked against its hash (bin/lock makes the file); a layer of its own,
# rebuilt only when the lock changes.
COPY requirements/production.lock requirements/
RUN pip install --require-hashes -r requirements/production.lock

COPY pyproject.toml README.md ./
COPY quickpoll ./quickpoll
COPY accounts ./accounts
COPY polls ./polls
COPY realtime ./realtime
# QuickPoll itself; everything it needs came from the lock above.
RUN pip install --no-deps .

COPY . .
# collectstatic only reads settings; the real SECRET_KEY arrives at run time.
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput \
    && SECRET_KEY=compile-only python manage.py compile_translations \
    && useradd --system --uid 10001 --home-dir /app quickpoll \
    && mkdir -p /app/media \
    && chown -R quickpoll /app/media

USER quickpoll
EXPOSE 8000

CMD ["bin/production"]
