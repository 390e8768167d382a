"""The dashboard's files keep the rules that make its escaping and offline use hold.

The browser tests prove one hostile alert is shown as text; these check that
no file has a way to turn data into markup at all, and that nothing is
fetched from outside the worker (no CDN: the page must work offline).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pipeline.api.app import STATIC_DIR

SCRIPTS = sorted(STATIC_DIR.glob("*.js"))
MARKUP_SINKS = re.compile(
    r"\.(innerHTML|outerHTML)\s*[+]?=|insertAdjacentHTML|document\.write|\beval\s*\(|new\s+Function\s*\(|"
    r"createContextualFragment|DOMParser"
)


def test_the_page_loads_every_script_it_ships_and_nothing_from_elsewhere() -> None:
    page = (STATIC_DIR / "index.html").read_text()
    loaded = re.findall(r'<script src="([^"]+)"', page)
    assert sorted(loaded) == sorted(f"/static/{path.name}" for path in SCRIPTS)
    for url in re.findall(r'(?:src|href)="([^"]+)"', page):
        assert url.startswith("/static/"), f"{url} is not served by the worker"
    assert not re.search(r"<script(?![^>]*\bsrc=)", page), "inline script (the CSP forbids it)"
    assert "script-src 'self'" in page


@pytest.mark.parametrize("script", SCRIPTS, ids=[path.name for path in SCRIPTS])
def test_no_script_turns_strings_into_markup_or_code(script: Path) -> None:
    source = script.read_text()
    assert not MARKUP_SINKS.findall(source), f"{script.name} uses {MARKUP_SINKS.findall(source)}"
    assert "http://" not in source.replace("http://www.w3.org/2000/svg", "")
    assert "https://" not in source
