"""Property tests for the parsers of request headers: traceparent and x-forwarded-for."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from auditwatch_sdk.asgi import client_ip
from auditwatch_sdk.trace import TraceContext, parse_traceparent

hex_ids = st.text("0123456789abcdef", min_size=32, max_size=32).filter(lambda t: t != "0" * 32)
span_ids = st.text("0123456789abcdef", min_size=16, max_size=16).filter(lambda t: t != "0" * 16)


@given(st.text(max_size=80))
def test_any_header_parses_or_is_ignored(value: str) -> None:
    context = parse_traceparent(value)
    assert context is None or (len(context.trace_id), len(context.span_id)) == (32, 16)


@given(hex_ids, span_ids)
def test_a_valid_traceparent_round_trips(trace_id: str, span_id: str) -> None:
    context = TraceContext(trace_id, span_id)
    assert parse_traceparent(context.traceparent) == context
    assert parse_traceparent(context.traceparent.upper()) == context


TRUSTED = (ipaddress.ip_network("10.0.0.0/8"),)


@given(st.lists(st.ip_addresses(v=4).map(str), max_size=5), st.ip_addresses(v=4).map(str))
def test_client_ip_is_never_a_trusted_hop_unless_all_are(hops: list[str], peer: str) -> None:
    headers = {"x-forwarded-for": ", ".join(hops)}
    found = client_ip({"client": (peer, 1)}, headers, TRUSTED)
    assert found is not None
    if ipaddress.ip_address(peer) not in TRUSTED[0]:
        assert found == peer  # an untrusted peer's header is ignored
    elif any(ipaddress.ip_address(h) not in TRUSTED[0] for h in hops):
        assert ipaddress.ip_address(found) not in TRUSTED[0]
        assert found == next(h for h in reversed(hops) if ipaddress.ip_address(h) not in TRUSTED[0])


def test_garbage_in_the_header_stops_the_walk() -> None:
    headers = {"x-forwarded-for": "203.0.113.9, not-an-ip, 10.0.0.2"}
    assert client_ip({"client": ("10.0.0.1", 1)}, headers, TRUSTED) == "10.0.0.2"
    assert client_ip({}, headers, TRUSTED) is None
