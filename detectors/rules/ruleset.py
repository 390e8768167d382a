"""A loaded, compiled set of rules, and the loader that builds it from YAML files.

Loading checks everything a rule author can get wrong and reports each problem
with its file and line; a set with any problem is refused as a whole, so a
worker never runs half a rule set. References between rules are resolved by
pySigma's ``SigmaCollection`` semantics: a correlation names the rules it
uses by ``name`` or ``id``, may use another correlation (chaining), and the
rules it uses do not alert on their own unless it says ``generate: true``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sigma.collection import SigmaCollection
from sigma.exceptions import SigmaError

from detectors.errors import RuleLoadError
from detectors.events import Severity
from detectors.rules.documents import (
    CorrelationSource,
    CorrelationSpec,
    DetectionSource,
    ParsedDocuments,
    RuleMeta,
    parse_document,
)
from detectors.rules.exceptions import CompiledException, compile_exceptions
from detectors.rules.fields import EventView
from detectors.rules.logsource import Logsource
from detectors.rules.model import ExceptionSpec
from detectors.rules.selection import Block, compile_block
from detectors.yamlsource import SourceProblem, YamlDocument, load_yaml_documents

__all__ = [
    "CompiledCorrelation",
    "CompiledDetection",
    "RuleSet",
    "load_ruleset",
    "rule_files",
    "sibling_detectors",
]

RULE_SUFFIXES = (".yml", ".yaml")


@dataclass(frozen=True)
class _CompiledRule:
    """What every compiled rule has: its metadata, and the key and severity from it."""

    meta: RuleMeta

    @property
    def key(self) -> str:
        return self.meta.key

    @property
    def severity(self) -> Severity:
        return self.meta.severity


@dataclass(frozen=True)
class CompiledDetection(_CompiledRule):
    """A Sigma detection rule, ready to test events."""

    logsource: Logsource
    block: Block
    emits: bool
    exceptions: tuple[CompiledException, ...] = ()

    @property
    def kind(self) -> str:
        return "detection"

    def matches(self, view: EventView) -> bool:
        """The detection holds and no exception covers the event."""
        if not self.block.match(view):
            return False
        return not any(exception.covers(view) for exception in self.exceptions)


@dataclass(frozen=True)
class CompiledCorrelation(_CompiledRule):
    """A correlation over other rules' matches."""

    spec: CorrelationSpec
    emits: bool
    exceptions: tuple[CompiledException, ...] = ()

    @property
    def kind(self) -> str:
        return self.spec.type

    @property
    def state_id(self) -> str:
        """Identifies this correlation's window state; changes when the correlation changes."""
        return self.meta.fingerprint


@dataclass(frozen=True)
class RuleSet:
    detections: list[CompiledDetection] = field(default_factory=list)
    correlations: list[CompiledCorrelation] = field(default_factory=list)
    _consumers: dict[str, list[CompiledCorrelation]] = field(default_factory=dict, repr=False)

    def consumers(self, key: str) -> list[CompiledCorrelation]:
        """The correlations that use the rule ``key`` (a detection or a correlation)."""
        return self._consumers.get(key, [])

    def correlations_of(self, key: str) -> list[CompiledCorrelation]:
        return self.consumers(key)

    def get(self, key: str) -> CompiledDetection | CompiledCorrelation | None:
        rules: list[CompiledDetection | CompiledCorrelation] = [*self.detections, *self.correlations]
        for rule in rules:
            if key in (rule.key, rule.meta.name, rule.meta.id):
                return rule
        return None

    @property
    def rules(self) -> list[CompiledDetection | CompiledCorrelation]:
        return [*self.detections, *self.correlations]

    def __len__(self) -> int:
        return len(self.detections) + len(self.correlations)


def rule_files(paths: Iterable[Path]) -> list[Path]:
    """Every rule file under the given files and directories, in a stable order."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in RULE_SUFFIXES and p.is_file()))
        else:
            found.append(path)
    return found


def load_ruleset(paths: Iterable[Path], detectors: Iterable[str] | None = None) -> RuleSet:
    """Load and compile rules, or raise ``RuleLoadError`` listing every problem.

    ``detectors`` are the names of the declared anomaly detectors: a correlation may use
    one like a rule, and the engine's ``observe`` feeds it that detector's findings. A
    name that is neither a rule nor a declared detector is still a problem. ``None``
    means the detectors declared next to the rules (``sibling_detectors``), so loading
    ``config/rules`` accepts the names in ``config/detectors``.
    """
    paths = list(paths)
    names = tuple(detectors) if detectors is not None else sibling_detectors(paths)
    parsed = ParsedDocuments()
    for path in rule_files(paths):
        if not path.exists():
            parsed.problems.append(SourceProblem(str(path), 0, "no such file or directory"))
            continue
        loaded = load_yaml_documents(path)
        if isinstance(loaded, SourceProblem):
            parsed.problems.append(loaded)
            continue
        for document in loaded:
            parse_document(document, parsed)
    ruleset = _assemble(parsed, names)
    if parsed.problems:
        raise RuleLoadError(sorted(parsed.problems, key=lambda p: (p.file, p.line, p.message)))
    return ruleset


def sibling_detectors(paths: Iterable[Path]) -> tuple[str, ...]:
    """The detectors declared in a ``detectors`` directory beside each rules directory.

    ``config/rules`` (or a file in it) finds ``config/detectors``. Broken detector files
    count as declaring nothing here: the models' own loading reports them.
    """
    from detectors.models.errors import DetectorConfigError
    from detectors.models.spec import load_detector_specs

    names: list[str] = []
    for path in paths:
        directory = (path if path.is_dir() else path.parent).resolve().parent / "detectors"
        if not directory.is_dir():
            continue
        try:
            names += [spec.name for spec in load_detector_specs([directory], include_disabled=True)]
        except DetectorConfigError:
            continue
    return tuple(dict.fromkeys(names))


def _problem(
    problems: list[SourceProblem], document: YamlDocument, path: tuple[str | int, ...], text: str
) -> None:
    where = ".".join(str(p) for p in path)
    problems.append(
        SourceProblem(document.file, document.line_of(path), f"{where}: {text}" if where else text)
    )


def _assemble(parsed: ParsedDocuments, detectors: tuple[str, ...] = ()) -> RuleSet:
    problems = parsed.problems
    rule_keys = _unique_keys(parsed, problems)
    # a rule of the same name as a detector wins: rules are what the author sees here
    keys = {**{name: name for name in detectors}, **rule_keys}
    blocks: dict[int, Block] = {}
    for source in parsed.detections:
        block, errors = compile_block(source.detection, parsed.placeholders)
        for error in errors:
            _problem(problems, source.meta.document, error.path, str(error))
        if block is not None and source.valid:
            blocks[id(source)] = block
    for document, path, ref in parsed.references:
        if ref not in keys:
            known = ", ".join(sorted(set(keys.values()))) or "none"
            _problem(problems, document, path, f"no rule named {ref!r} (known: {known})")
    exceptions = _exceptions(parsed, rule_keys, problems)
    specs = {id(c): _resolve(c, keys, problems) for c in parsed.correlations}
    _check_cycles(parsed.correlations, specs, keys, problems)
    if problems:
        return RuleSet()
    emitting = _emitting(parsed, specs)
    detections = [
        CompiledDetection(
            s.meta,
            s.logsource,
            blocks[id(s)],
            _emits(s.meta, emitting),
            tuple(exceptions.get(s.meta.key, ())),
        )
        for s in parsed.detections
        if id(s) in blocks
    ]
    correlations = []
    consumers: dict[str, list[CompiledCorrelation]] = {}
    for correlation_source in parsed.correlations:
        source_meta = correlation_source.meta
        spec = specs[id(correlation_source)]
        assert spec is not None
        compiled = CompiledCorrelation(
            source_meta, spec, _emits(source_meta, emitting), tuple(exceptions.get(source_meta.key, ()))
        )
        correlations.append(compiled)
        for rule in dict.fromkeys(spec.rules):
            consumers.setdefault(rule, []).append(compiled)
    return RuleSet(detections, correlations, consumers)


def _unique_keys(parsed: ParsedDocuments, problems: list[SourceProblem]) -> dict[str, str]:
    """Every name, id and key that refers to a rule, mapped to the rule's key."""
    seen: dict[str, RuleMeta] = {}
    for meta in [s.meta for s in parsed.detections] + [c.meta for c in parsed.correlations]:
        for ident in {meta.key, *meta.refs}:
            if ident in seen and seen[ident] is not meta:
                other = seen[ident]
                _problem(
                    problems,
                    meta.document,
                    (),
                    f"rule {ident!r} is defined twice (also at {other.file}:{other.line})",
                )
            seen.setdefault(ident, meta)
    return {ident: meta.key for ident, meta in seen.items()}


def _resolve(
    source: CorrelationSource, keys: dict[str, str], problems: list[SourceProblem]
) -> CorrelationSpec | None:
    spec = source.spec
    document = source.meta.document
    known = ", ".join(sorted({v for v in keys.values() if v != source.meta.key})) or "none"

    def lookup(ref: str, path: tuple[str | int, ...]) -> str | None:
        if ref in keys and keys[ref] != source.meta.key:
            return keys[ref]
        reason = "a correlation cannot use itself" if keys.get(ref) == source.meta.key else f"known: {known}"
        _problem(problems, document, path, f"no rule named {ref!r} ({reason})")
        return None

    if spec.type == "sequence":
        steps = [lookup(step.rule, ("correlation", "steps", i, "rule")) for i, step in enumerate(spec.steps)]
        until = [lookup(ref, ("correlation", "until", i)) for i, ref in enumerate(spec.until)]
        if None in steps or None in until:
            return None
        new_steps = tuple(s.model_copy(update={"rule": k}) for s, k in zip(spec.steps, steps, strict=True))
        resolved = [k for k in [*steps, *until] if k]
        return _replace(
            spec, rules=tuple(dict.fromkeys(resolved)), steps=new_steps, until=tuple(k for k in until if k)
        )
    path_of = (
        (lambda i: ("correlation", "condition"))
        if spec.expression
        else (lambda i: ("correlation", "rules", i))
    )
    rules = [lookup(ref, path_of(i)) for i, ref in enumerate(spec.rules)]
    if None in rules:
        return None
    aliases: dict[str, dict[str, str]] = {}
    for alias, mapping in spec.aliases.items():
        aliases[alias] = {}
        for ref, target in mapping.items():
            key = lookup(ref, ("correlation", "aliases", alias, ref))
            if key is not None:
                aliases[alias][key] = target
    expression = spec.expression
    if expression:
        for ref, key in zip(spec.rules, rules, strict=True):
            if key and key != ref:
                expression = _rename(expression, ref, key)
    return _replace(spec, rules=tuple(k for k in rules if k), aliases=aliases, expression=expression)


def _rename(expression: str, old: str, new: str) -> str:
    return " ".join(
        new if token == old else token for token in expression.replace("(", " ( ").replace(")", " ) ").split()
    )


def _replace(spec: CorrelationSpec, **changes: Any) -> CorrelationSpec:
    from dataclasses import replace

    return replace(spec, **changes)


def _check_cycles(
    correlations: list[CorrelationSource],
    specs: dict[int, CorrelationSpec | None],
    keys: dict[str, str],
    problems: list[SourceProblem],
) -> None:
    uses: dict[str, set[str]] = {}
    for c in correlations:
        spec = specs[id(c)]
        uses[c.meta.key] = set(spec.rules) if spec is not None else set()
    by_key = {c.meta.key: c for c in correlations}

    def reaches(start: str, target: str, seen: set[str]) -> bool:
        for used in uses.get(start, set()):
            if used == target or (used not in seen and reaches(used, target, seen | {used})):
                return True
        return False

    for key, source in by_key.items():
        if reaches(key, key, {key}):
            _problem(
                problems, source.meta.document, ("correlation",), "correlations use each other in a cycle"
            )


def _emitting(parsed: ParsedDocuments, specs: dict[int, CorrelationSpec | None]) -> dict[str, bool]:
    """Whether each rule alerts by itself, as pySigma's collection decides (``generate``)."""
    sigma_rules: list[Any] = [s.sigma for s in parsed.detections if s.valid]
    sigma_rules += [c.sigma for c in parsed.correlations if c.sigma is not None]
    output: dict[str, bool] = {}
    try:
        collection = SigmaCollection(sigma_rules, resolve_references=False)
        collection.resolve_rule_references()
        emitted = {id(rule) for rule in collection.get_output_rules()}
        sources: list[DetectionSource | CorrelationSource] = [*parsed.detections, *parsed.correlations]
        for item in sources:
            if item.sigma is not None:
                output[item.meta.key] = id(item.sigma) in emitted
    except SigmaError:
        pass  # references pySigma cannot follow (by title, or to our own rule kinds) are decided below
    for source in parsed.correlations:
        spec = specs[id(source)]
        if spec is None:
            continue
        for rule in spec.rules:
            if not spec.generate:
                output[rule] = False
            else:
                output.setdefault(rule, True)
    return output


def _emits(meta: RuleMeta, emitting: dict[str, bool]) -> bool:
    if meta.options.emit is not None:
        return meta.options.emit
    return emitting.get(meta.key, True)


def _exceptions(
    parsed: ParsedDocuments, keys: dict[str, str], problems: list[SourceProblem]
) -> dict[str, list[CompiledException]]:
    specs: dict[str, list[ExceptionSpec]] = {}
    metas = {s.meta.key: s.meta for s in parsed.detections} | {
        c.meta.key: c.meta for c in parsed.correlations
    }
    for key, meta in metas.items():
        specs[key] = [e.model_copy(deep=True) for e in meta.options.exceptions]
    for source in parsed.overrides:
        target = keys.get(source.override.override)
        if target is None:
            _problem(problems, source.document, ("override",), f"no rule named {source.override.override!r}")
            continue
        for index, raw in enumerate(source.override.exceptions):
            path: tuple[str | int, ...] = ("exceptions", index)
            existing = next((e for e in specs[target] if e.name == raw.get("name")), None)
            try:
                if existing is not None and set(raw) <= {"name", "values"}:
                    appended = ExceptionSpec.model_validate(
                        {**existing.model_dump(), "values": raw.get("values", [])}
                    )
                    existing.values.extend(appended.values)
                else:
                    specs[target].append(ExceptionSpec.model_validate(raw))
            except ValidationError as exc:
                first = exc.errors(include_url=False)[0]
                _problem(problems, source.document, path, str(first["msg"]).removeprefix("Value error, "))
    return {key: compile_exceptions(listed) for key, listed in specs.items() if listed}
