"""Detector documents: YAML that declares a detector, checked like the rules.

A file under ``config/detectors/`` holds one or more documents, each with a
``detector`` key. Every key is checked; a typo is an error with its line.

``threshold`` is a calibrated score (see ``detectors.models.calibration``): it
means the same for every detector. ``0.9999`` alerts on what the detector's
recent normal produces about once in 10,000 points.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from detectors.events import Severity
from detectors.models.errors import DetectorConfigError
from detectors.models.features import FEATURES
from detectors.yamlsource import (
    SourceProblem,
    load_yaml_documents,
    problems_from_validation,
    register_union_tags,
)

__all__ = [
    "BehaviourSpec",
    "DetectorSpec",
    "RateSpec",
    "load_detector_specs",
    "parse_duration",
]

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(value: str | int | float) -> float:
    """``90s``, ``5m``, ``1h``, ``2d`` or a number of seconds, in seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    match = _DURATION.match(str(value))
    if match is None:
        raise ValueError(f"not a duration: {value!r}; write a number with s, m, h or d, such as 5m")
    return float(match.group(1)) * _UNITS[match.group(2)]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class HalfSpaceTreesParams(_Spec):
    type: Literal["half_space_trees"]
    n_trees: int = Field(15, ge=1, le=100)
    height: int = Field(8, ge=2, le=16)
    window_size: int = Field(250, ge=10)


class OneClassSVMParams(_Spec):
    type: Literal["one_class_svm"]
    nu: float = Field(0.05, gt=0, lt=1)


class RateParams(_Spec):
    type: Literal["holt_winters"] = "holt_winters"
    alpha: float = Field(0.2, gt=0, le=1)
    beta: float = Field(0.02, ge=0, le=1)
    gamma: float = Field(0.1, ge=0, le=1)
    clip: float = Field(3.0, gt=0)
    shift_run: int = Field(3, ge=1)


register_union_tags("half_space_trees", "one_class_svm")


class _Common(_Spec):
    name: str = Field(pattern=r"^[a-z0-9_.-]+$")
    title: str
    description: str | None = None
    level: Severity = Severity.MEDIUM
    events: dict[str, str | list[str]] = Field(
        default_factory=dict, description="field path -> value or list of values; all must match"
    )
    group_by: list[str] = Field(alias="group-by", min_length=1)
    seed: int = 42
    warm_up: int = Field(alias="warm-up", ge=0)
    threshold: float = Field(0.9999, gt=0.5, lt=1.0)
    cooldown: float = Field(3600.0, description="seconds between two alerts for one entity")
    enabled: bool = True

    @field_validator("level", mode="before")
    @classmethod
    def _level(cls, value: Any) -> Severity:
        return Severity.parse(value)

    @field_validator("cooldown", mode="before")
    @classmethod
    def _cooldown(cls, value: Any) -> float:
        return parse_duration(value)


class BehaviourSpec(_Common):
    type: Literal["behaviour"]
    features: list[str] = Field(default_factory=lambda: list(FEATURES))
    model: Annotated[HalfSpaceTreesParams | OneClassSVMParams, Field(discriminator="type")]

    @field_validator("features")
    @classmethod
    def _features(cls, value: list[str]) -> list[str]:
        unknown = [name for name in value if name not in FEATURES]
        if unknown:
            raise ValueError(f"unknown feature(s) {', '.join(unknown)}; known: {', '.join(FEATURES)}")
        return value


class RateSpec(_Common):
    type: Literal["rate"]
    interval: float = Field(300.0, description="seconds per counting interval")
    season: int = Field(0, ge=0, description="intervals per seasonal period (0: not seasonal)")
    direction: Literal["both", "up", "down"] = Field("both", description="alert on rises, falls or both")
    model: RateParams = RateParams()

    @field_validator("interval", mode="before")
    @classmethod
    def _interval(cls, value: Any) -> float:
        return parse_duration(value)


DetectorSpec = Annotated[BehaviourSpec | RateSpec, Field(discriminator="type")]
register_union_tags("behaviour", "rate")


class _Document(_Spec):
    detector: DetectorSpec


def detector_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml")))
        else:
            files.append(path)
    return files


def load_detector_specs(paths: list[Path], include_disabled: bool = False) -> list[BehaviourSpec | RateSpec]:
    """Every enabled (or, with ``include_disabled``, every) detector declared in the files given.

    Raises ``DetectorConfigError`` listing every problem with its file and line.
    """
    problems: list[SourceProblem] = []
    specs: list[BehaviourSpec | RateSpec] = []
    for path in detector_files(paths):
        loaded = load_yaml_documents(path)
        if isinstance(loaded, SourceProblem):
            problems.append(loaded)
            continue
        for document in loaded:
            try:
                specs.append(_Document.model_validate(document.data).detector)
            except ValidationError as exc:
                problems.extend(problems_from_validation(document, exc))
    names = [spec.name for spec in specs]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(SourceProblem("detectors", 0, f"detector name {name!r} is declared twice"))
    if problems:
        listing = "\n".join(f"  {p}" for p in problems)
        raise DetectorConfigError(f"{len(problems)} problem(s) in the detectors:\n{listing}")
    return [spec for spec in specs if spec.enabled or include_disabled]
