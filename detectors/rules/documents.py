"""One YAML document of a rule file, parsed with pySigma and located in its file.

pySigma's ``SigmaRule``, ``SigmaCorrelationRule`` and ``SigmaLogSource`` parse
what Sigma defines, with ``collect_errors`` so that every mistake is found.
Their errors carry no line, so each is mapped back to the key it is about
(``level``, ``correlation.timespan``...) and the YAML tree gives the line.
What Sigma does not define is checked here: unknown top-level keys (custom
keys must start with ``x-``), ``x-auditwatch`` options, and the two
correlation types of our own.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError
from sigma import exceptions as sx
from sigma.correlations import (
    SigmaCorrelationCondition,
    SigmaCorrelationConditionOperator,
    SigmaCorrelationRule,
    SigmaExtendedCorrelationCondition,
)
from sigma.rule import SigmaLogSource, SigmaRule

from detectors.events import Severity
from detectors.rules.logsource import Logsource
from detectors.rules.model import (
    NewTermsSpec,
    OverrideDocument,
    SequenceSpec,
    SequenceStep,
    StreamingOptions,
    sigma_level_to_severity,
)
from detectors.yamlsource import SourceProblem, YamlDocument, problems_from_validation

__all__ = [
    "CorrelationSource",
    "CorrelationSpec",
    "DetectionSource",
    "OverrideSource",
    "ParsedDocuments",
    "RuleMeta",
    "parse_document",
]

Path = tuple[str | int, ...]

_COMMON_KEYS = frozenset(
    {
        "title", "id", "name", "related", "taxonomy", "status", "description", "license", "author",
        "references", "date", "modified", "tags", "falsepositives", "level", "fields", "scope",
        "simulation", "regression_tests_path",
    }
)  # fmt: skip
_DETECTION_KEYS = _COMMON_KEYS | {"logsource", "detection"}
_CORRELATION_KEYS = _COMMON_KEYS | {"correlation"}
_EXTENSION = "x-auditwatch"

# Which key of the document each pySigma error is about.
_ERROR_KEYS: dict[type[sx.SigmaError], Path] = {
    sx.SigmaIdentifierError: ("id",),
    sx.SigmaTitleError: ("title",),
    sx.SigmaLevelError: ("level",),
    sx.SigmaStatusError: ("status",),
    sx.SigmaDateError: ("date",),
    sx.SigmaModifiedError: ("modified",),
    sx.SigmaTagError: ("tags",),
    sx.SigmaRelatedError: ("related",),
    sx.SigmaLogsourceError: ("logsource",),
    sx.SigmaFieldsError: ("fields",),
    sx.SigmaFalsePositivesError: ("falsepositives",),
    sx.SigmaAuthorError: ("author",),
    sx.SigmaDescriptionError: ("description",),
    sx.SigmaReferencesError: ("references",),
    sx.SigmaScopeError: ("scope",),
    sx.SigmaLicenseError: ("license",),
    sx.SigmaNameError: ("name",),
    sx.SigmaTaxonomyError: ("taxonomy",),
    sx.SigmaTimespanError: ("correlation", "timespan"),
    sx.SigmaCorrelationTypeError: ("correlation", "type"),
    sx.SigmaCorrelationConditionError: ("correlation", "condition"),
}
_DETECTION_ERRORS = (
    sx.SigmaDetectionError,
    sx.SigmaConditionError,
    sx.SigmaModifierError,
    sx.SigmaValueError,
    sx.SigmaRegularExpressionError,
)
SUPPORTED_CORRELATIONS = (
    "event_count",
    "value_count",
    "temporal",
    "temporal_ordered",
    "new_terms",
    "sequence",
)


@dataclass(frozen=True)
class RuleMeta:
    """What every rule has, whatever its kind."""

    key: str
    id: str | None
    name: str | None
    title: str
    description: str | None
    level: str
    status: str | None
    tags: tuple[str, ...]
    falsepositives: tuple[str, ...]
    options: StreamingOptions
    document: YamlDocument
    fingerprint: str

    @property
    def file(self) -> str:
        return self.document.file

    @property
    def line(self) -> int:
        return self.document.start_line

    @property
    def severity(self) -> Severity:
        return self.options.severity or sigma_level_to_severity(self.level)

    @property
    def refs(self) -> set[str]:
        """The names other rules may use for this one: its name and id."""
        return {r for r in (self.name, self.id) if r}


@dataclass(frozen=True)
class CorrelationSpec:
    """A correlation of any supported type, in one shape."""

    type: str
    rules: tuple[str, ...]
    group_by: tuple[str, ...]
    timespan: int
    op: str = "gte"
    count: int = 1
    value_fields: tuple[str, ...] = ()
    aliases: dict[str, dict[str, str]] = field(default_factory=dict)
    generate: bool = False
    expression: str | None = None
    steps: tuple[SequenceStep, ...] = ()
    until: tuple[str, ...] = ()
    max_terms: int = 1000
    learn_new_groups: bool = True
    learning_period: int = 0

    @property
    def crossing(self) -> bool:
        """True when the condition fires as soon as it holds (gt, gte); else at the window's end."""
        return self.op in ("gt", "gte")

    @property
    def threshold(self) -> int:
        """The number that fires a crossing condition."""
        return max(1, self.count + 1 if self.op == "gt" else self.count)

    def holds(self, value: int) -> bool:
        return {
            "gt": value > self.count,
            "gte": value >= self.count,
            "lt": value < self.count,
            "lte": value <= self.count,
            "eq": value == self.count,
            "neq": value != self.count,
        }[self.op]


@dataclass
class DetectionSource:
    meta: RuleMeta
    logsource: Logsource
    detection: dict[str, Any]
    sigma: SigmaRule
    valid: bool = True
    """False when the rule has problems outside its detection (the detection is still checked)."""


@dataclass
class CorrelationSource:
    meta: RuleMeta
    spec: CorrelationSpec
    sigma: SigmaCorrelationRule | None


@dataclass
class OverrideSource:
    override: OverrideDocument
    document: YamlDocument


@dataclass
class ParsedDocuments:
    detections: list[DetectionSource] = field(default_factory=list)
    correlations: list[CorrelationSource] = field(default_factory=list)
    overrides: list[OverrideSource] = field(default_factory=list)
    placeholders: dict[str, list[str]] = field(default_factory=dict)
    problems: list[SourceProblem] = field(default_factory=list)
    references: list[tuple[YamlDocument, Path, str]] = field(default_factory=list)
    """Rule names used by correlations that could not be parsed: still checked, so that
    every mistake of a file is reported at once."""


def parse_document(document: YamlDocument, into: ParsedDocuments) -> None:
    """Parse one document into ``into``, adding every problem found with its line."""
    data = document.data
    problems = into.problems

    def problem(path: Path, message: str) -> None:
        where = ".".join(str(p) for p in path)
        text = f"{where}: {message}" if where else message
        problems.append(SourceProblem(document.file, document.line_of(path), text))

    if not isinstance(data, dict):
        problem((), "a rule must be a YAML map")
        return
    if "override" in data:
        _parse_override(document, into, problem)
        return
    if "placeholders" in data and "detection" not in data and "correlation" not in data:
        _parse_placeholders(document, into, problem)
        return
    if "action" in data and "detection" not in data and "correlation" not in data:
        problem(
            ("action",), "Sigma 'action' documents (global/repeat) are not supported; write each rule whole"
        )
        return
    if "filter" in data:
        problem(
            ("filter",), "Sigma filter documents are not supported; add x-auditwatch exceptions to the rule"
        )
        return
    if "correlation" in data:
        allowed = _CORRELATION_KEYS
    elif "detection" in data:
        allowed = _DETECTION_KEYS
    else:
        problem((), "a rule needs 'detection' (a Sigma rule) or 'correlation' (a Sigma correlation)")
        return
    for key in data:
        if key not in allowed and not str(key).startswith("x-"):
            problem((key,), "unknown key; check its spelling, or start custom keys with 'x-'")
    options = _options(document, problem)
    sigma_data = {k: v for k, v in data.items() if not str(k).startswith("x-")}
    if "correlation" in data:
        _parse_correlation(document, sigma_data, options, into, problem)
    else:
        _parse_detection(document, sigma_data, options, into, problem)


def _options(document: YamlDocument, problem: Any) -> StreamingOptions | None:
    raw = document.data.get(_EXTENSION, {})
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        problem((_EXTENSION,), "must be a map of options")
        return None
    try:
        return StreamingOptions.model_validate(raw)
    except ValidationError as exc:
        for found in problems_from_validation(document, exc, prefix=(_EXTENSION,)):
            problem_path_message(found, problem)
        return None


def problem_path_message(found: SourceProblem, problem: Any) -> None:
    """Re-emit a located pydantic problem through ``problem`` (keeps its own line)."""
    path_text, _, message = found.message.partition(": ")
    path: Path = tuple(int(p) if p.isdigit() else p for p in path_text.split("."))
    problem(path, message)


def _sigma_errors(errors: list[sx.SigmaError], problem: Any, *, skip_detection: bool) -> None:
    for error in errors:
        if skip_detection and isinstance(error, _DETECTION_ERRORS):
            continue
        path = _error_path(error)
        problem(path, _error_text(error))


def _error_path(error: sx.SigmaError) -> Path:
    for kind, path in _ERROR_KEYS.items():
        if isinstance(error, kind):
            return path
    text = _error_text(error).lower()
    if isinstance(error, sx.SigmaRuleNotFoundError):
        return ("correlation", "rules")
    if isinstance(error, sx.SigmaCorrelationRuleError):
        for word, key in (
            ("group-by", "group-by"),
            ("timespan", "timespan"),
            ("alias", "aliases"),
            ("generate", "generate"),
            ("rule reference", "rules"),
            ("condition", "condition"),
            ("field reference", "condition"),
        ):
            if word in text:
                return ("correlation", key)
        return ("correlation",)
    if isinstance(error, _DETECTION_ERRORS):
        return ("detection",)
    return ()


def _error_text(error: sx.SigmaError) -> str:
    return str(error.args[0]) if error.args else type(error).__name__


def _meta(document: YamlDocument, sigma: Any, options: StreamingOptions, fingerprint: str) -> RuleMeta:
    data = document.data
    name = data.get("name") if isinstance(data.get("name"), str) else None
    rule_id = str(data["id"]) if data.get("id") is not None else None
    title = str(data.get("title") or "")
    level = str(data.get("level") or "medium").lower()
    tags = tuple(str(t) for t in data.get("tags") or [] if isinstance(t, str))
    status = str(data["status"]) if data.get("status") is not None else None
    description = data.get("description") if isinstance(data.get("description"), str) else None
    positives = tuple(str(p) for p in data.get("falsepositives") or [] if isinstance(p, str))
    return RuleMeta(
        key=name or rule_id or title,
        id=rule_id,
        name=name,
        title=title,
        description=description,
        level=level,
        status=status,
        tags=tags,
        falsepositives=positives,
        options=options,
        document=document,
        fingerprint=fingerprint,
    )


def _fingerprint(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _window_options(options: StreamingOptions) -> dict[str, Any]:
    return options.model_dump(include={"time_field", "allowed_lateness", "window", "after_fire"})


def _parse_detection(
    document: YamlDocument,
    data: dict[str, Any],
    options: StreamingOptions | None,
    into: ParsedDocuments,
    problem: Any,
) -> None:
    sigma = SigmaRule.from_dict(data, collect_errors=True)
    _sigma_errors(sigma.errors, problem, skip_detection=True)
    logsource_data = data.get("logsource")
    logsource: Logsource | None = None
    if isinstance(logsource_data, dict):
        try:
            SigmaLogSource.from_dict(logsource_data)
            logsource = Logsource(
                logsource_data.get("category"), logsource_data.get("product"), logsource_data.get("service")
            )
            reason = logsource.problem()
            if reason:
                problem(("logsource", "category"), reason)
                logsource = None
        except sx.SigmaError:
            logsource = None  # reported through sigma.errors
    detection = data.get("detection")
    valid = (
        options is not None
        and logsource is not None
        and all(isinstance(e, _DETECTION_ERRORS) for e in sigma.errors)
    )
    options = options or StreamingOptions()
    fingerprint = _fingerprint(logsource_data, detection, _window_options(options))
    meta = _meta(document, sigma, options, fingerprint)
    body = detection if isinstance(detection, dict) else {}
    into.detections.append(DetectionSource(meta, logsource or Logsource(), body, sigma, valid))


def _parse_correlation(
    document: YamlDocument,
    data: dict[str, Any],
    options: StreamingOptions | None,
    into: ParsedDocuments,
    problem: Any,
) -> None:
    block = data.get("correlation")
    kind = block.get("type") if isinstance(block, dict) else None
    added = len(into.correlations)
    _parse_correlation_kind(document, data, options, into, problem, kind)
    if len(into.correlations) == added and isinstance(block, dict):
        _remember_references(document, block, into)


def _remember_references(document: YamlDocument, block: dict[str, Any], into: ParsedDocuments) -> None:
    rules = block.get("rules")
    if isinstance(rules, list):
        for index, ref in enumerate(rules):
            if isinstance(ref, str):
                into.references.append((document, ("correlation", "rules", index), ref))
    steps = block.get("steps")
    if isinstance(steps, list):
        for index, step in enumerate(steps):
            if isinstance(step, dict) and isinstance(step.get("rule"), str):
                into.references.append((document, ("correlation", "steps", index, "rule"), step["rule"]))


def _parse_correlation_kind(
    document: YamlDocument,
    data: dict[str, Any],
    options: StreamingOptions | None,
    into: ParsedDocuments,
    problem: Any,
    kind: Any,
) -> None:
    if kind in ("new_terms", "sequence"):
        _parse_extension(document, data, options, into, problem)
        return
    try:
        sigma = SigmaCorrelationRule.from_dict(data, collect_errors=True)
        errors = list(sigma.errors)
    except sx.SigmaError as exc:
        _sigma_errors([exc], problem, skip_detection=False)
        return
    if errors:
        for error in errors:
            if isinstance(error, sx.SigmaCorrelationTypeError):
                problem(
                    ("correlation", "type"),
                    f"{_error_text(error)}; supported: {', '.join(SUPPORTED_CORRELATIONS)}",
                )
            else:
                _sigma_errors([error], problem, skip_detection=False)
        return
    spec = _spec(sigma, problem)
    if spec is None or options is None:
        return
    fingerprint = _fingerprint(data["correlation"], _window_options(options))
    into.correlations.append(CorrelationSource(_meta(document, sigma, options, fingerprint), spec, sigma))


def _spec(sigma: SigmaCorrelationRule, problem: Any) -> CorrelationSpec | None:
    kind = sigma.type.name.lower()
    if kind not in SUPPORTED_CORRELATIONS:
        problem(
            ("correlation", "type"),
            f"correlation type {kind!r} is not supported; supported: {', '.join(SUPPORTED_CORRELATIONS)}",
        )
        return None
    condition = sigma.condition
    rules = tuple(r.reference for r in sigma.rules or [])
    aliases = sigma.aliases.to_dict()
    common = {
        "type": kind,
        "group_by": tuple(sigma.group_by or ()),
        "timespan": sigma.timespan.seconds,
        "aliases": aliases,
        "generate": sigma.generate,
    }
    if isinstance(condition, SigmaExtendedCorrelationCondition):
        expression = condition.expression
        if kind != "temporal" or " not " in f" {expression} " or expression.strip().startswith("not"):
            problem(
                ("correlation", "condition"),
                "an expression condition is supported for temporal correlations with 'and'/'or' only; "
                "for 'A not followed by B' write a sequence whose last step is absent",
            )
            return None
        referenced = tuple(condition.get_referenced_rules())
        return CorrelationSpec(rules=rules or referenced, expression=expression, **common)  # type: ignore[arg-type]
    assert isinstance(condition, SigmaCorrelationCondition)
    op = condition.op.name.lower()
    count = condition.count
    if not isinstance(count, int) or count < 0:
        problem(("correlation", "condition"), f"the count must be a whole number >= 0, not {count!r}")
        return None
    fields: tuple[str, ...] = ()
    if kind == "value_count":
        ref = condition.fieldref
        fields = tuple(ref) if isinstance(ref, list) else (str(ref),)
    elif condition.fieldref is not None:
        problem(("correlation", "condition", "field"), f"'field' belongs to value_count, not {kind}")
        return None
    if kind in ("temporal", "temporal_ordered") and condition.op not in (
        SigmaCorrelationConditionOperator.GTE,
        SigmaCorrelationConditionOperator.GT,
    ):
        problem(
            ("correlation", "condition"),
            f"a {kind} correlation fires when enough of its rules occur (gte/gt); for 'A not followed "
            "by B' write a sequence whose last step is absent",
        )
        return None
    if kind == "temporal_ordered" and count != len(rules):
        problem(
            ("correlation", "condition"),
            f"a temporal_ordered correlation needs all {len(rules)} rules in order",
        )
        return None
    return CorrelationSpec(rules=rules, op=op, count=count, value_fields=fields, **common)  # type: ignore[arg-type]


def _parse_extension(
    document: YamlDocument,
    data: dict[str, Any],
    options: StreamingOptions | None,
    into: ParsedDocuments,
    problem: Any,
) -> None:
    _, errors = SigmaCorrelationRule.from_dict_common_params(data, collect_errors=True)
    _sigma_errors(errors, problem, skip_detection=False)
    block = data["correlation"]
    model: type[NewTermsSpec] | type[SequenceSpec] = (
        NewTermsSpec if block["type"] == "new_terms" else SequenceSpec
    )
    try:
        parsed = model.model_validate(block)
    except ValidationError as exc:
        for found in problems_from_validation(document, exc, prefix=("correlation",)):
            problem_path_message(found, problem)
        return
    if errors or options is None:
        return
    common = {
        "group_by": tuple(parsed.group_by),
        "timespan": parsed.timespan,
        "aliases": parsed.aliases,
        "generate": parsed.generate,
    }
    if isinstance(parsed, NewTermsSpec):
        spec = CorrelationSpec(
            type="new_terms",
            rules=tuple(parsed.rules),
            value_fields=tuple(parsed.fields),
            max_terms=parsed.max_terms,
            learn_new_groups=parsed.learn_new_groups,
            learning_period=parsed.learning_period,
            **common,  # type: ignore[arg-type]
        )
    else:
        spec = CorrelationSpec(
            type="sequence",
            rules=tuple(dict.fromkeys([*parsed.rules, *parsed.until])),
            steps=tuple(parsed.steps),
            until=tuple(parsed.until),
            **common,  # type: ignore[arg-type]
        )
    fingerprint = _fingerprint(block, _window_options(options))
    into.correlations.append(CorrelationSource(_meta(document, None, options, fingerprint), spec, None))


def _parse_override(document: YamlDocument, into: ParsedDocuments, problem: Any) -> None:
    try:
        override = OverrideDocument.model_validate(document.data)
    except ValidationError as exc:
        for found in problems_from_validation(document, exc):
            problem_path_message(found, problem)
        return
    into.overrides.append(OverrideSource(override, document))


def _parse_placeholders(document: YamlDocument, into: ParsedDocuments, problem: Any) -> None:
    values = document.data["placeholders"]
    extra = [k for k in document.data if k != "placeholders" and not str(k).startswith("x-")]
    for key in extra:
        problem((key,), "unknown key in a placeholders document")
    if not isinstance(values, dict):
        problem(("placeholders",), "must map each placeholder name to a list of values")
        return
    for name, listed in values.items():
        items = listed if isinstance(listed, list) else [listed]
        if not items or not all(isinstance(v, str | int | float) for v in items):
            problem(("placeholders", name), "give a list of strings or numbers")
            continue
        if name in into.placeholders:
            problem(("placeholders", name), f"placeholder {name!r} is defined twice")
            continue
        into.placeholders[str(name)] = [str(v) for v in items]
