# cohortbot in a container: the same install as `make setup` (every package from requirements.lock,
# hashes required), run as an unprivileged user; `docker compose up` adds PostgreSQL (compose.yaml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN useradd --system --create-home --home-dir /var/lib/cohortbot cohortbot

WORKDIR /opt/cohortbot
# Dependencies first: this layer is rebuilt only when the lock changes.
COPY requirements.lock ./
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
COPY schedules ./schedules
COPY manifest ./manifest
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps --no-build-isolation -e .

USER cohortbot
WORKDIR /var/lib/cohortbot
ENV PATH=/opt/venv/bin:$PATH PORT=3000 EXPORT_DIR=/var/lib/cohortbot/exports
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
  CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/healthz', timeout=4)"
# SIGTERM: sends in flight finish, the rest wait in the outbox for the next start.
STOPSIGNAL SIGTERM
CMD ["sh", "-c", "cohortbot db upgrade && exec cohortbot run"]
