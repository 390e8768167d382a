"""``auditwatch worker``: create the topics, then run the Faust worker."""

from __future__ import annotations

import asyncio
import logging
import sys

from pipeline.app import create_app
from pipeline.config import AuditwatchConfig
from pipeline.metrics import serve_metrics
from pipeline.stages import build_stages
from pipeline.topics import ensure_topics, pipeline_topics

__all__ = ["run_worker"]


def run_worker(config: AuditwatchConfig, loglevel: str = "info") -> None:
    """Run until stopped. Rules are loaded (and refused) before Kafka is touched."""
    stages = build_stages(config)
    asyncio.run(ensure_topics(config.kafka.bootstrap, pipeline_topics(config)))
    serve_metrics(config.metrics.host, config.metrics.port)
    app = create_app(config, stages)
    # aiokafka logs every produced record at DEBUG; building those log records cost ~7%.
    logging.getLogger("aiokafka").setLevel(logging.WARNING if loglevel != "debug" else logging.DEBUG)
    sys.argv = [sys.argv[0], "worker", "--loglevel", loglevel, "--without-web"]
    app.main()
