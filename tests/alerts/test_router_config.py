"""The router config: Alertmanager's syntax accepted, every mistake reported at its line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from alerts.integrations.config import SlackIntegrationConfig, WebhookIntegrationConfig
from pipeline.cli_routes import routes_app
from pipeline.errors import ConfigError
from pipeline.routerconfig import load_router, load_router_text

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "config" / "router.yaml"
SHIPPED_CASES = REPO / "config" / "router_cases.yaml"


def problems(text: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "router.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_router(path)
    lines = str(caught.value).splitlines()
    assert lines[0] == "invalid router config:"
    found = [line.strip().replace(f"{path}:", "") for line in lines[1:]]
    return sorted(found, key=lambda line: int(line.split(":")[0]))


def test_the_shipped_config_loads_and_its_cases_pass() -> None:
    spec = load_router(SHIPPED)
    assert [r.name for r in spec.config.receivers] == ["console", "secops-pager", "secops-slack"]
    result = CliRunner().invoke(routes_app, ["test", "--config", str(SHIPPED), "--cases", str(SHIPPED_CASES)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1].endswith("cases, 0 failed")


def test_an_alertmanager_route_tree_and_inhibit_rules_paste_as_is(tmp_path: Path) -> None:
    text = """
route:
  receiver: team-X-mails
  group_by: ['alertname', 'cluster', 'service']
  group_wait: 30s
  group_interval: 5m
  repeat_interval: 3h
  routes:
    - match_re:
        service: ^(foo1|foo2|baz)$
      receiver: team-X-mails
      routes:
        - match:
            severity: critical
          receiver: team-X-pager
    - matchers: [service="database"]
      receiver: team-DB-pager
      group_by: [alertname, cluster, database]
      mute_time_intervals: [offhours]
inhibit_rules:
  - source_match: {severity: critical}
    target_match: {severity: warning}
    equal: ['alertname', 'cluster', 'service']
mute_time_intervals:
  - name: offhours
    time_intervals:
      - times: [{start_time: '00:00', end_time: '08:00'}]
receivers:
  - name: team-X-mails
  - name: team-X-pager
  - name: team-DB-pager
"""
    spec = load_router_text(tmp_path / "am.yaml", text)
    assert [r.opts.receiver for r in spec.match({"service": "foo1", "severity": "critical"})] == [
        "team-X-pager"
    ]
    assert [r.opts.receiver for r in spec.match({"service": "database"})] == ["team-DB-pager"]
    assert len(spec.inhibit_rules) == 1
    assert "offhours" in spec.intervals


def test_typos_references_and_matchers_are_reported_with_their_lines(tmp_path: Path) -> None:
    found = problems(
        """route:
  receiver: default
  group_wiat: 30s
  routes:
    - matchers: ['severity=~"crit("']
      receiver: pager
    - match: {team: x}
      receiver: nope
      mute_time_intervals: [weekend]
receivers:
  - name: default
""",
        tmp_path,
    )
    assert found == [
        "3: route.group_wiat: unknown key; check its spelling or remove it",
        "5: route.routes.0.matchers.0: severity=~: invalid regular expression: "
        "missing ), unterminated subpattern at position 4",
    ]
    found = problems(
        """route:
  receiver: default
  routes:
    - match: {team: x}
      receiver: nope
      mute_time_intervals: [weekend]
receivers:
  - name: default
""",
        tmp_path,
    )
    assert found == [
        "5: route.routes.0.receiver: undefined receiver 'nope'; define it under receivers: "
        "(defined: default)",
        "6: route.routes.0.mute_time_intervals.0: undefined time interval 'weekend'",
    ]


def test_the_root_route_must_match_everything_and_have_a_receiver(tmp_path: Path) -> None:
    found = problems(
        """route:
  matchers: [a="1"]
  continue: true
receivers: [{name: x}]
""",
        tmp_path,
    )
    assert "1: route: the root route needs a receiver: the default for every alert" in found
    assert "1: route: the root route must not have matchers: it matches every alert" in found
    assert "3: route.continue: the root route cannot have continue" in found


def test_templates_are_checked_at_load_with_their_line(tmp_path: Path) -> None:
    found = problems(
        """route: {receiver: r}
receivers:
  - name: r
    slack_configs:
      - url_env: SLACK_URL
        title: "{{ alerts|length }} for {{ recever }}"
      - url_env: SLACK_URL
        text: "{% for a in alerts %}{{ a.summary }}"
""",
        tmp_path,
    )
    assert found[0] == "6: receivers.0.slack_configs.0.title: template error: 'recever' is undefined"
    assert found[1].startswith("8: receivers.0.slack_configs.1.text: template syntax error")


def test_a_template_may_read_any_label_but_not_a_misspelt_field() -> None:
    config = SlackIntegrationConfig(
        url_env="X", title="{{ common_labels.nonexistent }}{{ alerts[0].labels.x }}"
    )
    assert config.title is not None
    with pytest.raises(ValueError, match="has no attribute 'sumary'"):
        SlackIntegrationConfig(url_env="X", text="{{ alerts[0].sumary }}")


def test_a_sandboxed_template_cannot_reach_python_internals() -> None:
    with pytest.raises(ValueError, match="unsafe"):
        SlackIntegrationConfig(url_env="X", text="{{ alerts.__class__.__mro__ }}")


def test_secrets_pasted_inline_are_refused_without_echoing_them(tmp_path: Path) -> None:
    found = problems(
        """route: {receiver: r}
receivers:
  - name: r
    integrations:
      - type: webhook
        url: https://hooks.example.com/secret-path
        secret_env: S
""",
        tmp_path,
    )
    assert found == [
        "5: receivers.0.integrations.0: 'url' cannot be set in config: put the value in an environment "
        "variable and give that variable's name in 'url_env'"
    ]
    assert "secret-path" not in " ".join(found)


def test_integrations_in_both_forms_are_named_by_receiver_type_and_index(tmp_path: Path) -> None:
    spec = load_router_text(
        tmp_path / "r.yaml",
        """route: {receiver: r}
receivers:
  - name: r
    integrations:
      - {type: webhook, url_env: A, secret_env: B}
      - {type: console}
    webhook_configs:
      - {url_env: C, secret_env: D, max_alerts: 5}
""",
    )
    named = spec.receiver("r").all_integrations()
    assert [name for name, _ in named] == ["r/webhook/0", "r/console/0", "r/webhook/1"]
    assert isinstance(named[2][1], WebhookIntegrationConfig)
    assert named[2][1].max_alerts == 5


def test_go_template_files_are_refused_with_what_to_do_instead(tmp_path: Path) -> None:
    found = problems(
        "route: {receiver: r}\nreceivers: [{name: r}]\ntemplates: ['/etc/am/*.tmpl']\n", tmp_path
    )
    assert found[0].startswith("3: templates: Go template files are not supported")


def test_a_config_that_is_not_a_map_or_not_yaml(tmp_path: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(ConfigError, match="must be a single YAML map"):
        load_router(path)
    path.write_text("route: {receiver: [\n")
    with pytest.raises(ConfigError, match="YAML syntax error"):
        load_router(path)
    with pytest.raises(ConfigError, match="not found"):
        load_router(tmp_path / "missing.yaml")
