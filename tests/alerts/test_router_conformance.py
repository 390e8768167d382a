"""Alertmanager's own routing and inhibition cases, through ``auditwatch routes test``.

The cases are transcribed in ``data/alertmanager_*_cases.json`` (see
``data/README.md``): route trees and alert labels from
``dispatch/route_test.go``, ``dispatch/dispatch_test.go`` and amtool's tests,
and inhibit rules with firing alerts from ``inhibit/inhibit_test.go``. Each
route case runs as ``routes test --verify.receivers=... label=value ...``,
and each inhibition case as a one-case ``routes test --cases`` file.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML
from typer.testing import CliRunner

from alerts.router import RouterSpec, parse_router_config
from alerts.router.matchers import go_quote
from pipeline.cli_routes import routes_app

DATA = Path(__file__).parent / "data"
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "conformance"
ROUTE_FILE = "alertmanager_route_cases.json"
INHIBIT_FILE = "alertmanager_inhibit_cases.json"
ROUTE_CASES: list[dict[str, Any]] = json.loads((DATA / ROUTE_FILE).read_text())
INHIBIT_CASES: list[dict[str, Any]] = json.loads((DATA / INHIBIT_FILE).read_text())

_yaml = YAML(typ="safe")


def _receivers(route: dict[str, Any]) -> set[str]:
    found = {route["receiver"]} if route.get("receiver") else set()
    for child in route.get("routes") or []:
        found |= _receivers(child)
    return found


def router_config(route_yaml: str) -> dict[str, Any]:
    """A router config around an Alertmanager route tree, with each receiver it names."""
    route = _yaml.load(io.StringIO(route_yaml))
    return {"route": route, "receivers": [{"name": name} for name in sorted(_receivers(route))]}


def write_config(tmp_path: Path, config: dict[str, Any]) -> Path:
    path = tmp_path / "router.yaml"
    path.write_text(json.dumps(config, indent=2))  # JSON is YAML
    return path


@pytest.mark.parametrize("name", [sorted_name for sorted_name in (c["name"] for c in ROUTE_CASES)])
def test_route_case_through_routes_test(name: str, tmp_path: Path) -> None:
    case = next(c for c in ROUTE_CASES if c["name"] == name)
    config = write_config(tmp_path, router_config(case["config_yaml"]))
    expected = ",".join(match["receiver"] for match in case["expected"])
    labels = [f"{label}={go_quote(value)}" for label, value in case["alert_labels"].items()]

    result = CliRunner().invoke(
        routes_app, ["test", "--config", str(config), f"--verify.receivers={expected}", *labels]
    )

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [expected]


@pytest.mark.parametrize("name", [c["name"] for c in ROUTE_CASES])
def test_route_case_options_keys_and_groups(name: str) -> None:
    case = next(c for c in ROUTE_CASES if c["name"] == name)
    spec = RouterSpec.of(parse_router_config(router_config(case["config_yaml"])))
    labels = case["alert_labels"]

    routes = spec.match(labels)

    assert len(routes) == len(case["expected"])
    for route, expected in zip(routes, case["expected"], strict=True):
        opts = route.opts
        assert opts.receiver == expected["receiver"]
        assert sorted(opts.group_by) == expected["group_by"]
        assert opts.group_by_all == expected["group_by_all"]
        assert route.continue_ == expected["continue"]
        assert opts.group_wait == expected["group_wait_s"]
        assert opts.group_interval == expected["group_interval_s"]
        assert opts.repeat_interval == expected["repeat_interval_s"]
        if "route_key" in expected:
            assert route.key() == expected["route_key"]
        if "route_id" in expected:
            assert route.id() == expected["route_id"]
        if "group_key" in expected:
            assert route.group_key(labels) == expected["group_key"]
        if "group_labels" in expected:
            assert opts.group_labels(labels) == expected["group_labels"]
        if "route_labels" in expected:
            assert dict(opts.labels) == expected["route_labels"]


@pytest.mark.parametrize("name", [c["name"] for c in INHIBIT_CASES])
def test_inhibit_case_through_routes_test_cases(name: str, tmp_path: Path) -> None:
    case = next(c for c in INHIBIT_CASES if c["name"] == name)
    config = _yaml.load(io.StringIO(case["config_yaml"]))
    config |= {"route": {"receiver": "default"}, "receivers": [{"name": "default"}]}
    cases = tmp_path / "cases.yaml"
    cases.write_text(
        json.dumps(
            {
                "cases": [
                    {
                        "name": case["name"],
                        "labels": case["candidate_alert"],
                        "firing": case["firing_alerts"],
                        "resolved": case.get("resolved_alerts", []),
                        "inhibited": case["expected_inhibited"],
                    }
                ]
            }
        )
    )

    result = CliRunner().invoke(
        routes_app, ["test", "--config", str(write_config(tmp_path, config)), "--cases", str(cases)]
    )

    assert result.exit_code == 0, result.output
    assert "1 cases, 0 failed" in result.output


def test_a_wrong_expectation_fails_with_exit_code_1(tmp_path: Path) -> None:
    case = next(c for c in ROUTE_CASES if c["name"] == "TestRouteMatch#5")
    config = write_config(tmp_path, router_config(case["config_yaml"]))

    result = CliRunner().invoke(
        routes_app,
        [
            "test",
            "--config",
            str(config),
            "--verify.receivers=notify-productionB",
            "owner=team-A",
            "env=production",
        ],
    )

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "notify-productionA,notify-productionB",
        "WARNING: Expected receivers did not match resolved receivers.",
    ]


@pytest.mark.parametrize("name", [ROUTE_FILE, INHIBIT_FILE])
def test_vector_copies_match_the_shared_conformance_files(name: str) -> None:
    # Fails, rather than skips, when shared/ is missing: the copy would then go unchecked.
    origin = SHARED / name
    assert origin.is_file(), f"{origin} is missing; clone shared/ next to the repository"
    assert json.loads(origin.read_text()) == json.loads((DATA / name).read_text())
