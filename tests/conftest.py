"""Shared fixtures and builders: fake keys, flows, captures, and one stream builder per API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from mitmproxy import http, io
from mitmproxy.test import taddons, tflow

from addon.llm_rebuild import LLMRebuild
from addon.providers import PROVIDERS
from addon.proxy.capture import FlowCapture
from addon.proxy.flows import rebuild_response
from addon.record import AnswerRebuild
from tests.oracles import CORPUS

SECRET = "sk-ant-api03-TEST-SECRET-do-not-leak"
FLOWS_KEYS = ("sk-ant-api03-FAKE-flows-key-0000000000", "sk-proj-FAKE-flows-key-1111111111")
"""The fake credentials `flows/make_flows.py` puts into the sample captures."""
STREAM = (CORPUS / "sdk/anthropic/tool_use_response.sse").read_bytes()
CAPTURE = Path(__file__).resolve().parent.parent / "flows" / "llm.flow"
"""Every sample capture of `flows/make_flows.py` in one file."""


LLM_FLOWS_IN_CAPTURE = sum(len(p.samples) for p in PROVIDERS.values()) + 2
"""LLM calls in `CAPTURE`: one per provider sample, a plain JSON answer and an HTTP 429."""


def read_flows(path: Path = CAPTURE) -> list[http.HTTPFlow]:
    """The flows of a capture file, as `mitmdump -r` loads them."""
    with path.open("rb") as file:
        return [f for f in io.FlowReader(file).stream() if isinstance(f, http.HTTPFlow)]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Everything under tests/live starts processes, everything under tests/web a browser:
    `-m "not live and not browser"` is the quick loop."""
    for item in items:
        parts = item.path.parts
        if "live" in parts:
            item.add_marker(pytest.mark.live)
        elif "web" in parts:
            item.add_marker(pytest.mark.browser)


# Flows ---------------------------------------------------------------------------------------


def llm_flow(
    body: bytes = STREAM,
    content_type: str = "text/event-stream",
    status: int = 200,
    host: str = "api.anthropic.com",
    path: str = "/v1/messages",
    method: str = "POST",
    headers: dict[str, str] | None = None,
) -> http.HTTPFlow:
    """A finished flow as loaded from a capture (`live` off); live tests switch it on."""
    flow = tflow.tflow(resp=True)
    flow.live = False
    flow.request.host = host
    flow.request.port = 443
    flow.request.scheme = "https"
    flow.request.path = path
    flow.request.method = method
    flow.request.headers["x-api-key"] = SECRET
    flow.request.headers["content-type"] = "application/json"
    flow.request.content = json.dumps({"model": "claude", "stream": True}).encode()
    flow.response = http.Response.make(status, b"", {"content-type": content_type})
    flow.response.headers.update(headers or {})
    flow.response.raw_content = body  # as it came off the wire (still content-encoded)
    flow.response.timestamp_start = flow.request.timestamp_start + 0.1
    flow.response.timestamp_end = flow.request.timestamp_start + 0.5
    return flow


def streaming_flow(addon: LLMRebuild, **kwargs: Any) -> http.HTTPFlow:
    """An LLM flow whose response headers just arrived live: the addon has set its tee."""
    flow = llm_flow(**kwargs)
    flow.live = True
    flow.response.content = None
    addon.responseheaders(flow)
    return flow


def capture(
    provider: str,
    content_encoding: str = "",
    content_type: str = "text/event-stream",
    **kwargs: Any,
) -> FlowCapture:
    """A live tee for one answer, as the addon sets it on a flow."""
    return FlowCapture(AnswerRebuild(provider, content_type, content_encoding), **kwargs)


def rebuilt(provider: str, flow: http.HTTPFlow) -> dict[str, Any]:
    """The record JSON of a rebuild of the flow's response body (no flow side filled)."""
    record = rebuild_response(flow, PROVIDERS[provider])
    assert record is not None
    return record.to_json()


def dumps_in(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


@pytest.fixture
def addon_ctx(tmp_path: Path) -> Iterator[tuple[LLMRebuild, taddons.context, Path]]:
    """The addon in mitmproxy's test context, dumping into a fresh folder."""
    addon = LLMRebuild()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, llm_dump_dir=str(tmp_path / "dumps"))
        yield addon, tctx, tmp_path / "dumps"


# Streams, one builder per API ------------------------------------------------------------------


def scramble(value: Any) -> None:
    """Empty every object and list inside `value`, innermost first: after it, a fold's state
    must be unchanged if its `result()` shared nothing with it."""
    if isinstance(value, dict):
        for item in value.values():
            scramble(item)
        value.clear()
    elif isinstance(value, list):
        for item in value:
            scramble(item)
        value.clear()


def anthropic_sse(*events: Any) -> bytes:
    """Messages SSE; a dict is sent under its own `type`, an (event, raw data) pair as given."""
    frames = []
    for event in events:
        if isinstance(event, tuple):
            name, data = event
        else:
            name, data = event["type"], orjson.dumps(event).decode()
        frames.append(f"event: {name}\ndata: {data}\n\n")
    return "".join(frames).encode()


def chat_sse(*chunks: Any, done: bool = True) -> bytes:
    """Chat Completions SSE: each chunk as a `data:` event (str as it is), then `[DONE]`."""
    events = [c if isinstance(c, str) else orjson.dumps(c).decode() for c in chunks]
    if done:
        events.append("[DONE]")
    return "".join(f"data: {e}\n\n" for e in events).encode()


def responses_sse(*events: Any) -> bytes:
    """Responses SSE; a dict is sent under its own `type` (numbered in order when it has no
    `sequence_number`), an (event, raw data) pair as given."""
    frames = []
    for number, event in enumerate(events):
        if isinstance(event, tuple):
            name, data = event
        else:
            event = {**event, "sequence_number": event.get("sequence_number", number)}
            name = event.get("type")
            name = name if isinstance(name, str) and name.isprintable() else "message"
            data = orjson.dumps(event).decode()
        frames.append(f"event: {name}\ndata: {data}\n\n")
    return "".join(frames).encode()
