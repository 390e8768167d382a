"""Read ``router.yaml`` and routing case files, with every problem at its file and line.

The models and checks live in :mod:`alerts.router`; this module adds the file:
YAML with line numbers (:mod:`detectors.yamlsource`) and messages that point
at the line to change::

    error: invalid router config:
      config/router.yaml:12: route.routes.0.receiver: undefined receiver 'pager'; ...
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from alerts.integrations.config import AM_CONFIG_KEYS
from alerts.router.cases import CaseFile
from alerts.router.config import RouterConfigError, parse_router_config
from alerts.router.spec import RouterSpec
from detectors.yamlsource import SourceProblem, YamlDocument, load_yaml_documents
from pipeline.errors import ConfigError

__all__ = ["load_cases", "load_router", "load_router_text"]

DEFAULT_ROUTER = Path("config/router.yaml")
_INTEGRATION_TYPES = frozenset(AM_CONFIG_KEYS.values())
M = TypeVar("M", bound=BaseModel)


def load_router(path: Path) -> RouterSpec:
    """The router described by ``path``; raises :class:`ConfigError` listing each problem's line."""
    if not path.is_file():
        raise ConfigError(f"{path}: router config not found")
    return load_router_text(path, None)


def load_router_text(path: Path, text: str | None) -> RouterSpec:
    """Like :func:`load_router`, for ``text`` said to come from ``path``."""
    document = _single_map(path, text, "router config")
    try:
        config = parse_router_config(document.data)
    except ValidationError as exc:
        raise ConfigError(_report("invalid router config", _validation_problems(document, exc))) from None
    except RouterConfigError as exc:
        problems = [SourceProblem(document.file, document.line_of(p.loc), str(p)) for p in exc.problems]
        raise ConfigError(_report("invalid router config", problems)) from None
    return RouterSpec.of(config)


def load_cases(path: Path) -> CaseFile:
    """A routing cases file (see :mod:`alerts.router.cases`)."""
    if not path.is_file():
        raise ConfigError(f"{path}: cases file not found")
    document = _single_map(path, None, "cases file")
    return _validate(CaseFile, document, "invalid cases file")


def _single_map(path: Path, text: str | None, what: str) -> YamlDocument:
    loaded = load_yaml_documents(path, text)
    if isinstance(loaded, SourceProblem):
        raise ConfigError(str(loaded))
    if len(loaded) != 1 or not isinstance(loaded[0].data, dict):
        raise ConfigError(f"{path}: the {what} must be a single YAML map")
    return loaded[0]


def _validate(model: type[M], document: YamlDocument, title: str) -> M:
    try:
        return model.model_validate(document.data)
    except ValidationError as exc:
        raise ConfigError(_report(title, _validation_problems(document, exc))) from None


def _report(title: str, problems: Sequence[SourceProblem]) -> str:
    return f"{title}:\n" + "\n".join(f"  {problem}" for problem in problems)


def _validation_problems(document: YamlDocument, exc: ValidationError) -> list[SourceProblem]:
    """One problem per pydantic error, at the line of the offending key.

    Like :func:`detectors.yamlsource.problems_from_validation`, but it drops
    the integration ``type`` pydantic puts in the path of a discriminated
    union (``receivers.0.integrations.1.slack.url_env``) only where it stands
    for a union member, so a real key of the same name is kept.
    """
    problems = []
    for error in exc.errors(include_url=False):
        loc = _without_tags(error["loc"])
        path = ".".join(str(part) for part in loc) or "(document)"
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key; check its spelling or remove it"
        elif error["type"] == "missing":
            message = "required key is missing"
        problems.append(SourceProblem(document.file, document.line_of(loc), f"{path}: {message}"))
    return problems


def _without_tags(loc: Sequence[Any]) -> list[str | int]:
    kept: list[str | int] = []
    for index, part in enumerate(loc):
        after_item = index >= 2 and loc[index - 2] == "integrations" and isinstance(loc[index - 1], int)
        if after_item and part in _INTEGRATION_TYPES:
            continue
        if isinstance(part, str) and part.startswith("function-"):
            continue
        kept.append(part)
    return kept
