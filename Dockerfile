# syntax=docker/dockerfile:1
# mentorbot's image: `python -m bot serve` (the Telegram webhook, the dashboard, the dispatcher
# and the health endpoints in one process) as a user without privileges. How to run it:
# docs/DEPLOYMENT.md (compose.yaml puts PostgreSQL and Caddy beside it).
#
# The Python version is the one CI tests on; the Debian release (trixie) brings a pg_dump as new
# as the postgres:17 of compose.yaml, which `python -m bot backup` uses.
ARG PYTHON_IMAGE=python:3.11-slim-trixie

# ---- build: the dependencies from the lock file, the catalogs checked, the bytecode compiled
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# msgfmt (GNU gettext) checks the catalogs as `make i18n-check` does.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

# Exactly the versions and files in requirements.lock (`make lock`): every download must match
# one of its hashes, and nothing is resolved anew.
COPY requirements.lock /tmp/requirements.lock
RUN python -m venv /opt/mentorbot \
    && /opt/mentorbot/bin/pip install --require-hashes --no-deps -r /tmp/requirements.lock

WORKDIR /app
COPY bot bot
COPY handlers handlers
COPY storage storage
COPY dashboard dashboard
COPY surveys surveys
COPY programmes programmes
COPY locales locales
# The catalogs: the bot compiles each .po in memory at start (no .mo files are kept); a catalog
# msgfmt refuses fails the build here rather than the start. Then the bytecode, once, since the
# application's folder is read-only for the user that runs it.
RUN for po in locales/*/LC_MESSAGES/*.po; do msgfmt --check -o /dev/null "$po" || exit 1; done \
    && /opt/mentorbot/bin/python -m compileall -q bot handlers storage dashboard

# ---- run
FROM ${PYTHON_IMAGE}
# pg_dump and psql for `python -m bot backup` and `restore` against PostgreSQL.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 mentorbot \
    && useradd --system --uid 10001 --gid mentorbot --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin mentorbot \
    && install -d -o mentorbot -g mentorbot -m 0700 /data /data/voice

COPY --from=build /opt/mentorbot /opt/mentorbot
COPY --from=build /app /app

# The application lives in /app (root's, read-only for the bot); what it writes goes to /data:
# the keyed-hash secret, the voice answers and, without DATABASE_URL, a SQLite database.
ENV PATH=/opt/mentorbot/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOST=0.0.0.0 \
    PORT=8080 \
    LOG_FORMAT=json \
    DATABASE_URL=sqlite+aiosqlite:////data/mentorbot.db \
    SECRET_FILE=/data/mentorbot.secret \
    VOICE_STORAGE_DIR=/data/voice
WORKDIR /data
VOLUME ["/data"]
USER 10001:10001
EXPOSE 8080

# /healthz answers while the process is alive (readiness, /readyz, is the proxy's and the
# operator's to ask). Python itself asks: the slim image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8080') + '/healthz', timeout=4)"]

CMD ["python", "-m", "bot", "serve"]
