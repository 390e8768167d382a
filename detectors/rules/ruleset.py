"""A loaded, compiled set of rules, and the loader that builds it from YAML files.

Loading checks everything a rule author can get wrong and reports each problem
with its file and line; a set with any problem is refused as a whole, so a
worker never runs half a rule set.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from detectors.errors import RuleLoadError
from detectors.events import Severity
from detectors.rules.model import (
    CorrelationDocument,
    DetectionDocument,
    sigma_level_to_severity,
)
from detectors.rules.selection import Predicate, SelectionError, compile_detection
from detectors.yamlsource import (
    SourceProblem,
    YamlDocument,
    load_yaml_documents,
    problems_from_validation,
)

__all__ = ["CompiledCorrelation", "CompiledDetection", "RuleSet", "load_ruleset"]

RULE_SUFFIXES = (".yml", ".yaml")


@dataclass(frozen=True)
class CompiledDetection:
    doc: DetectionDocument
    predicate: Predicate
    file: str
    line: int
    emits: bool

    @property
    def key(self) -> str:
        return self.doc.key

    @property
    def severity(self) -> Severity:
        return sigma_level_to_severity(self.doc.level)


@dataclass(frozen=True)
class CompiledCorrelation:
    doc: CorrelationDocument
    file: str
    line: int

    @property
    def key(self) -> str:
        return self.doc.key

    @property
    def severity(self) -> Severity:
        return sigma_level_to_severity(self.doc.level)


@dataclass(frozen=True)
class RuleSet:
    detections: list[CompiledDetection] = field(default_factory=list)
    correlations: list[CompiledCorrelation] = field(default_factory=list)

    def correlations_of(self, detection_key: str) -> list[CompiledCorrelation]:
        return [c for c in self.correlations if detection_key in c.doc.correlation.rules]

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


def load_ruleset(paths: Iterable[Path]) -> RuleSet:
    """Load and compile rules, or raise ``RuleLoadError`` listing every problem."""
    problems: list[SourceProblem] = []
    detections: list[tuple[DetectionDocument, YamlDocument]] = []
    correlations: list[tuple[CorrelationDocument, YamlDocument]] = []
    files = rule_files(paths)
    for path in files:
        if not path.exists():
            problems.append(SourceProblem(str(path), 0, "no such file or directory"))
            continue
        loaded = load_yaml_documents(path)
        if isinstance(loaded, SourceProblem):
            problems.append(loaded)
            continue
        for document in loaded:
            _parse_document(document, detections, correlations, problems)
    compiled = _compile(detections, correlations, problems)
    if problems:
        raise RuleLoadError(sorted(problems, key=lambda p: (p.file, p.line)))
    return compiled


def _parse_document(
    document: YamlDocument,
    detections: list[tuple[DetectionDocument, YamlDocument]],
    correlations: list[tuple[CorrelationDocument, YamlDocument]],
    problems: list[SourceProblem],
) -> None:
    data = document.data
    if not isinstance(data, dict):
        problems.append(SourceProblem(document.file, document.start_line, "a rule must be a YAML map"))
        return
    if "action" in data and "detection" not in data and "correlation" not in data:
        problems.append(
            SourceProblem(
                document.file,
                document.start_line,
                "Sigma 'action' documents (global/repeat) are not supported",
            )
        )
        return
    try:
        if "correlation" in data:
            correlations.append((CorrelationDocument.model_validate(data), document))
        elif "detection" in data:
            detections.append((DetectionDocument.model_validate(data), document))
        else:
            problems.append(
                SourceProblem(
                    document.file,
                    document.start_line,
                    "a rule needs 'detection' (a Sigma rule) or 'correlation' (a Sigma correlation)",
                )
            )
    except ValidationError as exc:
        problems.extend(problems_from_validation(document, exc))


def _compile(
    detections: list[tuple[DetectionDocument, YamlDocument]],
    correlations: list[tuple[CorrelationDocument, YamlDocument]],
    problems: list[SourceProblem],
) -> RuleSet:
    seen: dict[str, str] = {}
    for doc, source in [*detections, *correlations]:
        for ident in {doc.key, doc.id or doc.key}:
            where = f"{source.file}:{source.start_line}"
            if ident in seen:
                problems.append(
                    SourceProblem(
                        source.file,
                        source.start_line,
                        f"rule {ident!r} is defined twice (also at {seen[ident]})",
                    )
                )
            seen[ident] = where

    referenced: dict[str, bool] = {}
    keys = {d.key for d, _ in detections} | {d.id for d, _ in detections if d.id}
    compiled_correlations = []
    for doc, source in correlations:
        for index, name in enumerate(doc.correlation.rules):
            if name not in keys:
                problems.append(
                    SourceProblem(
                        source.file,
                        source.line_of(("correlation", "rules", index)),
                        f"correlation.rules: no detection rule named {name!r} "
                        f"(known: {', '.join(sorted(keys)) or 'none'})",
                    )
                )
            referenced[name] = referenced.get(name, False) or doc.correlation.generate
        compiled_correlations.append(CompiledCorrelation(doc, source.file, source.start_line))

    compiled_detections = []
    for doc, source in detections:
        try:
            predicate = compile_detection(doc.detection)
        except SelectionError as exc:
            problems.append(
                SourceProblem(source.file, source.line_of(exc.path), f"{'.'.join(map(str, exc.path))}: {exc}")
            )
            continue
        names = {doc.key, doc.id}
        in_correlation = any(n in referenced for n in names if n)
        generate = any(referenced.get(n, False) for n in names if n)
        emits = (
            doc.x_auditwatch.emit if doc.x_auditwatch.emit is not None else (not in_correlation or generate)
        )
        compiled_detections.append(CompiledDetection(doc, predicate, source.file, source.start_line, emits))
    return RuleSet(compiled_detections, compiled_correlations)
