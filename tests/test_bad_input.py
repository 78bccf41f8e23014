"""The bad-input catalogue: nothing raises, the client's bytes are unchanged, nothing is lost.

Every case runs through the addon's own hooks twice: live (the stream tee fed in small chunks,
then the `response` hook) and offline (the body already on the flow, as `mitmdump -nr` does).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mitmproxy import http
from mitmproxy.test import taddons, tflow

from addon import rebuild
from addon.llm_rebuild import METADATA_KEY, LLMRebuild
from addon.providers import PROVIDERS
from addon.wire.jsonvalue import dumps
from addon.wire.sse import SSEDecoder
from tests.oracles import ALL_STREAMS, CORPUS
from tests.streams import BLOCK_STOP, MSG_DELTA, MSG_START, MSG_STOP, TEXT_START, sse, text_delta

PATHS = {
    "anthropic-messages": "/v1/messages",
    "openai-chat": "/v1/chat/completions",
    "openai-responses": "/v1/responses",
}


ANTHROPIC_OK = sse(MSG_START, TEXT_START, text_delta("héllo ✓"), BLOCK_STOP, MSG_DELTA, MSG_STOP)
TOOL_STREAM = (CORPUS / "sdk/anthropic/tool_use_response.sse").read_bytes()


def chat_chunk(delta: dict, finish: str | None = None, **extra: object) -> tuple[None, dict]:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return None, {
        "id": "c1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-x",
        "choices": [choice],
        **extra,
    }


DONE = (None, "[DONE]")
RESPONSES_CREATED = (
    "response.created",
    {
        "type": "response.created",
        "sequence_number": 0,
        "response": {
            "id": "resp_1",
            "object": "response",
            "created_at": 1,
            "status": "in_progress",
            "model": "gpt-x",
            "output": [],
        },
    },
)


def responses_final(kind: str, status: str, **extra: object) -> tuple[str, dict]:
    response = {
        "id": "resp_1",
        "object": "response",
        "created_at": 1,
        "status": status,
        "model": "gpt-x",
        "output": [],
        **extra,
    }
    return kind, {"type": kind, "sequence_number": 1, "response": response}


@dataclass
class Case:
    name: str
    provider: str
    body: bytes
    complete: bool
    error: str = ""  # a piece of the first matching error, case-insensitive
    content_type: str = "text/event-stream"
    headers: dict[str, str] = field(default_factory=dict)
    status: int = 200
    request_body: bytes = b'{"model": "m", "stream": true}'
    check: Callable[[dict], None] | None = None


def kept_text(expected: str) -> Callable[[dict], None]:
    def check(record: dict) -> None:
        assert expected in json.dumps(record["response"], ensure_ascii=False)

    return check


def cut(body: bytes, marker: bytes, after: int = 0) -> bytes:
    return body[: body.index(marker) + after]


CATALOGUE = [
    Case("complete stream for reference", "anthropic-messages", ANTHROPIC_OK, True),
    Case(
        "invalid JSON in data",
        "anthropic-messages",
        sse(
            MSG_START,
            TEXT_START,
            text_delta("kept"),
            ("content_block_delta", "{not json"),
            BLOCK_STOP,
            MSG_DELTA,
            MSG_STOP,
        ),
        False,
        "json",
        check=kept_text("kept"),
    ),
    Case(
        "stream cut inside an event",
        "anthropic-messages",
        cut(ANTHROPIC_OK, b'"type": "text_delta"'),
        False,
        check=kept_text("claude-x"),
    ),
    Case(
        "stream cut inside a tool's JSON input",
        "anthropic-messages",
        cut(TOOL_STREAM, b"input_json_delta", 60),
        False,
    ),
    Case(
        "stream cut inside a UTF-8 character",
        "anthropic-messages",
        cut(ANTHROPIC_OK, "✓".encode(), 1),
        False,
        "utf-8",
    ),
    Case(
        "events before message_start",
        "anthropic-messages",
        sse(TEXT_START, text_delta("early"), MSG_START, MSG_STOP),
        False,
    ),
    Case(
        "delta for an index never started",
        "anthropic-messages",
        sse(MSG_START, text_delta("lost?", index=3), MSG_DELTA, MSG_STOP),
        False,
        "3",
    ),
    Case(
        "duplicate message_start and block start",
        "anthropic-messages",
        sse(MSG_START, MSG_START, TEXT_START, TEXT_START, text_delta("x"), BLOCK_STOP, MSG_STOP),
        False,
    ),
    Case(
        "unknown event type is kept",
        "anthropic-messages",
        sse(
            MSG_START,
            ("brand_new_event", {"type": "brand_new_event", "x": 1}),
            TEXT_START,
            text_delta("ok"),
            BLOCK_STOP,
            MSG_DELTA,
            MSG_STOP,
        ),
        True,
        check=lambda r: r["unknown_events"][0]["data"]["x"] == 1,  # type: ignore[misc]
    ),
    Case(
        "unknown block type is kept whole",
        "anthropic-messages",
        sse(
            MSG_START,
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "hologram", "shape": "cube"},
                },
            ),
            BLOCK_STOP,
            MSG_DELTA,
            MSG_STOP,
        ),
        True,
        check=kept_text('"shape": "cube"'),
    ),
    Case(
        "unknown delta type is kept",
        "anthropic-messages",
        sse(
            MSG_START,
            TEXT_START,
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "sparkle_delta", "glitter": 7},
                },
            ),
            BLOCK_STOP,
            MSG_DELTA,
            MSG_STOP,
        ),
        False,
        "sparkle_delta",
        check=lambda r: "glitter" in json.dumps(r["unknown_events"]),  # type: ignore[misc]
    ),
    Case(
        "anthropic error event mid-stream",
        "anthropic-messages",
        sse(
            MSG_START,
            TEXT_START,
            text_delta("partial"),
            (
                "error",
                {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
            ),
        ),
        False,
        "overloaded",
        check=kept_text("partial"),
    ),
    Case(
        "OpenAI chunk carrying error",
        "openai-chat",
        sse(
            chat_chunk({"role": "assistant", "content": "par"}),
            (None, {"error": {"message": "upstream died", "type": "server_error"}}),
        ),
        False,
        "upstream died",
        check=kept_text("par"),
    ),
    Case(
        "response.failed",
        "openai-responses",
        sse(
            RESPONSES_CREATED,
            responses_final(
                "response.failed",
                "failed",
                error={"code": "server_error", "message": "The model crashed"},
            ),
        ),
        False,
        "model crashed",
    ),
    Case(
        "response.incomplete is a complete stream",
        "openai-responses",
        sse(
            RESPONSES_CREATED,
            responses_final(
                "response.incomplete",
                "incomplete",
                incomplete_details={"reason": "max_output_tokens"},
            ),
        ),
        True,
        check=lambda r: r["response"]["status"] == "incomplete",  # type: ignore[misc]
    ),
    Case(
        "flat error event",
        "openai-responses",
        sse(
            RESPONSES_CREATED,
            (
                "error",
                {
                    "type": "error",
                    "code": "rate_limit_exceeded",
                    "message": "Slow down",
                    "param": None,
                    "sequence_number": 1,
                },
            ),
        ),
        False,
        "slow down",
    ),
    Case(
        "HTTP 400 with JSON error body",
        "openai-chat",
        b'{"error": {"message": "Bad model", "type": "invalid_request_error"}}',
        False,
        "HTTP 400",
        content_type="application/json",
        status=400,
    ),
    Case(
        "HTTP 529 with JSON error body",
        "anthropic-messages",
        b'{"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}',
        False,
        "HTTP 529: overloaded_error",
        content_type="application/json",
        status=529,
    ),
    Case("empty streamed body", "openai-chat", b"", False),
    Case("empty JSON body", "openai-chat", b"", False, "empty", content_type="application/json"),
    Case("binary garbage", "anthropic-messages", bytes(range(256)) * 40, False),
    Case(
        "content-encoding header that lies",
        "anthropic-messages",
        ANTHROPIC_OK,
        False,
        "content-encoding 'gzip'",
        headers={"content-encoding": "gzip"},
        check=kept_text("héllo ✓"),
    ),
    Case(
        "truncated gzip stream",
        "anthropic-messages",
        gzip.compress(ANTHROPIC_OK)[:-30],
        False,
        headers={"content-encoding": "gzip"},
    ),
    Case(
        "SSE sent as text/plain",
        "anthropic-messages",
        ANTHROPIC_OK,
        True,
        content_type="text/plain",
        check=lambda r: "content type is text/plain" in r["warnings"][0],  # type: ignore[misc]
    ),
    Case(
        "a single 10 MB event",
        "anthropic-messages",
        sse(MSG_START, TEXT_START, text_delta("x" * 10_000_000), BLOCK_STOP, MSG_DELTA, MSG_STOP),
        True,
        check=lambda r: len(r["response"]["content"][0]["text"]) == 10_000_000,  # type: ignore[misc]
    ),
    Case(
        "request body that is not JSON",
        "openai-chat",
        sse(chat_chunk({"role": "assistant", "content": "hi"}, "stop"), DONE),
        True,
        request_body=b"\x00\xffnot json",
        check=lambda r: isinstance(r["request"]["body"], str),  # type: ignore[misc]
    ),
]


def make_flow(case: Case, live: bool) -> http.HTTPFlow:
    flow = tflow.tflow(resp=True)
    flow.request.host = "api.example.test"
    flow.request.path = PATHS[case.provider]
    flow.request.method = "POST"
    flow.request.content = case.request_body
    flow.response = http.Response.make(
        case.status, case.body, {"content-type": case.content_type, **case.headers}
    )
    if live:
        flow.live = True
        flow.response.raw_content = None
    else:
        flow.live = False  # loaded from a file: the body is already there
        flow.response.raw_content = case.body
    return flow


def run(case: Case, live: bool, tmp_path) -> dict:
    addon = LLMRebuild()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, llm_dump_dir=str(tmp_path))
        flow = make_flow(case, live)
        addon.responseheaders(flow)
        if live and callable(flow.response.stream):
            chunks = [case.body[i : i + 1000] for i in range(0, len(case.body), 1000)]
            sent = [flow.response.stream(c) for c in chunks]
            assert sent == chunks  # the client gets exactly what upstream sent
            assert flow.response.stream(b"") == b""
        elif live:  # not an event stream: mitmproxy buffers it as usual
            flow.response.raw_content = case.body
        addon.response(flow)
        assert flow.response.raw_content == case.body
        assert addon.captures == {}
        record = flow.metadata[METADATA_KEY]
        dumped = [json.loads(p.read_text()) for p in tmp_path.glob("*.json")]
        assert dumped == [record]
        return record


@pytest.mark.parametrize("live", [True, False], ids=["live", "offline"])
@pytest.mark.parametrize("case", CATALOGUE, ids=lambda c: c.name)
def test_bad_input_gives_a_readable_record_and_never_raises(case, live, tmp_path):
    record = run(case, live, tmp_path)
    assert record["complete"] is case.complete, record["errors"]
    if not case.complete:
        assert record["errors"], "an incomplete record must say why"
        assert all(isinstance(e, str) and e for e in record["errors"])
    if case.error:
        assert any(case.error.lower() in e.lower() for e in record["errors"]), record["errors"]
    if case.check is not None:
        case.check(record)


MUTATIONS = st.sampled_from(["drop", "duplicate", "flip", "truncate", "insert"])
BODIES = [(provider, path.read_bytes()) for provider, path in ALL_STREAMS]


def mutate(body: bytes, how: str, at: int, byte: int) -> bytes:
    at %= max(len(body), 1)
    if how == "drop":
        return body[:at] + body[at + 7 :]
    if how == "duplicate":
        return body[:at] + body[at : at + 50] + body[at:]
    if how == "flip":
        return body[:at] + bytes([byte]) + body[at + 1 :]
    if how == "truncate":
        return body[:at]
    return body[:at] + bytes([byte]) * 3 + body[at:]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(BODIES),
    st.lists(st.tuples(MUTATIONS, st.integers(0, 10**7), st.integers(0, 255)), max_size=4),
)
def test_mutated_real_streams_never_raise_and_stay_serialisable(case, mutations):
    provider, body = case
    for how, at, byte in mutations:
        body = mutate(body, how, at, byte)
    record = rebuild(provider, body)
    dumps(record)  # the dump writer must always be able to write it
    if record["complete"]:
        assert not record["errors"]
    assert not swallowed(record["errors"])


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(sorted(PROVIDERS)), st.binary(max_size=2000))
def test_arbitrary_bytes_into_every_accumulator_never_raise(provider, body):
    record = rebuild(provider, body, streamed=True)
    dumps(record)
    assert not swallowed(record["errors"])


def swallowed(errors: list[str]) -> list[str]:
    """Errors that are a bug of ours caught as bad input, not bad input described."""
    return [e for e in errors if "could not apply event" in e or "rebuild stopped" in e]


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(sorted(PROVIDERS)),
    st.lists(
        st.tuples(
            st.text(max_size=30),
            st.recursive(
                st.none() | st.booleans() | st.integers() | st.text(max_size=20),
                lambda inner: (
                    st.lists(inner, max_size=4)
                    | st.dictionaries(
                        st.sampled_from(
                            [
                                "type",
                                "index",
                                "delta",
                                "choices",
                                "output_index",
                                "content_index",
                                "item",
                                "response",
                                "message",
                                "text",
                                "content_block",
                                "usage",
                                "error",
                            ]
                        ),
                        inner,
                        max_size=5,
                    )
                ),
                max_leaves=15,
            ),
        ),
        max_size=12,
    ),
)
def test_arbitrary_json_events_into_every_accumulator_never_raise(provider, events):
    accumulator = PROVIDERS[provider].accumulator()
    decoder = SSEDecoder()
    for name, data in events:
        payload = f"event: {name.replace(chr(10), ' ').replace(chr(13), ' ')}\n"
        payload += f"data: {json.dumps(data)}\n\n"
        for event in decoder.feed(payload.encode()):
            accumulator.feed(event)
    accumulator.finish()
    dumps(accumulator.result())
    dumps(accumulator.unknown)
    # "Never raises" must not mean "a bug was caught and called bad input".
    assert swallowed(accumulator.errors) == []
