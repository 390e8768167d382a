"""Time intervals, silences and inhibition: the three muters, one interface."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from alerts.router.config import InhibitRuleConfig
from alerts.router.inhibit import ActiveAlerts, Inhibitor, InhibitRule
from alerts.router.mute import Muter, TimeMuter, first_reason
from alerts.router.silence import Silence, Silencer, Silences, new_silence
from alerts.router.timeinterval import TimeIntervalConfig, TimeIntervalSpec

NOW = datetime(2024, 5, 1, 10, 0, tzinfo=UTC)  # a Wednesday


def spec(**fields: object) -> TimeIntervalSpec:
    return TimeIntervalSpec.model_validate(fields)


@pytest.mark.parametrize(
    ("fields", "moment", "inside"),
    [
        ({"weekdays": ["monday:friday"]}, NOW, True),
        ({"weekdays": ["saturday", "sunday"]}, NOW, False),
        ({"weekdays": ["sunday"]}, datetime(2024, 5, 5, 12, tzinfo=UTC), True),
        ({"times": [{"start_time": "09:00", "end_time": "10:00"}]}, NOW, False),  # end excluded
        ({"times": [{"start_time": "09:00", "end_time": "10:01"}]}, NOW, True),
        (
            {"times": [{"start_time": "22:00", "end_time": "24:00"}]},
            datetime(2024, 5, 1, 23, 59, tzinfo=UTC),
            True,
        ),
        ({"days_of_month": ["-1"]}, datetime(2024, 2, 29, tzinfo=UTC), True),  # leap year's last day
        ({"days_of_month": ["-1"]}, datetime(2024, 2, 28, tzinfo=UTC), False),
        ({"days_of_month": ["1:5", "-3:-1"]}, datetime(2024, 4, 29, tzinfo=UTC), True),
        ({"days_of_month": ["31"]}, datetime(2024, 4, 30, tzinfo=UTC), False),
        ({"months": ["may:august"]}, NOW, True),
        ({"months": ["1", "december"]}, NOW, False),
        ({"years": ["2023:2024"]}, NOW, True),
        ({"years": ["2025"]}, NOW, False),
        # 10:00 UTC is 12:00 in Berlin (summer time).
        ({"times": [{"start_time": "12:00", "end_time": "13:00"}], "location": "Europe/Berlin"}, NOW, True),
        ({"times": [{"start_time": "10:00", "end_time": "11:00"}], "location": "Europe/Berlin"}, NOW, False),
        ({}, NOW, True),
    ],
)
def test_time_interval_entries(fields: dict[str, object], moment: datetime, inside: bool) -> None:
    assert spec(**fields).contains(moment) is inside


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"weekdays": ["funday"]}, "is not a weekday"),
        ({"weekdays": ["friday:monday"]}, "runs forward"),
        ({"times": [{"start_time": "10:00", "end_time": "09:00"}]}, "before end_time"),
        ({"times": [{"start_time": "9:00", "end_time": "10:00"}]}, "HH:MM"),
        ({"days_of_month": ["0"]}, "not a day of the month"),
        ({"months": ["13"]}, "not a month"),
        ({"location": "Mars/Olympus"}, "not a time zone"),
    ],
)
def test_bad_time_intervals_say_why(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        spec(**fields)


def test_time_muter_mutes_in_mute_intervals_and_outside_active_ones() -> None:
    intervals = {
        "weekends": TimeIntervalConfig(
            name="weekends", time_intervals=[spec(weekdays=["saturday", "sunday"])]
        ),
        "office": TimeIntervalConfig(
            name="office", time_intervals=[spec(times=[{"start_time": "08:00", "end_time": "18:00"}])]
        ),
    }
    saturday = datetime(2024, 5, 4, 10, tzinfo=UTC)
    assert TimeMuter(["weekends"], [], intervals).mutes({}, saturday) == "muted: time interval 'weekends'"
    assert TimeMuter(["weekends"], [], intervals).mutes({}, NOW) is None
    assert TimeMuter([], ["office"], intervals).mutes({}, NOW) is None
    night = NOW.replace(hour=22)
    assert TimeMuter([], ["office"], intervals).mutes({}, night) == (
        "muted: outside the active time intervals office"
    )


def silence(**overrides: object) -> Silence:
    fields: dict[str, object] = {
        "matchers": ['entity="actor.id=alice"'],
        "starts_at": NOW - timedelta(minutes=1),
        "ends_at": NOW + timedelta(hours=1),
        "created_by": "bob",
        "comment": "pentest",
        "now": NOW,
    }
    fields.update(overrides)
    return new_silence(**fields)  # type: ignore[arg-type]


def test_silence_states_and_expiry() -> None:
    active = silence()
    pending = silence(starts_at=NOW + timedelta(hours=1), ends_at=NOW + timedelta(hours=2))
    assert (active.state(NOW), pending.state(NOW)) == ("active", "pending")
    assert active.expired(NOW).state(NOW) == "expired"
    expired_pending = pending.expired(NOW)
    assert expired_pending.starts_at == expired_pending.ends_at == NOW
    assert active.expired(NOW).expired(NOW + timedelta(hours=5)) == active.expired(NOW)


def test_silencer_mutes_only_while_active_and_matching() -> None:
    store = Silences([silence(), silence(matchers=['severity="low"'], silence_id="low")])
    silencer = Silencer(store)
    assert silencer.mutes({"entity": "actor.id=alice"}, NOW) is not None
    assert silencer.mutes({"entity": "actor.id=bob"}, NOW) is None
    assert silencer.mutes({"entity": "actor.id=alice"}, NOW + timedelta(hours=2)) is None
    assert silencer.mutes({"severity": "low"}, NOW) == "silenced by low"


def test_the_latest_version_of_a_silence_wins() -> None:
    original = silence(silence_id="s1")
    expired = original.expired(NOW + timedelta(minutes=5))
    store = Silences([expired, original])  # replayed out of order
    assert store.get("s1") == expired


@pytest.mark.parametrize(
    ("matchers", "message"),
    [
        ([], "at least 1 item"),
        (['team=~".*"'], "must not match the empty string"),
        (["nonsense"], "is not a matcher"),
    ],
)
def test_a_silence_must_mute_something_specific(matchers: list[str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        silence(matchers=matchers)


def test_silence_json_round_trip() -> None:
    original = silence()
    assert Silence.from_json_bytes(original.to_json_bytes()) == original


def test_inhibitor_forgets_resolved_sources_and_all_muters_share_one_interface() -> None:
    rule = InhibitRule.of(
        InhibitRuleConfig.model_validate(
            {
                "source_matchers": ['severity="critical"'],
                "target_matchers": ['severity="high"'],
                "equal": ["entity"],
            }
        )
    )
    active = ActiveAlerts([rule])
    active.add("src", {"severity": "critical", "entity": "e1"}, NOW + timedelta(minutes=5))
    active.add("other", {"severity": "low"}, NOW + timedelta(minutes=5))
    assert len(active) == 1  # only alerts matching a rule's source side are kept
    muters: list[Muter] = [Inhibitor(active), Silencer(Silences())]
    assert first_reason(muters, {"severity": "high", "entity": "e1"}, NOW) == "inhibited by src (rule 0)"
    assert first_reason(muters, {"severity": "high", "entity": "e2"}, NOW) is None
    later = NOW + timedelta(minutes=6)
    assert first_reason(muters, {"severity": "high", "entity": "e1"}, later) is None
    assert active.prune(later) == 1
