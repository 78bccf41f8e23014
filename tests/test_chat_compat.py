"""OpenAI-compatible Chat Completions servers: each stream comes out in its server's own
non-streamed shape.

The recorded OpenRouter, DeepSeek, Groq, Mistral and Azure streams are compared with the
openai SDK helper's object, corrected where the SDK is wrong for that server: each
correction is a named rule (`SDK_WRONG` says which apply to which stream), computed from the
raw chunks, and checked to really differ from what the SDK made. Constructed streams test
each rule on its own.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import orjson
import pytest

from addon import rebuild
from addon.providers.openai_chat import OpenAIChat
from addon.wire.sse import SSEDecoder
from tests.conftest import chat_sse as sse
from tests.conftest import scramble
from tests.oracles import CORPUS, corpus_streams, strip_nulls
from tests.oracles.openai_chat import sdk_accumulated_snapshot, sdk_final_completion
from tests.test_openai_chat import choice, chunk, chunks_of, rewrite

PROVIDER = "openai-chat"
STREAMS = corpus_streams("chat-compat") + corpus_streams("azure-openai")
JSON = dict[str, Any]
CHUNK = "chat.completion.chunk"

# --- what the SDK gets wrong for these servers ------------------------------------------

ROLE = "`role` in every delta (OpenRouter): the SDK concatenates it"
CHANNEL = "Groq's `channel` in every reasoning delta: the SDK concatenates it"
FORMAT = "`reasoning_details` repeat `format` in every fragment: the SDK concatenates it"
LATE_TOP = (
    "top-level fields that arrive after the first chunk (`service_tier`, Groq's `x_groq` "
    "usage and seed): the SDK keeps the first chunk's"
)
LATE_CHOICE = (
    "choice fields that arrive later (`native_finish_reason`, Azure's "
    "`content_filter_results`): the SDK keeps the choice's first chunk's"
)
GROQ_USAGE = "usage only inside `x_groq`: Groq's non-streamed answer has it at the top level"
EXECUTED = "Groq's `executed_tools` come whole and again with their output: the SDK doubles them"
PARTS = "Mistral's content parts after a string `content`: the SDK drops them"
AZURE_OPENING = "Azure's opening chunk (`object: ''`) has `prompt_filter_results`: the SDK skips it"
ERROR = "an error inside a 200 stream: the SDK raises APIError; what arrived is kept"

OPENROUTER = {ROLE, LATE_CHOICE}
AZURE = {AZURE_OPENING, LATE_CHOICE}
SDK_WRONG: dict[str, set[str]] = {
    "openllmetry__test_streaming_with_api_usage_capture__0.sse": set(),  # DeepSeek
    "pydantic-ai__test_groq_model_web_search_tool_stream__0.sse": {
        LATE_TOP,
        GROQ_USAGE,
        EXECUTED,
    },
    "pydantic-ai__test_mistral_model_thinking_part_iter__0.sse": {PARTS},
    "pydantic-ai__test_openrouter_advisor_tool_stream__0.sse": OPENROUTER,
    "pydantic-ai__test_openrouter_cache_streaming_e2e__0.sse": OPENROUTER,
    "pydantic-ai__test_openrouter_stream_error__0.sse": OPENROUTER | {ERROR},
    "pydantic-ai__test_openrouter_stream_with_native_options__0.sse": OPENROUTER,
    "pydantic-ai__test_openrouter_streaming_reasoning__0.sse": OPENROUTER | {FORMAT},
    "pydantic-ai__test_openrouter_web_search_tool_usage_stream__0.sse": OPENROUTER | {LATE_TOP},
    "pydantic-ai__test_tool_use_failed_error_streaming__0.sse": {CHANNEL, ERROR},
    "pydantic-ai__test_tool_use_failed_error_streaming__1.sse": {CHANNEL, LATE_TOP},
    "pydantic-ai__test_tool_use_failed_error_streaming__2.sse": {CHANNEL, LATE_TOP},
    "pydantic-ai__test_tool_use_failed_error_streaming_with_text__0.sse": {CHANNEL, ERROR},
    **{p.name: AZURE for p in corpus_streams("azure-openai")},
}

# --- helpers ---------------------------------------------------------------------------


def rebuilt(body: bytes) -> JSON:
    record = rebuild(PROVIDER, body)
    assert record["streamed"]
    return record


def ours(body: bytes) -> JSON:
    return strip_nulls(rebuilt(body)["response"])


def message_of(response: JSON, index: int = 0) -> JSON:
    return choice_of(response, index)["message"]


def choice_of(response: JSON, index: int) -> JSON:
    return next(c for c in response["choices"] if c["index"] == index)


def sdk(body: bytes) -> JSON:
    """The SDK helper's completion; its accumulated snapshot where it raises on `length`."""
    with warnings.catch_warnings():  # Mistral's list `content` makes pydantic warn on dump
        warnings.simplefilter("ignore", UserWarning)
        try:
            return strip_nulls(sdk_final_completion(body))
        except openai.LengthFinishReasonError:
            return strip_nulls(sdk_accumulated_snapshot(body))


def choice_chunks(chunks: list[JSON]) -> dict[int, list[JSON]]:
    """Each choice's pieces as they came, by index, from chunks that are completion chunks."""
    out: dict[int, list[JSON]] = {}
    for c in chunks:
        for item in c.get("choices") or []:
            out.setdefault(item.get("index", 0), []).append(item)
    return out


def latest(values: list[Any]) -> Any:
    """The last non-null value; objects merged key by key (Groq's `x_groq`: the first
    chunk's `id` and `seed`, the last's `usage`)."""
    out: Any = None
    for value in values:
        if isinstance(value, dict) and isinstance(out, dict):
            out = {**out, **value}
        elif value is not None:
            out = copy.deepcopy(value)
    return out


# --- the corrections, one per rule: each says whether it changed the SDK's object --------


def fix_repeated(key: str) -> Callable[[JSON, list[JSON]], bool]:
    def fix(expected: JSON, chunks: list[JSON]) -> bool:
        changed = False
        for index, items in choice_chunks(chunks).items():
            values = [i["delta"][key] for i in items if (i.get("delta") or {}).get(key)]
            if len(values) > 1:
                assert set(values) == {values[0]}, "a repeated value, not fragments"
                message = message_of(expected, index)
                assert message[key] == "".join(values)  # what the SDK made of it
                message[key] = values[0]
                changed = True
        return changed

    return fix


def fix_format(expected: JSON, chunks: list[JSON]) -> bool:
    changed = False
    for index, items in choice_chunks(chunks).items():
        formats: dict[int, list[str]] = {}
        for item in items:
            for detail in (item.get("delta") or {}).get("reasoning_details") or []:
                if detail.get("format"):
                    formats.setdefault(detail["index"], []).append(detail["format"])
        for detail in message_of(expected, index).get("reasoning_details", []):
            seen = formats.get(detail["index"], [])
            if len(seen) > 1:
                assert detail["format"] == "".join(seen)
                detail["format"] = seen[-1]
                changed = True
    return changed


_SDK_TOP = {"choices", "object", "obfuscation", "usage", "system_fingerprint", "id", "created"}


def fix_late_top(expected: JSON, chunks: list[JSON]) -> bool:
    changed = False
    chunks = [c for c in chunks if c.get("object", CHUNK) == CHUNK]  # what the SDK takes
    keys = {k for c in chunks for k in c if k not in _SDK_TOP and k != "error"}
    for key in sorted(keys):
        value = strip_nulls(latest([c.get(key) for c in chunks]))
        if value is not None and expected.get(key) != value:
            expected[key] = value
            changed = True
    return changed


def fix_late_choice(expected: JSON, chunks: list[JSON]) -> bool:
    changed = False
    fixed = {"index", "delta", "finish_reason", "logprobs"}
    for index, items in choice_chunks(chunks).items():
        target = choice_of(expected, index)
        for key in sorted({k for i in items for k in i if k not in fixed}):
            values = [i.get(key) for i in items if i.get(key) not in (None, {})]
            value = strip_nulls(copy.deepcopy(values[-1])) if values else None
            if value is not None and target.get(key) != value:
                target[key] = value
                changed = True
    return changed


def fix_groq_usage(expected: JSON, chunks: list[JSON]) -> bool:
    x_groq = latest([c.get("x_groq") for c in chunks]) or {}
    changed = False
    for key in ("usage", "usage_breakdown"):
        if key in x_groq and not any(c.get(key) for c in chunks):
            expected[key] = strip_nulls(x_groq[key])
            changed = True
    return changed


def fix_executed_tools(expected: JSON, chunks: list[JSON]) -> bool:
    changed = False
    for index, items in choice_chunks(chunks).items():
        tools: dict[int, JSON] = {}
        for item in items:
            for tool in (item.get("delta") or {}).get("executed_tools") or []:
                tools[tool["index"]] = {**tools.get(tool["index"], {}), **tool}
        if tools:
            message = message_of(expected, index)
            whole = [strip_nulls(tools[i]) for i in sorted(tools)]
            if message["executed_tools"] != whole:
                message["executed_tools"] = whole
                changed = True
    return changed


def fix_parts(expected: JSON, chunks: list[JSON]) -> bool:
    """Mistral's parts as its non-streamed answer has them: one `thinking` part (its text
    joined) and one `text` part (the plain string deltas that followed, joined)."""
    changed = False
    for index, items in choice_chunks(chunks).items():
        contents = [(i.get("delta") or {}).get("content") for i in items]
        if not any(isinstance(c, list) for c in contents):
            continue
        parts: list[JSON] = []
        for content in contents:
            pieces = [{"type": "text", "text": content}] if isinstance(content, str) else content
            for piece in pieces or []:
                if piece["type"] == "text" and not piece["text"]:
                    continue
                if parts and parts[-1]["type"] == piece["type"] == "text":
                    parts[-1]["text"] += piece["text"]
                elif parts and parts[-1]["type"] == piece["type"] == "thinking":
                    parts[-1]["thinking"][-1]["text"] += "".join(
                        t["text"] for t in piece["thinking"]
                    )
                else:
                    parts.append(copy.deepcopy(piece))
        message_of(expected, index)["content"] = parts
        changed = True
    return changed


def fix_azure_opening(expected: JSON, chunks: list[JSON]) -> bool:
    opening = [c for c in chunks if c.get("object") == "" and "prompt_filter_results" in c]
    if not opening:
        return False
    assert "prompt_filter_results" not in expected
    expected["prompt_filter_results"] = strip_nulls(opening[0]["prompt_filter_results"])
    return True


def fix_error(expected: JSON, chunks: list[JSON]) -> bool:
    errors = [c["error"] for c in chunks if "error" in c]
    for c in chunks:
        if "error" in c and "choices" in c:  # an error inside a chunk stays in the answer
            expected["error"] = strip_nulls(c["error"])
    return bool(errors)


CORRECTIONS: dict[str, Callable[[JSON, list[JSON]], bool]] = {
    ERROR: fix_error,
    ROLE: fix_repeated("role"),
    CHANNEL: fix_repeated("channel"),
    FORMAT: fix_format,
    LATE_TOP: fix_late_top,
    LATE_CHOICE: fix_late_choice,
    GROQ_USAGE: fix_groq_usage,
    EXECUTED: fix_executed_tools,
    PARTS: fix_parts,
    AZURE_OPENING: fix_azure_opening,
}


def sdk_takes(chunk_: JSON) -> JSON | None:
    """The chunk as the SDK can take it: error events dropped, `error` keys removed (it
    raises APIError on either)."""
    if "error" in chunk_ and "choices" not in chunk_:
        return None
    return {k: v for k, v in chunk_.items() if k != "error"}


# --- the recorded streams -----------------------------------------------------------------


def test_every_compat_stream_is_named() -> None:
    assert {p.name for p in STREAMS} == set(SDK_WRONG)


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: p.name)
def test_compat_stream_rebuilds_to_its_servers_non_streamed_shape(path: Path) -> None:
    body = path.read_bytes()
    chunks = chunks_of(body)
    record = rebuilt(body)
    expected = sdk(rewrite(body, sdk_takes))
    applied = {reason for reason, fix in CORRECTIONS.items() if fix(expected, chunks)}
    assert applied == SDK_WRONG[path.name]
    assert strip_nulls(record["response"]) == expected
    if ERROR in applied:
        assert not record["complete"]
        assert any("error chunk" in e for e in record["errors"]), record["errors"]
    else:
        assert record["complete"], record["errors"]
        assert record["unknown_events"] == []


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: p.name)
def test_compat_stream_has_no_concatenated_identifiers(path: Path) -> None:
    response = rebuilt(path.read_bytes())["response"]
    for item in response["choices"]:
        message = item["message"]
        assert message.get("role") in ("assistant", None)
        assert message.get("channel") in ("analysis", None)
        for detail in message.get("reasoning_details", []):
            assert detail.get("format") in (None, "anthropic-claude-v1", "xai-responses-v1")


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: p.name)
def test_compat_stream_in_pieces_with_midway_results_gives_the_same_completion(
    path: Path,
) -> None:
    body = path.read_bytes()
    decoder = SSEDecoder()
    accumulator = OpenAIChat()
    for number, at in enumerate(range(0, len(body), 97)):
        accumulator.feed_all(decoder.feed(body[at : at + 97]))
        if number % 5 == 0:
            scramble(accumulator.result())  # what result() gave must share nothing with state
    accumulator.feed_all(decoder.close())
    accumulator.finish()
    assert accumulator.result() == rebuilt(body)["response"]


def test_openrouter_reasoning_keeps_one_signature_and_the_whole_text() -> None:
    path = CORPUS / "chat-compat" / "pydantic-ai__test_openrouter_streaming_reasoning__0.sse"
    body = path.read_bytes()
    deltas = [item["delta"] for c in chunks_of(body) for item in c["choices"]]
    details = [d for delta in deltas for d in delta.get("reasoning_details", [])]
    signatures = [d["signature"] for d in details if d.get("signature")]
    message = message_of(rebuilt(body)["response"])
    assert message["reasoning"] == "This is a simple arithmetic question. 2+2 equals 4."
    assert message["reasoning_details"] == [
        {
            "type": "reasoning.text",
            "text": message["reasoning"],
            "signature": signatures[0],
            "format": "anthropic-claude-v1",
            "index": 0,
        }
    ]
    assert len(signatures) == 1


# --- constructed streams, one rule each -----------------------------------------------------


def test_comments_before_the_first_event_and_between_events_are_ignored() -> None:
    keepalive = b": OPENROUTER PROCESSING\n\n"
    body = keepalive * 3 + sse(
        chunk(choice(role="assistant", content="Hi")),
        chunk(choice(role="assistant", content="!", finish_reason="stop")),
    ).replace(b"\n\ndata: {", b"\n\n" + keepalive + b"data: {", 1)
    record = rebuilt(body)
    assert record["complete"], record["errors"]
    assert record["events"] == 3
    assert message_of(record["response"]) == {"role": "assistant", "content": "Hi!"}
    for cut in range(1, len(keepalive) * 3 + 5):  # any split inside the leading comments
        decoder = SSEDecoder()
        events = decoder.feed(body[:cut]) + decoder.feed(body[cut:]) + decoder.close()
        assert [e.data for e in events][-1] == "[DONE]" and len(events) == 3


def test_role_repeated_in_every_delta_stays_assistant() -> None:
    body = sse(
        chunk(choice(role="assistant", content="a")),
        chunk(choice(role="assistant", content="b")),
        chunk(choice(role="assistant", content="", finish_reason="stop")),
    )
    assert message_of(sdk(body))["role"] == "assistant" * 3  # SDK-wrong
    assert message_of(ours(body)) == {"role": "assistant", "content": "ab"}


def test_reasoning_is_joined_and_a_null_between_changes_nothing() -> None:
    body = sse(
        chunk(choice(role="assistant", content="", reasoning=None)),
        chunk(choice(reasoning="Let me")),
        chunk(choice(reasoning=None, content="")),
        chunk(choice(reasoning=" think.")),
        chunk(choice(content="42", finish_reason="stop")),
    )
    assert ours(body) == sdk(body)
    assert message_of(ours(body))["reasoning"] == "Let me think."


def test_reasoning_details_merge_by_index_and_type() -> None:
    def details(*entries: dict[str, Any]) -> dict[str, Any]:
        return choice(role="assistant", content="", reasoning_details=list(entries))

    summary = {"type": "reasoning.summary", "id": "rs_1", "format": "openai-responses-v1"}
    encrypted = {"type": "reasoning.encrypted", "id": "rs_1", "format": "openai-responses-v1"}
    text = {"type": "reasoning.text", "format": "anthropic-claude-v1"}
    body = sse(
        chunk(details({**text, "index": 0, "text": "", "signature": ""})),
        chunk(details({**text, "index": 0, "text": "Think"})),
        chunk(details({**text, "index": 0, "text": "ing."})),
        chunk(details({**text, "index": 0, "signature": "sig=="})),
        chunk(details({**summary, "index": 1, "summary": "Sum"})),
        chunk(details({**summary, "index": 1, "summary": "mary"})),
        chunk(details({**encrypted, "index": 1, "data": "opaque"})),
        chunk(choice(content="Done", finish_reason="stop")),
    )
    assert message_of(ours(body))["reasoning_details"] == [
        {**text, "index": 0, "text": "Thinking.", "signature": "sig=="},
        {**summary, "index": 1, "summary": "Summary"},
        {**encrypted, "index": 1, "data": "opaque"},
    ]


def test_reasoning_details_with_different_ids_stay_apart() -> None:
    def encrypted(call_id: str, data: str) -> dict[str, Any]:
        entry = {"type": "reasoning.encrypted", "id": call_id, "data": data, "index": 0}
        return choice(role="assistant", reasoning_details=[entry])

    body = sse(
        chunk(encrypted("tool_a", "sigA")),
        chunk(encrypted("tool_b", "sigB")),
        chunk(choice(finish_reason="tool_calls")),
    )
    details = message_of(ours(body))["reasoning_details"]
    assert [(d["id"], d["data"]) for d in details] == [("tool_a", "sigA"), ("tool_b", "sigB")]


def test_reasoning_details_without_index_join_by_type() -> None:
    def text(piece: str) -> dict[str, Any]:
        return choice(reasoning_details=[{"type": "reasoning.text", "text": piece}])

    body = sse(
        chunk(choice(role="assistant", content="")),
        chunk(text("Step")),
        chunk(text(" one.")),
        chunk(choice(reasoning_details=[{"type": "reasoning.encrypted", "data": "x"}])),
        chunk(choice(content="Done", finish_reason="stop")),
    )
    assert message_of(ours(body))["reasoning_details"] == [
        {"type": "reasoning.text", "text": "Step one."},
        {"type": "reasoning.encrypted", "data": "x"},
    ]


def test_a_reasoning_detail_that_is_not_an_object_is_reported() -> None:
    body = sse(
        chunk(choice(role="assistant", reasoning_details=[{"type": "reasoning.text", "index": 0}])),
        chunk(choice(reasoning_details=["junk"], finish_reason="stop")),
    )
    record = rebuilt(body)
    assert record["errors"] == [
        "chunk #2 choice 0: `reasoning_details` entry is not an object, ignored: 'junk'"
    ]
    assert message_of(record["response"])["reasoning_details"] == [
        {"type": "reasoning.text", "index": 0}
    ]


def test_native_finish_reason_and_provider_are_the_latest_non_null() -> None:
    def item(finish: str | None, native: str | None, **delta: Any) -> dict[str, Any]:
        return {**choice(finish_reason=finish, **delta), "native_finish_reason": native}

    body = sse(
        chunk(item(None, None, role="assistant", content="Hi"), provider="OpenAI"),
        chunk(item("stop", "completed", content=""), provider="OpenAI"),
        chunk(item(None, None, content=""), provider=None, usage={"prompt_tokens": 1}),
    )
    response = ours(body)
    assert response["provider"] == "OpenAI"
    assert response["choices"][0]["native_finish_reason"] == "completed"
    assert response["choices"][0]["finish_reason"] == "stop"


def test_repeated_usage_is_the_latest_not_a_sum_cost_and_is_byok_as_sent() -> None:
    def usage(completion: int, cost: float) -> dict[str, Any]:
        return {
            "prompt_tokens": 10,
            "completion_tokens": completion,
            "total_tokens": 10 + completion,
            "cost": cost,
            "is_byok": False,
        }

    body = sse(
        chunk(choice(role="assistant", content="a"), usage=usage(1, 0.0000125)),
        chunk(choice(content="b"), usage=usage(2, 0.000025)),
        chunk(choice(finish_reason="stop"), usage=usage(3, 0.0000375)),
    )
    # The SDK replaces usage with each chunk's (it adds numbers only inside deltas): same here.
    assert sdk(body)["usage"] == usage(3, 0.0000375)
    assert ours(body)["usage"] == usage(3, 0.0000375)


def test_an_error_inside_a_chunk_is_an_error_and_what_arrived_is_kept() -> None:
    error = {"code": "server_error", "message": "Provider disconnected"}
    usage = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7, "cost": 0.0001}
    body = b": OPENROUTER PROCESSING\n\n" + sse(
        chunk(choice(role="assistant", content="Hel"), provider="Anthropic"),
        chunk(choice(content="", finish_reason="error"), error=error, usage=usage),
    )
    record = rebuilt(body)
    assert not record["complete"]
    assert record["errors"] == ["chunk #2: error chunk: server_error: Provider disconnected"]
    assert record["unknown_events"] == []
    response = record["response"]
    assert response["error"] == error
    assert response["usage"] == usage
    assert response["choices"][0]["finish_reason"] == "error"
    assert message_of(response)["content"] == "Hel"


def test_a_bare_error_event_is_kept_aside() -> None:
    error = {"message": "Tool choice is required", "type": "invalid_request_error"}
    body = sse(chunk(choice(role="assistant", content="maybe")), done=False)
    body += b"event: error\ndata: " + orjson.dumps({"error": error}) + b"\n\n"
    record = rebuilt(body)
    assert record["unknown_events"] == [{"event": "error", "data": {"error": error}}]
    assert (
        "chunk #2: error chunk: invalid_request_error: Tool choice is required"
        in (record["errors"])
    )
    assert message_of(record["response"])["content"] == "maybe"


@pytest.mark.parametrize("server", ["deepseek", "z.ai"])
def test_reasoning_content_is_joined(server: str) -> None:
    model = {"deepseek": "deepseek-reasoner", "z.ai": "glm-4.6"}[server]
    body = sse(
        chunk(choice(role="assistant", content=None, reasoning_content=""), model=model),
        chunk(choice(reasoning_content="First,"), model=model),
        chunk(choice(reasoning_content=" add."), model=model),
        chunk(choice(content="4", reasoning_content=None), model=model),
        chunk(choice(finish_reason="stop"), model=model),
    )
    assert ours(body) == sdk(body)
    assert message_of(ours(body)) == {
        "role": "assistant",
        "reasoning_content": "First, add.",
        "content": "4",
    }


def test_groq_x_groq_is_merged_and_its_usage_stands_at_the_top_level() -> None:
    usage = {"queue_time": 0.05, "prompt_tokens": 21, "completion_tokens": 3, "total_tokens": 24}
    body = sse(
        chunk(choice(role="assistant", content=""), x_groq={"id": "req_1", "seed": 7}),
        chunk(choice(content="Hi")),
        chunk(choice(finish_reason="stop"), x_groq={"id": "req_1", "usage": usage}),
    )
    assert sdk(body)["x_groq"] == {"id": "req_1", "seed": 7}  # SDK-wrong: the usage is lost
    response = ours(body)
    assert response["x_groq"] == {"id": "req_1", "seed": 7, "usage": usage}
    assert response["usage"] == usage


def test_groq_top_level_usage_is_not_replaced_by_the_one_in_x_groq() -> None:
    top = {"prompt_tokens": 21, "completion_tokens": 3, "total_tokens": 24}
    inner = {**top, "queue_time": 0.05}
    body = sse(
        chunk(choice(role="assistant", content="Hi")),
        chunk(choice(finish_reason="stop"), x_groq={"id": "r", "usage": inner}, usage=top),
    )
    response = ours(body)
    assert response["usage"] == top
    assert response["x_groq"]["usage"] == inner


def test_groq_channel_is_kept_once() -> None:
    body = sse(
        chunk(choice(role="assistant", content="")),
        chunk(choice(reasoning="The user", channel="analysis")),
        chunk(choice(reasoning=" wants", channel="analysis")),
        chunk(choice(content="Ok", finish_reason="stop")),
    )
    assert message_of(sdk(body))["channel"] == "analysisanalysis"  # SDK-wrong
    assert message_of(ours(body))["channel"] == "analysis"


def test_groq_executed_tools_repeated_whole_are_not_doubled() -> None:
    call = {"index": 0, "type": "search", "arguments": '{"q": "sf"}'}
    body = sse(
        chunk(choice(role="assistant", executed_tools=[{**call, "search_results": {"r": []}}])),
        chunk(choice(executed_tools=[{**call, "output": "Sunny", "search_results": {"r": [1]}}])),
        chunk(choice(content="Sunny.", finish_reason="stop")),
    )
    assert message_of(sdk(body))["executed_tools"][0]["arguments"] == call["arguments"] * 2
    assert message_of(ours(body))["executed_tools"] == [
        {**call, "output": "Sunny", "search_results": {"r": [1]}}
    ]


def test_first_non_empty_id_and_its_created_name_the_completion() -> None:
    body = sse(
        chunk(choice(role="assistant", content="a"), id="c-1", created=10),
        chunk(choice(content="b"), id="c-2", created=11),
        chunk(choice(finish_reason="stop"), id="stub", created=12),
    )
    response = ours(body)
    assert (response["id"], response["created"]) == ("c-1", 10)
    assert (response["id"], response["created"]) == (sdk(body)["id"], sdk(body)["created"])


def test_azure_opening_chunk_gives_prompt_filter_results_and_filters_are_latest() -> None:
    safe = {"filtered": False, "severity": "safe"}
    results = {"hate": safe, "violence": safe}
    opening = {
        "choices": [],
        "created": 0,
        "id": "",
        "model": "",
        "object": "",
        "prompt_filter_results": [{"prompt_index": 0, "content_filter_results": results}],
    }
    body = sse(
        opening,
        chunk({**choice(role="assistant", content=""), "content_filter_results": {}}),
        chunk({**choice(content="Hi"), "content_filter_results": {"hate": safe}}),
        chunk({**choice(content="!"), "content_filter_results": results}),
        chunk({**choice(finish_reason="stop"), "content_filter_results": {}}),
    )
    record = rebuilt(body)
    assert record["complete"], record["errors"]
    assert record["unknown_events"] == []
    response = record["response"]
    assert response["prompt_filter_results"] == opening["prompt_filter_results"]
    assert (response["id"], response["created"], response["model"]) == (
        "chatcmpl-1",
        1700000000,
        "gpt-test",
    )
    assert response["choices"][0]["content_filter_results"] == results
    assert "prompt_filter_results" not in sdk(body)  # SDK-wrong: it skips `object: ""`


def test_a_later_content_filter_result_replaces_an_earlier_one_and_empty_erases_none() -> None:
    safe = {"filtered": False, "severity": "safe"}
    high = {"filtered": True, "severity": "high"}
    body = sse(
        chunk({**choice(role="assistant", content="a"), "content_filter_results": {"hate": safe}}),
        chunk({**choice(content="b"), "content_filter_results": {"hate": high}}),
        chunk({**choice(finish_reason="content_filter"), "content_filter_results": {}}),
    )
    assert ours(body)["choices"][0]["content_filter_results"] == {"hate": high}


def test_mistral_thinking_parts_then_text_become_two_parts() -> None:
    def thinking(text: str) -> list[dict[str, Any]]:
        return [{"type": "thinking", "thinking": [{"type": "text", "text": text}]}]

    body = sse(
        chunk(choice(role="assistant", content="")),
        chunk(choice(content=thinking("Okay,"))),
        chunk(choice(content=thinking(" think."))),
        chunk(choice(content="To")),
        chunk(choice(content=" cross")),
        chunk(choice(content="", finish_reason="stop")),
    )
    assert message_of(sdk(body))["content"] == "To cross"  # SDK-wrong: thinking dropped
    assert message_of(ours(body))["content"] == [
        {"type": "thinking", "thinking": [{"type": "text", "text": "Okay, think."}]},
        {"type": "text", "text": "To cross"},
    ]


def test_text_before_content_parts_becomes_the_first_part() -> None:
    body = sse(
        chunk(choice(role="assistant", content="Hel")),
        chunk(choice(content="lo")),
        chunk(choice(content=[{"type": "text", "text": " there"}, {"type": "image_url"}])),
        chunk(choice(content=[{"type": "text", "text": "!"}], finish_reason="stop")),
    )
    assert message_of(ours(body))["content"] == [
        {"type": "text", "text": "Hello there"},
        {"type": "image_url"},
        {"type": "text", "text": "!"},
    ]


def test_content_parts_from_the_first_delta_are_merged_too() -> None:
    body = sse(
        chunk(choice(role="assistant", content=[{"type": "text", "text": "A"}])),
        chunk(choice(content=[{"type": "text", "text": "B"}], finish_reason="stop")),
    )
    assert message_of(ours(body))["content"] == [{"type": "text", "text": "AB"}]
