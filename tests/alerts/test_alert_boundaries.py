"""The package boundary: what ``alerts`` may import, and what it offers."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import alerts

PACKAGE = Path(alerts.__file__).parent
FORBIDDEN_ROOTS = {"faust", "aiokafka", "mode", "pipeline"}


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_alerts_imports_only_the_finding_type_from_detectors() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) > 10

    for path in modules:
        imported = _imports(path)
        assert not {name.split(".")[0] for name in imported} & FORBIDDEN_ROOTS, path
        assert {n for n in imported if n.split(".")[0] == "detectors"} <= {"detectors.findings"}, (
            path
        )


def test_importing_alerts_loads_no_stream_runtime() -> None:
    code = (
        "import sys, alerts; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{sorted(FORBIDDEN_ROOTS)!r}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=PACKAGE.parent,
    )

    assert out.stdout.strip() == "[]"


def test_public_surface_is_importable() -> None:
    assert alerts.__all__ == sorted(alerts.__all__, key=lambda n: (n[0].islower(), n))
    for name in alerts.__all__:
        assert getattr(alerts, name) is not None
