"""Label matchers and durations, as Alertmanager writes them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alerts.router.durations import format_duration, parse_duration
from alerts.router.matchers import (
    Matcher,
    MatchType,
    labelset_string,
    matchers_string,
    parse_matcher,
    parse_matchers,
    sort_matchers,
)


@pytest.mark.parametrize(
    ("text", "name", "op", "value"),
    [
        ('severity="critical"', "severity", "=", "critical"),
        ("service=database", "service", "=", "database"),
        ('env=~"produ.*"', "env", "=~", "produ.*"),
        ('baz!~".*quux"', "baz", "!~", ".*quux"),
        ('level != "critical"', "level", "!=", "critical"),
        ('actor.id="alice"', "actor.id", "=", "alice"),
        ('"odd name"="x"', "odd name", "=", "x"),
        (r'msg="say \"hi\"\n"', "msg", "=", 'say "hi"\n'),
        ('team=""', "team", "=", ""),
    ],
)
def test_parse_one_matcher(text: str, name: str, op: str, value: str) -> None:
    matcher = parse_matcher(text)
    assert (matcher.name, matcher.type.value, matcher.value) == (name, op, value)


def test_parse_braced_list_with_commas_inside_quotes() -> None:
    matchers = parse_matchers('{a="1,2", b=~"x|y", c!="}"}')
    assert [str(m) for m in matchers] == ['a="1,2"', 'b=~"x|y"', 'c!="}"']
    assert parse_matchers("{}") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("severity", "is not a matcher"),
        ('env=~"(unclosed"', "invalid regular expression"),
        ('env="open', "closing double quote"),
        ('{a="1"', "closing '}'"),
        ('a="1"}', "opening '{'"),
        ('a="\\q"', "unknown escape"),
    ],
)
def test_malformed_matchers_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_matchers(text)


def test_regex_is_anchored_and_a_missing_label_is_empty() -> None:
    prod = parse_matcher('env=~"prod"')
    assert prod.matches({"env": "prod"})
    assert not prod.matches({"env": "production"})
    assert not prod.matches({"env": "preprod"})
    assert parse_matcher('team=""').matches({})
    assert not parse_matcher('team!=""').matches({})
    assert parse_matcher('team!~"sre"').matches({})
    assert parse_matcher('team=~".*"').matches({})


def test_sorting_and_strings_follow_alertmanager() -> None:
    matchers = sort_matchers(parse_matchers('{owner="team-A", level!="critical"}'))
    assert matchers_string(matchers) == '{level!="critical",owner="team-A"}'
    assert str(Matcher("actor.id", MatchType.EQUAL, "a")) == '"actor.id"="a"'
    assert labelset_string({"b": 'x"y', "a": "1"}) == '{a="1", b="x\\"y"}'


label_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.]{0,10}", fullmatch=True)
values = st.text(max_size=20)


@given(name=label_names, value=values, op=st.sampled_from(["=", "!="]))
def test_printed_matchers_parse_back_to_themselves(name: str, value: str, op: str) -> None:
    matcher = Matcher(name, MatchType(op), value)
    assert parse_matcher(str(matcher)) == matcher


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("4h", 14400), ("1h30m", 5400), ("10ms", 0.01), ("1d", 86400), ("0", 0)],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds
    assert parse_duration(format_duration(seconds)) == seconds


@pytest.mark.parametrize("text", ["", "5", "5 m", "1m5h", "-1s", "1.5h"])
def test_bad_durations_name_the_form(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)
