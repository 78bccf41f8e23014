"""Per-flow state is freed on every path: in process, driving the hooks as mitmproxy does.

mitmproxy calls `responseheaders`, then the stream callable once per chunk and once with b""
at the end, then `response`; or `error` at any point. Many flows run interleaved here, as
they do in a busy proxy; afterwards the addon holds nothing and no capture is reachable.
"""

from __future__ import annotations

import gc
import random
import weakref

import pytest
from mitmproxy import flow as mflow
from mitmproxy import http
from mitmproxy.test import taddons, tflow

from addon import rebuild
from addon.llm_rebuild import METADATA_KEY, LLMRebuild
from addon.proxy.capture import FlowCapture
from tests.live.upstream import encode_pieces, split_randomly
from tests.oracles import CORPUS

STREAMS = {
    "anthropic-messages": ("/v1/messages", CORPUS / "sdk/anthropic/tool_use_response.sse"),
    "openai-chat": (
        "/v1/chat/completions",
        CORPUS / "sdk/openai-chat/test_parse_pydantic_tool.c6aa7e397b71.sse",
    ),
    "openai-responses": (
        "/v1/responses",
        CORPUS / "sdk/openai-responses/dotnet.FunctionCallStreamingWorks.e0.sse",
    ),
}
ENDINGS = ("complete", "upstream cut", "client gone early", "error before headers", "not llm")


def live_flow(path: str, encoding: str = "", host: str = "llm.test") -> http.HTTPFlow:
    """A flow as it stands at `responseheaders`: headers in, no body yet."""
    flow = tflow.tflow(live=True)
    flow.request.host = host
    flow.request.port = 8080
    flow.request.path = path
    flow.request.method = "POST"
    headers = {"content-type": "text/event-stream"}
    if encoding:
        headers["content-encoding"] = encoding
    flow.response = http.Response.make(200, b"", headers)
    flow.response.data.content = None  # mitmproxy has not read the body yet
    return flow


class Driver:
    """Plays mitmproxy's part for one flow: headers, chunks through the stream hook, end."""

    def __init__(self, addon: LLMRebuild, provider: str, ending: str, seed: int) -> None:
        rng = random.Random(seed)
        path, stream = STREAMS[provider]
        self.addon = addon
        self.provider = provider
        self.ending = ending
        self.body = stream.read_bytes()
        self.encoding = rng.choice(["", "gzip", "br", "zstd", "deflate"])
        self.pieces = encode_pieces(split_randomly(self.body, rng, 80), self.encoding)
        if ending in ("upstream cut", "client gone early"):
            self.pieces = self.pieces[: len(self.pieces) // 2 if ending == "upstream cut" else 1]
        host = "example.com" if ending == "not llm" else "llm.test"
        self.flow = live_flow(path if ending != "not llm" else "/index", self.encoding, host)
        self.sent: list[bytes] = []
        self.capture: weakref.ref | None = None

    def start(self) -> None:
        if self.ending == "error before headers":
            self.flow.response = None
            return
        self.addon.responseheaders(self.flow)
        assert self.flow.response is not None
        stream = self.flow.response.stream
        if self.ending == "not llm":
            assert not callable(stream)
        else:
            assert isinstance(stream, FlowCapture)
            self.capture = weakref.ref(stream)

    def step(self) -> bool:
        """Pass the next chunk on; False when there is none left."""
        if self.flow.response is None or not self.pieces:
            return False
        chunk = self.pieces.pop(0)
        stream = self.flow.response.stream
        out = stream(chunk) if callable(stream) else chunk
        assert out == chunk  # passed on unchanged, at once
        self.sent.append(chunk)
        return True

    def end(self) -> None:
        if self.ending in ("complete", "not llm"):
            assert self.flow.response is not None
            stream = self.flow.response.stream
            if callable(stream):
                assert stream(b"") == b""
            self.flow.response.timestamp_end = self.flow.request.timestamp_start + 1
            self.addon.response(self.flow)
        else:
            self.flow.error = mflow.Error("Client disconnected.")
            self.addon.error(self.flow)
        self.flow.live = False


@pytest.fixture
def addon(tmp_path):
    rebuild_addon = LLMRebuild()
    with taddons.context(rebuild_addon) as tctx:
        tctx.configure(rebuild_addon, llm_dump_dir=str(tmp_path / "dumps"), llm_summary=False)
        yield rebuild_addon


def test_many_interleaved_flows_leave_no_state_behind(addon: LLMRebuild):
    rng = random.Random(7)
    drivers = [
        Driver(addon, provider, ending, seed)
        for seed, (provider, ending) in enumerate(
            (provider, ending) for ending in ENDINGS for provider in sorted(STREAMS) for _ in (0, 1)
        )
    ]
    assert len(drivers) == 30
    for driver in drivers:
        driver.start()
    llm_flows = [d for d in drivers if d.ending not in ("not llm", "error before headers")]
    assert len(addon.captures) == len(llm_flows)

    running = list(drivers)
    while running:  # chunks of all flows, interleaved in random order
        driver = rng.choice(running)
        if not driver.step():
            running.remove(driver)
            driver.end()

    assert addon.captures == {}
    gc.collect()
    for driver in drivers:
        if driver.capture is not None:
            assert driver.capture() is None, f"{driver.ending} flow keeps its capture alive"
        assert not callable(driver.flow.response.stream if driver.flow.response else None)

    for driver in drivers:
        record = driver.flow.metadata.get(METADATA_KEY)
        if driver.ending == "not llm":
            assert record is None
            continue
        assert record is not None and record["provider"] == driver.provider
        assert record["complete"] is (driver.ending == "complete"), record["errors"]
        if driver.ending == "error before headers":
            assert record["response"] is None
            continue
        # The body is back on the flow for -w / mitmweb / replay, exactly as it was sent.
        assert driver.flow.response is not None
        assert driver.flow.response.raw_content == b"".join(driver.sent)
        if driver.ending == "complete":
            assert record["response"] == rebuild(driver.provider, driver.body)["response"]


def test_a_failing_rebuild_never_stops_the_stream_nor_truncates_the_kept_body(
    addon: LLMRebuild,
):
    """A bug inside the rebuild costs the record, never the flow: chunks still pass on
    unchanged, and the whole body is still put back on the flow."""
    path, stream = STREAMS["anthropic-messages"]
    flow = live_flow(path)
    addon.responseheaders(flow)
    capture = flow.response.stream
    assert isinstance(capture, FlowCapture)

    def broken(chunk: bytes) -> None:
        raise RuntimeError("boom")

    assert capture.answer.stream is not None
    capture.answer.stream.feed = broken  # type: ignore[method-assign]
    body = stream.read_bytes()
    chunks = [body[:100], body[100:500], body[500:]]
    for chunk in chunks:
        assert capture(chunk) == chunk
    assert capture(b"") == b""
    addon.response(flow)
    record = flow.metadata[METADATA_KEY]
    assert record["complete"] is False
    assert any("rebuild failed" in e and "boom" in e for e in record["errors"])
    assert flow.response.raw_content == body
    assert addon.captures == {}
