"""YAML with line numbers, so that every config and rule error points at a line.

ruamel.yaml's round-trip loader remembers where each key and item stands. We
keep that tree next to the plain data and map a pydantic error location
(``("detection", "selection", "outcome")``) back to ``file:line``. The
``pipeline`` package uses this for its own config too.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

__all__ = ["SourceProblem", "YamlDocument", "load_yaml_documents", "problems_from_validation"]


@dataclass(frozen=True)
class SourceProblem:
    """One thing wrong in a file, at a line (1-based; 0 when unknown)."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}" if self.line else f"{self.file}: {self.message}"


@dataclass(frozen=True)
class YamlDocument:
    """One YAML document: its plain data and where each part of it was written."""

    file: str
    data: Any
    tree: Any
    start_line: int

    def line_of(self, loc: Sequence[str | int]) -> int:
        """The 1-based line of the deepest part of ``loc`` that exists in the file."""
        node = self.tree
        line = self.start_line
        for part in loc:
            if isinstance(node, CommentedMap) and part in node:
                line = node.lc.key(part)[0] + 1
                node = node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
                line = node.lc.item(part)[0] + 1
                node = node[part]
            else:
                break
        return line


def _plain(node: Any) -> Any:
    """ruamel's commented containers as ordinary dicts and lists."""
    if isinstance(node, dict):
        return {
            str(k) if not isinstance(k, str | int | float | bool) else k: _plain(v) for k, v in node.items()
        }
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def load_yaml_documents(path: Path, text: str | None = None) -> list[YamlDocument] | SourceProblem:
    """Every document in a YAML file, or the syntax problem that stops the parse."""
    name = str(path)
    try:
        source = path.read_text(encoding="utf-8") if text is None else text
    except (OSError, UnicodeDecodeError) as exc:
        return SourceProblem(name, 0, f"cannot read the file: {exc}")
    yaml = YAML(typ="rt")
    try:
        trees = list(yaml.load_all(io.StringIO(source)))
    except MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else 0
        return SourceProblem(name, line, f"YAML syntax error: {exc.problem or exc}")
    except YAMLError as exc:
        return SourceProblem(name, 0, f"YAML error: {exc}")
    documents = []
    for tree in trees:
        if tree is None:
            continue
        start = tree.lc.line + 1 if isinstance(tree, CommentedMap | CommentedSeq) else 1
        documents.append(YamlDocument(name, _plain(tree), tree, start))
    return documents


def problems_from_validation(
    document: YamlDocument, exc: ValidationError, prefix: Sequence[str | int] = ()
) -> list[SourceProblem]:
    """One problem per pydantic error, each at the line of the offending key."""
    problems = []
    for error in exc.errors(include_url=False):
        loc = [*prefix, *(part for part in error["loc"] if not _is_union_tag(part))]
        path = ".".join(str(p) for p in loc) or "(document)"
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key; check its spelling or remove it"
        elif error["type"] == "missing":
            message = "required key is missing"
        problems.append(SourceProblem(document.file, document.line_of(loc), f"{path}: {message}"))
    return problems


def _is_union_tag(part: str | int) -> bool:
    """pydantic puts the discriminator's value in the error path; the file has no such key."""
    return isinstance(part, str) and (part.startswith("function-") or part in _UNION_TAGS)


_UNION_TAGS: set[str] = set()


def register_union_tags(*tags: str) -> None:
    """Tell error mapping which path parts are discriminator values, not keys."""
    _UNION_TAGS.update(tags)
