"""Sliding event-time windows for event_count correlations."""

from __future__ import annotations

from typing import Any

from detectors.rules.event_count import MAX_ENTRIES, update


def feed(
    times: list[float],
    *,
    span: float = 60,
    threshold: int = 5,
    lateness: float = 0,
    state: dict[str, Any] | None = None,
    ids: list[str] | None = None,
) -> tuple[dict[str, Any] | None, list[Any], int]:
    crossings = []
    late = 0
    for index, t in enumerate(times):
        event_id = ids[index] if ids else f"e{index}-{t}"
        result = update(
            state,
            time=t,
            event_id=event_id,
            correlation_id=None,
            evidence={"event_id": event_id},
            timespan=span,
            threshold=threshold,
            allowed_lateness=lateness,
        )
        state = result.state
        late += result.late
        if result.crossing:
            crossings.append(result.crossing)
    return state, crossings, late


def test_fires_once_when_the_fifth_event_falls_inside_the_window() -> None:
    _, crossings, _ = feed([0, 10, 20, 30, 40, 45, 50])
    assert len(crossings) == 1
    assert crossings[0].count == 5
    assert (crossings[0].start, crossings[0].end) == (0, 40)
    assert len(crossings[0].evidence) == 5


def test_the_window_slides_rather_than_tumbling() -> None:
    # 00:50..01:10 holds five events although no aligned minute does.
    _, crossings, _ = feed([50, 55, 60, 65, 70])
    assert len(crossings) == 1


def test_events_spread_wider_than_the_timespan_do_not_fire() -> None:
    _, crossings, _ = feed([0, 20, 40, 60, 80, 100, 120])
    assert crossings == []


def test_after_firing_the_next_alert_needs_five_new_events() -> None:
    _, crossings, _ = feed([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    assert [c.count for c in crossings] == [5, 5]
    assert crossings[1].start == 5


def test_late_event_within_the_allowance_still_counts() -> None:
    _, crossings, late = feed([30, 31, 32, 33, 10], lateness=30)
    assert late == 0
    assert len(crossings) == 1
    assert crossings[0].start == 10


def test_event_later_than_the_allowance_is_reported_late_and_not_counted() -> None:
    _, crossings, late = feed([100, 101, 102, 103, 10], lateness=30)
    assert late == 1
    assert crossings == []


def test_a_redelivered_event_counts_once() -> None:
    _, crossings, _ = feed([0, 1, 2, 3, 3], ids=["a", "b", "c", "d", "d"])
    assert crossings == []


def test_state_stays_bounded_under_a_flood() -> None:
    state, _, _ = feed(
        [float(i) / 1000 for i in range(MAX_ENTRIES + 500)], threshold=MAX_ENTRIES * 2, span=10**6
    )
    assert state is not None
    assert len(state["t"]) == MAX_ENTRIES
    assert len(state["ev"]) <= 10


def test_state_is_plain_json() -> None:
    import json

    state, _, _ = feed([0, 1, 2])
    assert json.loads(json.dumps(state)) == state
