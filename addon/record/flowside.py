"""What the proxy saw around an answer — request, status, headers, timing — onto its record.

Plain values in (`FlowFacts`, filled by the mitmproxy glue from a flow), so the rule for each
field lives here once and is tested without a proxy.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from addon.providers import PROVIDERS, Usage
from addon.record.model import JSON, Record
from addon.record.redact import Redactor
from addon.wire.jsonvalue import loads_exact


@dataclass(slots=True)
class FlowFacts:
    flow_id: str
    method: str
    url: str
    request_headers: list[tuple[str, str]]
    request_body: bytes | None
    """The request body as sent (decoded); None when it was not kept."""
    started: float
    request_body_note: str | None = None
    """Why the request body is missing, when it is."""
    status_code: int | None = None
    response_headers: list[tuple[str, str]] | None = None
    headers_at: float | None = None
    ended: float | None = None
    error: str | None = None
    error_at: float | None = None


@dataclass(slots=True)
class StreamTimes:
    """Wall-clock times a live rebuild saw; offline runs reuse the ones saved with the flow."""

    first_byte_at: float | None = None
    first_token_at: float | None = None


def apply_flow_error(record: Record, message: str | None) -> None:
    """The one rule for a flow that errored (client gone, upstream cut).

    An answer whose terminal event had arrived lost nothing — the openai SDK, for one, hangs up
    at `[DONE]`, often before the body's last framing — so it stays complete, with a warning.
    """
    if message is None:
        return
    if record.complete:
        record.warn(f"flow error after the answer was complete: {message}")
    else:
        record.fail(f"flow error: {message}", first=True)


def fill(
    record: Record,
    facts: FlowFacts,
    redactor: Redactor,
    times: StreamTimes | None = None,
    earlier_timing: JSON | None = None,
) -> Record:
    """Id, redacted request, status, response headers and timing, from the flow."""
    record.flow_id = facts.flow_id
    record.request = request_info(facts, redactor)
    if facts.request_body is None and facts.request_body_note:
        record.warn(facts.request_body_note)
    record.status_code = facts.status_code
    if facts.response_headers is not None:
        record.response_headers = redactor.header_items(facts.response_headers)
        usage_from_headers(record, facts.response_headers)
    usage = record.usage or {}
    record.timing = timing(
        facts, times or StreamTimes(), usage.get("output_tokens"), earlier_timing
    )
    return record


def usage_from_headers(record: Record, headers: list[tuple[str, str]]) -> None:
    """Token counts from the response headers where the API puts them and the body has none."""
    provider = PROVIDERS.get(record.provider)
    names = provider.usage_headers if provider is not None else None
    usage = record.usage or {}
    if names is None or usage.get("input_tokens") is not None:
        return
    values = {name.lower(): value for name, value in headers}
    counts = [values.get(name, "") for name in names]
    if all(c.isdigit() for c in counts):
        record.usage = {
            **Usage().as_dict(),
            **usage,
            "input_tokens": int(counts[0]),
            "output_tokens": int(counts[1]),
        }
        record.warn(f"usage from the response headers {', '.join(names)}")


def request_info(facts: FlowFacts, redactor: Redactor) -> JSON:
    raw = facts.request_body or b""
    body: Any
    try:
        body = redactor.body(loads_exact(raw)) if raw else None
    except ValueError:
        body = raw.decode("utf-8", "replace")
    return {
        "method": facts.method,
        "url": redactor.url(facts.url),
        "headers": redactor.header_items(facts.request_headers),
        "body": body,
    }


def _seconds(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def timing(
    facts: FlowFacts, times: StreamTimes, output_tokens: Any, earlier: JSON | None = None
) -> JSON:
    """Seconds from the request's start; a live rebuild knows the first byte and token,
    offline reuses what an earlier live run saved in the flow's metadata, so both agree."""
    earlier = earlier or {}
    start = facts.started
    headers_at = facts.headers_at
    # A broken stream never ends: it stops when the flow errored (saved with the flow).
    end = facts.ended or facts.error_at or time.time()
    first_byte: float | None = None
    if times.first_byte_at:
        first_byte = times.first_byte_at - start
    elif earlier.get("time_to_first_byte") is not None:
        first_byte = earlier["time_to_first_byte"]
    elif headers_at:
        first_byte = headers_at - start
    if times.first_token_at is not None:
        # Rounded as it is saved, so an offline run derives the same tokens per second.
        first_token = _seconds(times.first_token_at - start)
    else:
        first_token = earlier.get("time_to_first_token")
    generating = end - start - first_token if first_token is not None else None
    tps = None
    if isinstance(output_tokens, int | float) and generating and generating > 0:
        tps = round(output_tokens / generating, 2)
    return {
        "started": start,
        "time_to_headers": _seconds(headers_at - start if headers_at else None),
        "time_to_first_byte": _seconds(first_byte),
        "time_to_first_token": _seconds(first_token),
        "duration": _seconds(end - start),
        "output_tokens": output_tokens,
        "tokens_per_second": tps,
    }
