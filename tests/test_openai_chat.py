"""OpenAI Chat Completions: the rebuilt `chat.completion` equals what the SDK's helper makes.

Every recorded stream is compared with `client.chat.completions.stream(...)
.get_final_completion()`; where the SDK is wrong, `SDK_WRONG` names the stream and why, and
the test states the API's non-streaming value for the fields concerned.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openai
import orjson
import pytest

from addon import rebuild
from addon.providers.base import Part
from addon.providers.openai_chat import OpenAIChat
from addon.wire.sse import SSEDecoder
from tests.conftest import chat_sse, scramble
from tests.oracles import CORPUS, corpus_streams, strip_nulls
from tests.oracles.openai_chat import sdk_accumulated_snapshot, sdk_final_completion

PROVIDER = "openai-chat"
STREAMS = corpus_streams("sdk/openai-chat") + sorted(
    (CORPUS / "ccproxy").glob("copilot_chat_completions*.sse")
)

LENGTH = (
    "finish_reason 'length': get_final_completion() raises LengthFinishReasonError although "
    "the stream accumulated fine; the SDK's own accumulated snapshot is the expected object"
)
AUDIO = (
    "the recorder dropped `choices` from the audio-data chunks: the SDK raises TypeError on "
    "them; on the stream without those chunks it concatenates the repeated `role` and "
    "`audio.id`, and the audio chunk after the usage chunk (`usage: null`) erases the usage"
)
COPILOT = (
    "Copilot sends no `object`: the SDK skips every chunk and raises AssertionError; with "
    "`object` added, its first (prompt-filter) chunk fixes `id` '' and `created` 0 without "
    "`model`, and the choice's `content_filter_*` keep their first value, not the latest"
)
SDK_WRONG = {
    "hist.test_parse_max_tokens_reached.69363a555f8e.sse": LENGTH,
    "hist.test_parse_max_tokens_reached.7ae6c1a2631b.sse": LENGTH,
    "hist.test_parse_max_tokens_reached.7cb5136bff92.sse": LENGTH,
    "test_parse_max_tokens_reached.4cc50a6135d2.sse": LENGTH,
    "dotnet.ChatWithAudio.e1.sse": AUDIO,
    "dotnet.ChatWithAudioAsync.e1.sse": AUDIO,
    "dotnet.ChatWithBasicAudioOutput.e0.sse": AUDIO,
    "dotnet.ChatWithBasicAudioOutputAsync.e0.sse": AUDIO,
    "copilot_chat_completions.sse": COPILOT,
    "copilot_chat_completions_structured.sse": COPILOT,
    "copilot_chat_completions_thinking.sse": COPILOT,
    "copilot_chat_completions_tools.sse": COPILOT,
}


# --- helpers -----------------------------------------------------------------------------


def chunk(*choices: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A `chat.completion.chunk` with the usual top-level fields."""
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "gpt-test",
        "choices": list(choices),
        **fields,
    }


def choice(index: int = 0, finish_reason: str | None = None, **delta: Any) -> dict[str, Any]:
    return {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish_reason}


def chunks_of(body: bytes) -> list[dict[str, Any]]:
    return [orjson.loads(line[6:]) for line in body.splitlines() if line.startswith(b"data: {")]


def rewrite(body: bytes, change: Any) -> bytes:
    """The same stream with each JSON chunk passed through `change` (None drops it)."""
    kept = [c for c in (change(c) for c in chunks_of(body)) if c is not None]
    return chat_sse(*kept)


def rebuilt(body: bytes) -> dict[str, Any]:
    record = rebuild(PROVIDER, body)
    assert record["streamed"]
    return record


def sdk(body: bytes) -> dict[str, Any]:
    return strip_nulls(sdk_final_completion(body))


def ours(body: bytes) -> dict[str, Any]:
    return strip_nulls(rebuilt(body)["response"])


def message_of(response: dict[str, Any], index: int = 0) -> dict[str, Any]:
    return response["choices"][index]["message"]


# --- the recorded corpus against the SDK ------------------------------------------------


def test_every_named_sdk_wrong_stream_is_in_the_corpus() -> None:
    assert set(SDK_WRONG) <= {p.name for p in STREAMS}
    assert len(STREAMS) >= 60


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: p.name)
def test_corpus_stream_rebuilds_to_the_sdk_completion(path: Path) -> None:
    body = path.read_bytes()
    record = rebuilt(body)
    assert record["complete"], record["errors"]
    assert record["response"]["object"] == "chat.completion"
    reason = SDK_WRONG.get(path.name)
    if reason is None:
        assert strip_nulls(record["response"]) == sdk(body)
    elif reason is LENGTH:
        check_length_stream(body, record)
    elif reason is AUDIO:
        check_audio_stream(body, record)
    else:
        check_copilot_stream(body, record)


def check_length_stream(body: bytes, record: dict[str, Any]) -> None:
    with pytest.raises(openai.LengthFinishReasonError):
        sdk_final_completion(body)
    assert strip_nulls(record["response"]) == strip_nulls(sdk_accumulated_snapshot(body))
    assert [c["finish_reason"] for c in record["response"]["choices"]] == ["length"]


def check_audio_stream(body: bytes, record: dict[str, Any]) -> None:
    with pytest.raises(TypeError):
        sdk_final_completion(body)
    chunks = chunks_of(body)
    deltas = [c["choices"][0]["delta"] for c in chunks if c.get("choices")]
    audio_ids = [d["audio"]["id"] for d in deltas if "id" in d.get("audio", {})]
    expires_at = [d["audio"]["expires_at"] for d in deltas if "expires_at" in d.get("audio", {})]
    roles = [d["role"] for d in deltas if "role" in d]
    usage = next(c["usage"] for c in chunks if c.get("usage"))
    assert len(roles) > 1 and len(audio_ids) > 1, "the SDK-wrong reason no longer applies"
    assert set(roles) == {"assistant"} and len(set(audio_ids)) == 1

    expected = sdk(rewrite(body, lambda c: c if "choices" in c else None))
    message = message_of(expected)
    assert message["role"] == "assistant" * len(roles)
    assert message["audio"]["id"] == audio_ids[0] * len(audio_ids)
    assert "usage" not in expected
    message["role"] = "assistant"
    message["audio"]["id"] = audio_ids[0]
    expected["usage"] = usage
    assert strip_nulls(record["response"]) == expected

    audio = message_of(record["response"])["audio"]
    assert audio["expires_at"] == expires_at[-1]
    pieces = [d["audio"] for d in deltas if "audio" in d]
    assert audio["transcript"] == "".join(a.get("transcript", "") for a in pieces)
    assert audio["data"] == "".join(a.get("data", "") for a in pieces)


def check_copilot_stream(body: bytes, record: dict[str, Any]) -> None:
    with pytest.raises(AssertionError):
        sdk_final_completion(body)
    chunks = chunks_of(body)
    assert all("object" not in c for c in chunks)
    first, last = chunks[0], chunks[-1]
    assert first["id"] == "" and first["created"] == 0 and "model" not in first

    expected = sdk(rewrite(body, lambda c: {**c, "object": "chat.completion.chunk"}))
    assert (expected["id"], expected["created"], expected.get("model")) == ("", 0, None)
    expected.update(id=last["id"], created=last["created"], model=last["model"])
    choice_chunks = [c["choices"][0] for c in chunks if c["choices"]]
    for key in ("content_filter_offsets", "content_filter_results"):
        latest = [c[key] for c in choice_chunks if key in c]
        if latest:
            expected["choices"][0][key] = latest[-1]
    assert strip_nulls(record["response"]) == expected
    assert record["response"]["prompt_filter_results"] == first["prompt_filter_results"]


def test_copilot_content_filter_offsets_are_the_latest_not_the_first() -> None:
    body = (CORPUS / "ccproxy" / "copilot_chat_completions_thinking.sse").read_bytes()
    offsets = [c["choices"][0]["content_filter_offsets"] for c in chunks_of(body) if c["choices"]]
    assert offsets[0] != offsets[-1]
    assert rebuilt(body)["response"]["choices"][0]["content_filter_offsets"] == offsets[-1]


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: p.name)
def test_event_by_event_with_midway_results_gives_the_same_completion(path: Path) -> None:
    body = path.read_bytes()
    decoder = SSEDecoder()
    events = decoder.feed(body) + decoder.close()
    accumulator = OpenAIChat()
    every = max(3, len(events) // 100)  # about a hundred looks midway, at any stream length
    for number, event in enumerate(events):
        accumulator.feed(event)
        if number % every == 0:
            scramble(accumulator.result())  # what result() gave must share nothing with state
    accumulator.finish()
    assert accumulator.errors == []
    assert accumulator.result() == rebuilt(body)["response"]


# --- hand-made streams for what the corpus lacks ----------------------------------------


def test_two_choices_with_tool_calls_at_the_same_tool_index_are_not_merged() -> None:
    def call(index: int, name: str | None, args: str, call_id: str | None = None) -> Any:
        entry: dict[str, Any] = {"index": index, "function": {"arguments": args}}
        if name is not None:
            entry["function"]["name"] = name
            entry["id"] = call_id
            entry["type"] = "function"
        return [entry]

    body = chat_sse(
        chunk(choice(0, role="assistant", tool_calls=call(0, "get_weather", "", "call_a"))),
        chunk(choice(1, role="assistant", tool_calls=call(0, "get_time", "", "call_b"))),
        chunk(choice(0, tool_calls=call(0, None, '{"city":'))),
        chunk(choice(1, tool_calls=call(0, None, '{"tz":'))),
        chunk(choice(0, tool_calls=call(0, None, '"Paris"}'))),
        chunk(choice(1, tool_calls=call(0, None, '"UTC"}'))),
        chunk(choice(0, finish_reason="tool_calls"), choice(1, finish_reason="tool_calls")),
    )
    response = ours(body)
    assert response == sdk(body)
    first = message_of(response, 0)["tool_calls"]
    second = message_of(response, 1)["tool_calls"]
    assert first == [
        {
            "index": 0,
            "id": "call_a",
            "type": "function",
            "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
        }
    ]
    assert second[0]["id"] == "call_b"
    assert second[0]["function"] == {"name": "get_time", "arguments": '{"tz":"UTC"}'}


def test_legacy_function_call_is_accumulated() -> None:
    body = chat_sse(
        chunk(choice(role="assistant", content=None, function_call={"name": "f", "arguments": ""})),
        chunk(choice(function_call={"arguments": '{"a"'})),
        chunk(choice(function_call={"arguments": ": 1}"})),
        chunk(choice(finish_reason="function_call")),
    )
    response = ours(body)
    assert response == sdk(body)
    assert message_of(response)["function_call"] == {"name": "f", "arguments": '{"a": 1}'}
    assert response["choices"][0]["finish_reason"] == "function_call"


def test_refusal_and_content_logprobs_are_concatenated() -> None:
    def token(text: str) -> dict[str, Any]:
        return {"token": text, "logprob": -0.5, "bytes": list(text.encode()), "top_logprobs": []}

    def with_logprobs(item: dict[str, Any], content: Any, refusal: Any) -> dict[str, Any]:
        return {**item, "logprobs": {"content": content, "refusal": refusal}}

    body = chat_sse(
        chunk(with_logprobs(choice(role="assistant", refusal=""), None, [])),
        chunk(with_logprobs(choice(refusal="I can"), None, [token("I can")])),
        chunk(with_logprobs(choice(refusal="not"), None, [token("not")])),
        chunk(with_logprobs(choice(content="ok"), [token("ok")], None)),
        chunk(choice(finish_reason="stop")),
    )
    response = ours(body)
    assert response == sdk(body)
    logprobs = response["choices"][0]["logprobs"]
    assert [t["token"] for t in logprobs["refusal"]] == ["I can", "not"]
    assert [t["token"] for t in logprobs["content"]] == ["ok"]
    assert message_of(response)["refusal"] == "I cannot"


def test_a_later_null_finish_reason_does_not_erase_a_real_one() -> None:
    body = chat_sse(
        chunk(choice(role="assistant", content="Hi")),
        chunk(choice(finish_reason="stop")),
        chunk(choice(content="")),  # a compatible server's trailing chunk
    )
    response = ours(body)
    assert response == sdk(body)
    assert response["choices"][0]["finish_reason"] == "stop"


def test_usage_only_final_chunk_sets_usage_without_touching_choices() -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    body = chat_sse(
        chunk(choice(role="assistant", content="Hi"), usage=None),
        chunk(choice(finish_reason="stop"), usage=None),
        chunk(usage=usage),
    )
    response = ours(body)
    assert response == sdk(body)
    assert response["usage"] == usage
    assert response["choices"][0]["message"] == {"role": "assistant", "content": "Hi"}


def test_a_later_null_usage_does_not_erase_it_where_the_sdk_does() -> None:
    usage = {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    body = chat_sse(
        chunk(choice(role="assistant", content="Hi")),
        chunk(usage=usage),
        chunk(choice(finish_reason="stop"), usage=None),
    )
    assert "usage" not in sdk(body)  # SDK-wrong: it takes each chunk's usage, null included
    assert ours(body)["usage"] == usage


def test_obfuscation_is_dropped() -> None:
    body = chat_sse(
        chunk(choice(role="assistant", content="Hi"), obfuscation="xYz1"),
        chunk(choice(finish_reason="stop"), obfuscation="aB"),
    )
    response = rebuilt(body)["response"]
    assert "obfuscation" not in response
    assert strip_nulls(response) == sdk(body)


def test_an_error_chunk_is_reported_and_kept() -> None:
    error = {"message": "The server had an error", "type": "server_error", "code": None}
    body = chat_sse(
        chunk(choice(role="assistant", content="Hel")),
        {"error": error},
        done=False,
    )
    record = rebuilt(body)
    assert not record["complete"]
    assert "chunk #2: error chunk: server_error: The server had an error" in record["errors"]
    assert record["unknown_events"] == [{"event": "message", "data": {"error": error}}]
    assert message_of(record["response"])["content"] == "Hel"


def test_unknown_fields_on_chunk_choice_and_delta_are_kept_like_the_sdk_keeps_them() -> None:
    body = chat_sse(
        chunk(
            {**choice(role="assistant", reasoning_content="Let me"), "stop_reason": None},
            citations=["https://example.invalid/a"],
            x_request_tokens=7,
        ),
        chunk({**choice(reasoning_content=" think."), "provider_extra": {"k": "v"}}),
        chunk(choice(content="42", annotations=[{"type": "url_citation", "url": "u"}])),
        chunk(choice(finish_reason="stop")),
    )
    response = ours(body)
    sdk_response = sdk(body)
    # The SDK takes choice-level extras from a choice's first chunk only; the latest is kept
    # here (`provider_extra` came later), everything else is exactly the SDK's.
    assert response["choices"][0].pop("provider_extra") == {"k": "v"}
    assert response == sdk_response
    assert response["citations"] == ["https://example.invalid/a"]
    assert response["x_request_tokens"] == 7
    message = message_of(response)
    assert message["reasoning_content"] == "Let me think."
    assert message["annotations"] == [{"type": "url_citation", "url": "u"}]


def test_bad_json_is_reported_and_the_stream_goes_on() -> None:
    body = chat_sse(
        chunk(choice(role="assistant", content="A")),
        '{"choices": [',
        chunk(choice(content="B", finish_reason="stop")),
    )
    record = rebuilt(body)
    assert not record["complete"]
    assert len(record["errors"]) == 1 and record["errors"][0].startswith("chunk #2: not JSON")
    assert record["unknown_events"] == [{"event": "message", "data": '{"choices": ['}]
    assert message_of(record["response"])["content"] == "AB"


def test_stream_without_done_is_not_complete() -> None:
    body = chat_sse(chunk(choice(role="assistant", content="Hi")), done=False)
    record = rebuilt(body)
    assert not record["complete"]
    assert record["errors"] == ["stream ended with no [DONE]; choice(s) [0] had no finish_reason"]


def test_stream_that_finished_every_choice_but_sent_no_done_says_so() -> None:
    body = chat_sse(
        chunk(choice(0, role="assistant", content="a"), choice(1, role="assistant", content="b")),
        chunk(choice(0, finish_reason="stop"), choice(1, finish_reason="length")),
        done=False,
    )
    record = rebuilt(body)
    assert not record["complete"]
    assert len(record["errors"]) == 1
    assert "no [DONE]" in record["errors"][0]
    assert "every choice had a finish_reason" in record["errors"][0]


def test_repeated_role_id_and_expires_at_are_kept_once_where_the_sdk_joins_them() -> None:
    audio = {"id": "audio_1", "expires_at": 1700003600}
    body = chat_sse(
        chunk(choice(role="assistant", audio={**audio, "transcript": "Hel"})),
        chunk(choice(role="assistant", audio={**audio, "data": "AAA", "transcript": "lo"})),
        chunk(choice(audio={**audio, "data": "BBB"}, finish_reason="stop")),
    )
    message = message_of(sdk(body))
    # SDK-wrong: strings concatenated and numbers added up, identifiers included.
    assert message["role"] == "assistantassistant"
    assert message["audio"]["id"] == "audio_1" * 3
    assert message["audio"]["expires_at"] == 3 * 1700003600
    assert message_of(ours(body)) == {
        "role": "assistant",
        "audio": {
            "id": "audio_1",
            "expires_at": 1700003600,
            "transcript": "Hello",
            "data": "AAABBB",
        },
    }


def test_repeated_tool_call_id_and_name_are_kept_once_and_a_missing_type_is_function() -> None:
    def call(**fields: Any) -> list[dict[str, Any]]:
        return [{"index": 0, **fields}]

    body = chat_sse(
        chunk(choice(role="assistant", tool_calls=call(id="call_1", function={"name": "f"}))),
        chunk(choice(tool_calls=call(id="call_1", function={"name": "f", "arguments": "{}"}))),
        chunk(choice(finish_reason="tool_calls")),
    )
    assert message_of(ours(body))["tool_calls"] == [
        {
            "index": 0,
            "id": "call_1",
            "type": "function",
            "function": {"name": "f", "arguments": "{}"},
        }
    ]


def test_choices_are_matched_by_index_whatever_order_they_arrive_in() -> None:
    body = chat_sse(
        chunk(choice(1, role="assistant", content="second")),
        chunk(choice(0, role="assistant", content="first")),
        chunk(choice(1, content="!", finish_reason="stop"), choice(0, finish_reason="stop")),
    )
    with pytest.raises(IndexError):  # SDK-wrong: it places choices by list position
        sdk(body)
    response = ours(body)
    assert [c["index"] for c in response["choices"]] == [0, 1]
    assert message_of(response, 0)["content"] == "first"
    assert message_of(response, 1)["content"] == "second!"


def test_tool_call_fragments_out_of_index_order_land_on_their_own_call() -> None:
    body = chat_sse(
        chunk(choice(role="assistant", tool_calls=[{"index": 1, "function": {"name": "b"}}])),
        chunk(choice(tool_calls=[{"index": 0, "function": {"name": "a", "arguments": "{"}}])),
        chunk(choice(tool_calls=[{"index": 1, "function": {"arguments": "[]"}}])),
        chunk(choice(tool_calls=[{"index": 0, "function": {"arguments": "}"}}])),
        chunk(choice(finish_reason="tool_calls")),
    )
    with pytest.raises(IndexError):  # SDK-wrong: it places tool calls by list position
        sdk(body)
    calls = message_of(ours(body))["tool_calls"]
    assert [(c["index"], c["function"]["name"], c["function"]["arguments"]) for c in calls] == [
        (0, "a", "{}"),
        (1, "b", "[]"),
    ]


def test_tool_calls_without_index_are_kept_where_the_sdk_raises() -> None:
    def call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
        return {
            "id": call_id,
            "type": "function",
            "function": {"name": name, "arguments": arguments},
        }

    body = chat_sse(  # Gemini's OpenAI-compatible streams send whole tool calls without `index`
        chunk(choice(role="assistant", tool_calls=[call("a", "f", "{")])),
        chunk(choice(tool_calls=[{"function": {"arguments": "}"}}])),
        chunk(choice(tool_calls=[call("b", "g", "{}")])),
        chunk(choice(finish_reason="tool_calls")),
    )
    with pytest.raises(TypeError, match="list indices must be integers"):
        sdk(body)
    record = rebuilt(body)
    assert record["complete"], record["errors"]
    assert message_of(record["response"])["tool_calls"] == [
        call("a", "f", "{}"),
        call("b", "g", "{}"),
    ]


def test_a_list_entry_that_is_not_an_object_is_reported_and_the_rest_kept() -> None:
    body = chat_sse(
        chunk(choice(role="assistant", tool_calls=[{"index": 0, "function": {"name": "f"}}])),
        chunk(choice(tool_calls=["junk", {"index": 0, "function": {"arguments": "{}"}}])),
        chunk(choice(finish_reason="tool_calls")),
    )
    record = rebuilt(body)
    assert not record["complete"]
    assert record["errors"] == [
        "chunk #2 choice 0: `tool_calls` entry is not an object, ignored: 'junk'"
    ]
    calls = message_of(record["response"])["tool_calls"]
    assert calls[0]["function"] == {"name": "f", "arguments": "{}"}


def test_copilot_style_opening_chunk_gives_way_to_the_real_id_and_model() -> None:
    body = chat_sse(
        {"choices": [], "created": 0, "id": "", "prompt_filter_results": [{"prompt_index": 0}]},
        {
            "choices": [choice(role="assistant", content="Hi")],
            "created": 5,
            "id": "c1",
            "model": "m",
        },
        {"choices": [choice(finish_reason="stop")], "created": 5, "id": "c1", "model": "m"},
    )
    response = ours(body)
    assert (response["id"], response["created"], response["model"]) == ("c1", 5, "m")
    assert response["object"] == "chat.completion"
    assert response["prompt_filter_results"] == [{"prompt_index": 0}]


def test_foreign_objects_such_as_azure_async_filter_events_are_kept_aside() -> None:
    azure = {
        "choices": [{"index": 0, "finish_reason": None, "content_filter_results": {}}],
        "created": 0,
        "id": "",
        "model": "",
        "object": "",
    }
    body = chat_sse(
        chunk(choice(role="assistant", content="Hi")),
        azure,
        chunk(choice(finish_reason="stop")),
    )
    record = rebuilt(body)
    assert record["complete"]
    assert record["unknown_events"] == [{"event": "message", "data": azure}]
    assert strip_nulls(record["response"]) == sdk(body)


def test_a_chunk_after_done_is_reported_and_still_merged() -> None:
    body = chat_sse(chunk(choice(role="assistant", content="Hi", finish_reason="stop")))
    body += chat_sse(chunk(choice(content="!")), done=False)
    record = rebuilt(body)
    assert record["errors"] == ["chunk #2: arrived after [DONE]"]
    assert message_of(record["response"])["content"] == "Hi!"


def test_empty_keepalive_events_are_ignored() -> None:
    body = b"data: \n\n" + chat_sse(
        chunk(choice(role="assistant", content="Hi", finish_reason="stop"))
    )
    record = rebuilt(body)
    assert record["complete"], record["errors"]
    assert record["unknown_events"] == []


def test_nothing_usable_gives_no_response() -> None:
    accumulator = OpenAIChat()
    assert accumulator.result() is None
    accumulator.finish()
    assert accumulator.errors == ["stream ended with no [DONE] and no choice"]


def test_content_starts_with_the_first_delta_carrying_content() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(
        chat_sse(
            chunk(choice(role="assistant", content="", refusal=None)),
            chunk(choice(content="Hi")),
        )
    )
    accumulator = OpenAIChat()
    accumulator.feed(events[0])
    assert not accumulator.content_started
    accumulator.feed(events[1])
    assert accumulator.content_started


# --- summary and plain bodies -----------------------------------------------------------


def test_summary_lists_model_stop_reason_usage_and_parts_in_order() -> None:
    body = chat_sse(
        chunk(choice(role="assistant", content="Checking.")),
        chunk(
            choice(
                tool_calls=[
                    {
                        "index": 0,
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
                    }
                ]
            )
        ),
        chunk(choice(finish_reason="tool_calls")),
        chunk(usage={"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}),
    )
    summary = OpenAIChat.summarize(rebuilt(body)["response"])
    assert summary.model == "gpt-test"
    assert summary.stop_reason == "tool_calls"
    assert summary.usage == {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    assert summary.parts == [
        Part("text", "Checking."),
        Part("tool_call", '{"city":"Oslo"}', "get_weather"),
    ]
    assert summary.tool_calls == ["get_weather"]


def test_summary_of_several_choices_gives_every_stop_reason_and_refusals() -> None:
    response = {
        "model": "gpt-test",
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": "a"}, "finish_reason": "stop"},
            {
                "index": 1,
                "message": {"role": "assistant", "content": None, "refusal": "No."},
                "finish_reason": "length",
            },
            {
                "index": 2,
                "message": {"role": "assistant", "function_call": {"name": "f", "arguments": "{}"}},
                "finish_reason": "function_call",
            },
        ],
    }
    summary = OpenAIChat.summarize(response)
    assert summary.stop_reason == "stop, length, function_call"
    assert summary.parts == [
        Part("text", "a"),
        Part("refusal", "No."),
        Part("tool_call", "{}", "f"),
    ]


def test_summary_of_a_recorded_refusal_stream() -> None:
    path = CORPUS / "sdk/openai-chat/test_parse_pydantic_model_refusal.173417d55340.sse"
    summary = OpenAIChat.summarize(rebuilt(path.read_bytes())["response"])
    assert summary.stop_reason == "stop"
    assert [p.kind for p in summary.parts] == ["refusal"]
    assert summary.parts[0].text == "I'm sorry, I can't assist with that request."


def test_plain_json_body_with_an_error_is_not_complete() -> None:
    body = b'{"error": {"type": "invalid_request_error", "message": "bad model"}}'
    record = rebuild(PROVIDER, body, streamed=False, status_code=200)
    assert not record["complete"]
    assert record["errors"] == ["error in body: invalid_request_error: bad model"]


def test_plain_json_completion_is_complete() -> None:
    body = orjson.dumps(
        {
            "id": "c",
            "object": "chat.completion",
            "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "x"}}],
        }
    )
    assert rebuild(PROVIDER, body, streamed=False, status_code=200)["complete"]
