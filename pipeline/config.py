"""The worker's configuration: a YAML file, then a few environment overrides.

The YAML file says how auditwatch behaves (topics, ingest, rules, sinks). The
environment says where it runs and holds every secret: sinks name the
variables that hold their URLs and keys, never the values. Every mistake in the
file is reported with its line and what to change, and unknown keys are errors.

Environment variables (all optional):

| variable                      | overrides            |
|-------------------------------|----------------------|
| ``AUDITWATCH_CONFIG``         | the config file path |
| ``AUDITWATCH_KAFKA_BOOTSTRAP``| ``kafka.bootstrap``  |
| ``AUDITWATCH_APP_ID``         | ``kafka.app_id``     |
| ``AUDITWATCH_PARTITIONS``     | ``kafka.partitions`` |
| ``AUDITWATCH_TOPIC_PREFIX``   | ``topics.prefix``    |
| ``AUDITWATCH_RULES_DIR``      | ``rules.dir``        |
| ``AUDITWATCH_DETECTORS_DIR``  | ``detectors.dir``    |
| ``AUDITWATCH_METRICS_PORT``   | ``metrics.port``     |
| ``AUDITWATCH_API_PORT``       | ``api.port``         |
| ``AUDITWATCH_STATE_DIR``      | ``kafka.state_dir``  |
| ``OTEL_EXPORTER_OTLP_ENDPOINT``| ``tracing.otlp_endpoint`` when the file leaves it null |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from alerts.config import AlertsConfig
from detectors.yamlsource import SourceProblem, load_yaml_documents, problems_from_validation
from pipeline.archive.config import ArchiveConfig
from pipeline.errors import ConfigError
from pipeline.formats import default_registry

__all__ = ["AuditwatchConfig", "IngestConfig", "default_config_path", "load_config"]

DEFAULT_CONFIG = Path("config/auditwatch.yaml")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class KafkaConfig(_Section):
    bootstrap: str = "127.0.0.1:9092"
    app_id: str = Field(default="auditwatch", pattern=r"^[A-Za-z0-9._-]+$")
    partitions: int = Field(default=4, ge=1, le=1024)
    replication_factor: int = Field(default=1, ge=1)
    state_dir: Path = Path("var/state")


class TopicsConfig(_Section):
    prefix: str = ""
    raw: str = "audit.raw"
    events: str = "audit.events"
    dlq: str = "audit.dlq"
    alerts: str = "audit.alerts"
    alerts_dlq: str = "audit.alerts.dlq"
    alerts_routed: str = "audit.alerts.routed"  # alerts keyed by aggregation group, for the router
    silences: str = "audit.silences"  # compacted: the router's silences, by id
    alert_status: str = "audit.alerts.status"  # compacted: acknowledged/resolved, by alert id (the API)

    def name(
        self,
        topic: Literal[
            "raw", "events", "dlq", "alerts", "alerts_dlq", "alerts_routed", "silences", "alert_status"
        ],
    ) -> str:
        return f"{self.prefix}{getattr(self, topic)}"


def _pinned_format(name: str) -> str:
    return _check_format(name, allow_auto=False)


PinnedFormat = Annotated[str, AfterValidator(_pinned_format)]


class IngestConfig(_Section):
    format: str = Field(default="auto", description="auto, or one format for every source")
    formats: dict[str, PinnedFormat] = Field(
        default_factory=dict, description="glob of topic or file name -> format, first match wins"
    )
    default_timezone: str | None = Field(
        default=None, description="zone of sources whose timestamps have none; unset rejects them"
    )
    default_year: int | None = None
    max_record_bytes: int = Field(default=1024 * 1024, ge=1024)

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        return _check_format(value, allow_auto=True)


def _check_format(name: str, *, allow_auto: bool) -> str:
    known = default_registry().names
    if name in known or (allow_auto and name == "auto"):
        return name
    choices = ", ".join((["auto"] if allow_auto else []) + known)
    raise ValueError(f"unknown format {name!r}; use one of: {choices}")


class RulesConfig(_Section):
    dir: Path = Path("rules")


class DetectorsConfig(_Section):
    """The anomaly models (``detectors.models``): off unless a config turns them on.

    Off by default so a config written before the models existed keeps its
    behaviour and cost; ``config/auditwatch.yaml`` turns them on.
    """

    dir: Path = Path("detectors")
    enabled: bool = False


class MetricsConfig(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535, description="0 disables the metrics endpoint")
    sample_seconds: float = Field(
        default=5.0, gt=0, le=3600, description="how often lag, stalls and parked notifications are sampled"
    )
    stall_after_seconds: float = Field(
        default=60.0, gt=0, description="no progress this long while records wait: the partition is stalled"
    )


class TracingConfig(_Section):
    otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP base URL (spans go to <url>/v1/traces); null is off, "
        "unless OTEL_EXPORTER_OTLP_ENDPOINT is set",
    )
    service_name: str = Field(default="auditwatch", min_length=1)


class ApiConfig(_Section):
    """The worker's HTTP API (``pipeline.api``); off unless ``port`` is set."""

    host: str = "127.0.0.1"
    port: int = Field(default=0, ge=0, le=65535, description="0 disables the API")
    tokens_file: Path = Field(default=Path("var/api-tokens.json"), description="relative to the config file")
    anonymous: bool = Field(default=False, description="callers without a token get the viewer role (demos)")


class AuditwatchConfig(_Section):
    kafka: KafkaConfig = Field(default_factory=KafkaConfig)
    topics: TopicsConfig = Field(default_factory=TopicsConfig)
    ingest: IngestConfig = Field(default_factory=IngestConfig)
    rules: RulesConfig = Field(default_factory=RulesConfig)
    detectors: DetectorsConfig = Field(default_factory=DetectorsConfig)
    alerts: AlertsConfig = Field(default_factory=AlertsConfig)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    archive: ArchiveConfig = Field(default_factory=ArchiveConfig)
    api: ApiConfig = Field(default_factory=ApiConfig)
    tracing: TracingConfig = Field(default_factory=TracingConfig)


class _EnvOverrides(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="AUDITWATCH_", extra="ignore")

    kafka_bootstrap: str | None = None
    app_id: str | None = None
    partitions: int | None = None
    topic_prefix: str | None = None
    rules_dir: Path | None = None
    detectors_dir: Path | None = None
    metrics_port: int | None = None
    api_port: int | None = None
    state_dir: Path | None = None


def default_config_path(environ: Mapping[str, str] | None = None) -> Path | None:
    env = os.environ if environ is None else environ
    if env.get("AUDITWATCH_CONFIG"):
        return Path(env["AUDITWATCH_CONFIG"])
    return DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None


def load_config(path: Path | None = None) -> AuditwatchConfig:
    """The config from ``path`` (or the default), with environment overrides applied.

    Raises ``ConfigError`` naming the file, line and key for every problem.
    """
    path = path if path is not None else default_config_path()
    if path is None:
        config = AuditwatchConfig()
        base = Path.cwd()
    else:
        config = _load_file(path)
        base = path.resolve().parent
    config = _apply_env(config)
    if not config.rules.dir.is_absolute():
        config.rules.dir = base / config.rules.dir
    if not config.api.tokens_file.is_absolute():
        config.api.tokens_file = base / config.api.tokens_file
    if not config.detectors.dir.is_absolute():
        config.detectors.dir = base / config.detectors.dir
    if config.alerts.router is not None and not config.alerts.router.is_absolute():
        config.alerts = config.alerts.model_copy(update={"router": base / config.alerts.router})
    if config.alerts.router is not None:
        from pipeline.routerconfig import load_router

        load_router(config.alerts.router)  # a bad router config stops every command, with its lines
    return config


def _load_file(path: Path) -> AuditwatchConfig:
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found (set AUDITWATCH_CONFIG or pass --config)")
    loaded = load_yaml_documents(path)
    if isinstance(loaded, SourceProblem):
        raise ConfigError(str(loaded))
    if len(loaded) != 1 or not isinstance(loaded[0].data, dict):
        raise ConfigError(f"{path}: the config must be a single YAML map")
    document = loaded[0]
    try:
        return AuditwatchConfig.model_validate(document.data)
    except ValidationError as exc:
        problems = problems_from_validation(document, exc)
        raise ConfigError("invalid config:\n" + "\n".join(f"  {p}" for p in problems)) from None


def _apply_env(config: AuditwatchConfig) -> AuditwatchConfig:
    try:
        env = _EnvOverrides()
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        name = "AUDITWATCH_" + str(first["loc"][0]).upper()
        raise ConfigError(f"environment variable {name}: {first['msg']}") from None
    updates = {
        ("kafka", "bootstrap"): env.kafka_bootstrap,
        ("kafka", "app_id"): env.app_id,
        ("kafka", "partitions"): env.partitions,
        ("kafka", "state_dir"): env.state_dir,
        ("topics", "prefix"): env.topic_prefix,
        ("rules", "dir"): env.rules_dir,
        ("detectors", "dir"): env.detectors_dir,
        ("metrics", "port"): env.metrics_port,
        ("api", "port"): env.api_port,
    }
    for (section, key), value in updates.items():
        if value is not None:
            setattr(getattr(config, section), key, value)
    otlp = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", "").strip()
    if otlp and config.tracing.otlp_endpoint is None:
        config.tracing.otlp_endpoint = otlp  # the OpenTelemetry standard variable switches spans on
    return config
