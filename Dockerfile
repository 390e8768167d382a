# auditwatch worker image (also used by the demo producer in docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

COPY pyproject.toml README.md ./
COPY pipeline ./pipeline
COPY detectors ./detectors
COPY alerts ./alerts
RUN pip install .

COPY config ./config

RUN useradd --create-home --uid 10001 auditwatch \
    && mkdir -p /app/var/state \
    && chown -R auditwatch:auditwatch /app/var

USER auditwatch

ENV AUDITWATCH_CONFIG=/app/config/auditwatch.yaml \
    AUDITWATCH_STATE_DIR=/app/var/state

CMD ["auditwatch", "worker"]
