"""Legacy OpenAI Completions: streamed `text_completion` chunks become one `text_completion`.

The openai SDK has no stream helper for this API, so the non-streamed `openai.types.Completion`
is the oracle of shape: every rebuilt object must validate as one and dump back unchanged
(nothing lost, nothing added), and each merge rule is checked on a constructed stream in the
shapes vLLM, llama.cpp and OpenAI's `gpt-3.5-turbo-instruct` send.
"""

from __future__ import annotations

import re
from typing import Any

import openai
import orjson
import pytest

from addon.providers.base import Part, Usage
from addon.providers.openai_completions import PROVIDER, OpenAICompletions
from addon.wire.sse import SSEDecoder
from tests.oracles import CORPUS
from tests.streams import split_at

JSON = dict[str, Any]
SAMPLE = CORPUS / "openai-completions" / "vllm_logprobs_usage.sse"


# --- helpers ---------------------------------------------------------------------------


def chunk(*choices: JSON, **fields: Any) -> JSON:
    """A `text_completion` chunk with the usual top-level fields."""
    return {
        "id": "cmpl-1",
        "object": "text_completion",
        "created": 1700000000,
        "model": "gpt-3.5-turbo-instruct",
        "choices": list(choices),
        **fields,
    }


def choice(text: str, index: int = 0, finish_reason: str | None = None, **fields: Any) -> JSON:
    return {"index": index, "text": text, "logprobs": None, "finish_reason": finish_reason} | fields


def last(text: str, **fields: Any) -> JSON:
    """A choice's last piece (`finish_reason: stop`)."""
    return choice(text, finish_reason="stop", **fields)


def sse(*chunks: Any, done: bool = True) -> bytes:
    events = [c if isinstance(c, str) else orjson.dumps(c).decode() for c in chunks]
    if done:
        events.append("[DONE]")
    return "".join(f"data: {e}\n\n" for e in events).encode()


def fold(*pieces: bytes) -> OpenAICompletions:
    """The accumulator after the body, fed in these pieces, and `finish`."""
    decoder = SSEDecoder()
    accumulator = OpenAICompletions()
    for piece in pieces:
        accumulator.feed_all(decoder.feed(piece))
    accumulator.feed_all(decoder.close())
    accumulator.finish()
    return accumulator


def rebuilt(body: bytes) -> JSON:
    accumulator = fold(body)
    assert accumulator.errors == [], accumulator.errors
    result = accumulator.result()
    assert result is not None
    return result


def assert_is_a_completion(response: JSON) -> None:
    """Valid as the SDK's non-streamed `Completion`, and dumped back without a change."""
    completion = openai.types.Completion.model_validate(response)
    assert completion.model_dump(mode="json", exclude_unset=True) == response


def logprobs(*tokens: tuple[str, float, int]) -> JSON:
    return {
        "tokens": [t for t, _, _ in tokens],
        "token_logprobs": [p for _, p, _ in tokens],
        "top_logprobs": [{t: p} for t, p, _ in tokens],
        "text_offset": [o for _, _, o in tokens],
    }


# --- the sample answer -----------------------------------------------------------------


def test_the_vllm_sample_rebuilds_to_one_completion_with_every_token() -> None:
    body = SAMPLE.read_bytes()
    chunks = [orjson.loads(line[6:]) for line in body.splitlines() if line.startswith(b"data: {")]
    pieces = [c["choices"][0] for c in chunks if c["choices"]]
    response = rebuilt(body)
    assert_is_a_completion(response)
    assert response == {
        "id": chunks[0]["id"],
        "object": "text_completion",
        "created": chunks[0]["created"],
        "model": chunks[0]["model"],
        "choices": [
            {
                "index": 0,
                "text": "".join(p["text"] for p in pieces),
                "logprobs": {
                    key: [v for p in pieces for v in p["logprobs"][key]]
                    for key in ("text_offset", "token_logprobs", "tokens", "top_logprobs")
                },
                "finish_reason": "length",
                "stop_reason": None,
            }
        ],
        "usage": chunks[-1]["usage"],
    }
    assert response["choices"][0]["text"] == " Paris. It is known for its art"


def test_the_vllm_sample_in_any_chunking_gives_the_same_completion() -> None:
    body = SAMPLE.read_bytes()
    whole = rebuilt(body)
    for step in (1, 7, 64, 333):
        cuts = list(range(step, len(body), step))
        assert fold(*split_at(body, cuts)).result() == whole


# --- merge rules, one per stream -------------------------------------------------------


def test_text_is_joined_and_the_finish_reason_is_kept_after_a_null() -> None:
    body = sse(
        chunk(choice("Once")),
        chunk(choice(" upon")),
        chunk(choice(" a time", finish_reason="stop")),
        chunk(choice("", finish_reason=None)),  # a server's trailing chunk
    )
    response = rebuilt(body)
    assert_is_a_completion(response)
    assert response["choices"] == [
        {"index": 0, "text": "Once upon a time", "logprobs": None, "finish_reason": "stop"}
    ]


def test_logprob_lists_are_joined_token_by_token() -> None:
    body = sse(
        chunk({**choice("\n\n"), "logprobs": logprobs(("\n\n", -0.17, 36))}),
        chunk({**choice("I"), "logprobs": logprobs(("I", -0.5, 38))}),
        chunk({**last(" love"), "logprobs": logprobs((" love", -0.01, 39))}),
    )
    response = rebuilt(body)
    assert_is_a_completion(response)
    assert response["choices"][0]["logprobs"] == logprobs(
        ("\n\n", -0.17, 36), ("I", -0.5, 38), (" love", -0.01, 39)
    )


def test_choices_of_n_2_interleaved_and_out_of_order_are_kept_apart() -> None:
    body = sse(
        chunk(choice("B", index=1)),
        chunk(choice("A", index=0)),
        chunk(choice("b", index=1, finish_reason="length"), choice("a", index=0)),
        chunk(choice("", index=0, finish_reason="stop")),
    )
    response = rebuilt(body)
    assert_is_a_completion(response)
    assert [(c["index"], c["text"], c["finish_reason"]) for c in response["choices"]] == [
        (0, "Aa", "stop"),
        (1, "Bb", "length"),
    ]


def test_the_usage_chunk_without_choices_gives_usage_and_touches_no_choice() -> None:
    usage = {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}
    body = sse(
        chunk(choice("Hi"), usage=None),
        chunk(choice("!", finish_reason="stop"), usage=None),
        chunk(usage=usage),
    )
    response = rebuilt(body)
    assert_is_a_completion(response)
    assert response["usage"] == usage
    assert response["choices"][0]["text"] == "Hi!"


def test_llama_cpp_final_chunk_with_usage_and_timings_is_kept() -> None:
    timings = {"prompt_n": 6, "predicted_n": 2, "predicted_per_second": 41.5}
    usage = {"completion_tokens": 2, "prompt_tokens": 6, "total_tokens": 8}
    body = sse(
        chunk(choice("Hel"), model="gpt-3.5-turbo", system_fingerprint="b5400-abc"),
        chunk(choice("lo", finish_reason="stop"), usage=usage, timings=timings),
    )
    response = rebuilt(body)
    assert_is_a_completion(response)
    assert (response["timings"], response["usage"]) == (timings, usage)
    assert response["system_fingerprint"] == "b5400-abc"


def test_vllm_token_ids_are_joined_and_other_choice_fields_are_the_latest() -> None:
    body = sse(
        chunk({**choice(" Paris"), "token_ids": [12095], "stop_reason": None}),
        chunk({**choice(".", finish_reason="stop"), "token_ids": [13], "stop_reason": 151645}),
    )
    item = rebuilt(body)["choices"][0]
    assert item["token_ids"] == [12095, 13]
    assert item["stop_reason"] == 151645


def test_the_opening_chunks_id_and_created_name_the_answer() -> None:
    body = sse(
        chunk(choice("a"), id="cmpl-a", created=10),
        chunk(choice("b", finish_reason="stop"), id="cmpl-b", created=11),
    )
    response = rebuilt(body)
    assert (response["id"], response["created"]) == ("cmpl-a", 10)


# --- what goes wrong -------------------------------------------------------------------


def test_a_stream_without_done_is_incomplete_and_says_why() -> None:
    accumulator = fold(sse(chunk(choice("Hi")), done=False))
    assert accumulator.errors == ["stream ended with no [DONE]; choice(s) [0] had no finish_reason"]
    assert accumulator.result()["choices"][0]["text"] == "Hi"  # type: ignore[index]


def test_every_choice_finished_but_no_done_is_still_reported() -> None:
    accumulator = fold(sse(chunk(choice("Hi", finish_reason="stop")), done=False))
    assert len(accumulator.errors) == 1
    assert "every choice had a finish_reason" in accumulator.errors[0]


def test_an_error_event_is_reported_and_kept_aside() -> None:
    error = {"object": "error", "message": "max_tokens is too large", "type": "BadRequestError"}
    accumulator = fold(sse(chunk(choice("Hi")), {"error": error}, done=False))
    assert accumulator.errors[0] == (
        "chunk #2: error chunk: BadRequestError: max_tokens is too large"
    )
    assert accumulator.unknown == [{"event": "message", "data": {"error": error}}]


def test_an_error_inside_a_chunk_is_reported_and_the_chunk_merged() -> None:
    error = {"code": "server_error", "message": "lost the GPU"}
    accumulator = fold(sse(chunk(choice("Hi")), chunk(last("!"), error=error)))
    assert accumulator.errors == ["chunk #2: error chunk: server_error: lost the GPU"]
    result = accumulator.result()
    assert result is not None
    assert (result["choices"][0]["text"], result["error"]) == ("Hi!", error)


def test_bad_json_is_reported_and_the_stream_goes_on() -> None:
    accumulator = fold(sse(chunk(choice("A")), '{"choices": [', chunk(last("B"))))
    assert len(accumulator.errors) == 1 and accumulator.errors[0].startswith("chunk #2: not JSON")
    assert accumulator.result()["choices"][0]["text"] == "AB"  # type: ignore[index]


def test_a_chat_chunk_on_this_route_is_kept_aside() -> None:
    chat = {"id": "c", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}}]}
    accumulator = fold(sse(chunk(choice("Hi", finish_reason="stop")), chat))
    assert accumulator.unknown == [{"event": "message", "data": chat}]
    assert accumulator.errors == []


def test_odd_choices_and_fields_are_reported_not_raised() -> None:
    accumulator = fold(
        sse(
            chunk("junk", {"index": "0", "text": "x"}, {"index": 0, "text": 5}),
            chunk({**choice("ok", finish_reason="stop"), "logprobs": [1]}),
            {"object": "text_completion", "choices": {"index": 0}},
        )
    )
    assert accumulator.errors == [
        "chunk #1: a choice is not an object; ignored",
        "chunk #1: choice index '0' is not an integer; ignored",
        "chunk #1 choice 0: `text` is not a string; ignored",
        "chunk #2 choice 0: `logprobs` is not an object; ignored",
        "chunk #3: `choices` is not a list; ignored",
    ]
    assert accumulator.result()["choices"][0]["text"] == "ok"  # type: ignore[index]


def test_nothing_usable_gives_no_response() -> None:
    accumulator = OpenAICompletions()
    assert accumulator.result() is None
    accumulator.finish()
    assert accumulator.errors == ["stream ended with no [DONE] and no choice"]


def test_content_starts_with_the_first_non_empty_text() -> None:
    decoder = SSEDecoder()
    events = decoder.feed(sse(chunk(choice("")), chunk(choice("Hi"))))
    accumulator = OpenAICompletions()
    accumulator.feed(events[0])
    assert not accumulator.content_started
    accumulator.feed(events[1])
    assert accumulator.content_started


# --- summary, usage, plain bodies --------------------------------------------------------


def test_summary_and_usage_of_the_sample() -> None:
    response = rebuilt(SAMPLE.read_bytes())
    summary = OpenAICompletions.summarize(response)
    assert (summary.model, summary.stop_reason) == ("Qwen/Qwen2.5-0.5B-Instruct", "length")
    assert summary.parts == [Part("text", " Paris. It is known for its art")]
    assert summary.usage == response["usage"]
    assert OpenAICompletions.usage(response) == Usage(6, 8, None, None, None)


def test_usage_reads_cached_prompt_tokens() -> None:
    response = {
        "usage": {
            "prompt_tokens": 11,
            "completion_tokens": 100,
            "prompt_tokens_details": {"cached_tokens": 10},
        }
    }
    assert OpenAICompletions.usage(response) == Usage(11, 100, 10, None, None)
    assert OpenAICompletions.usage({}) == Usage()


def test_summary_of_two_choices_lists_both_stop_reasons() -> None:
    response = {
        "model": "m",
        "choices": [
            {"index": 0, "text": "a", "finish_reason": "stop"},
            {"index": 1, "text": "b", "finish_reason": "length"},
        ],
    }
    summary = OpenAICompletions.summarize(response)
    assert summary.stop_reason == "stop, length"
    assert summary.parts == [Part("text", "a"), Part("text", "b")]


def test_a_plain_error_body_is_not_complete() -> None:
    body = {"error": {"type": "invalid_request_error", "message": "bad model"}}
    assert OpenAICompletions.response_complete(body) == [
        "error in body: invalid_request_error: bad model"
    ]
    assert OpenAICompletions.response_complete({"object": "text_completion"}) == []


# --- the descriptor ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "matches"),
    [
        ("/v1/completions", True),
        ("/completions", True),
        ("/openai/deployments/gpt-35-instruct/completions", True),
        ("/api/v1/completions", True),
        ("/v1/chat/completions", False),
        ("/chat/completions", False),
        ("/v1/completions/cmpl-1", False),
        ("/v1/responses", False),
    ],
)
def test_the_route_takes_completions_on_any_host_but_not_chat(path: str, matches: bool) -> None:
    (route,) = PROVIDER.routes
    assert (route.host, route.methods) == ("*", ("POST",))
    assert bool(re.search(route.path, path)) is matches


def test_the_descriptor_names_this_accumulator_and_a_sample_that_rebuilds() -> None:
    assert PROVIDER.id == OpenAICompletions.provider == "openai-completions"
    assert PROVIDER.accumulator is OpenAICompletions
    assert PROVIDER.framing_for("text/event-stream; charset=utf-8", "/v1/completions")
    assert PROVIDER.framing_for("application/json", "/v1/completions") is None
    (sample,) = PROVIDER.samples
    assert sample.host.startswith("127.0.0.1")
    assert re.search(PROVIDER.routes[0].path, sample.path)
    assert sample.request["stream"] is True
    assert rebuilt((CORPUS / sample.answer).read_bytes())["choices"][0]["finish_reason"]
