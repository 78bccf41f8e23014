"""Gemini `streamGenerateContent`: the rebuilt object is the non-streamed `GenerateContentResponse`.

The reference is google-genai's own model: every rebuilt object must validate as
`types.GenerateContentResponse`, and dumping that model (by alias, without nulls, as JSON) must
give the object back, nothing lost. Where google-genai's model lacks a field the API sends, or
cannot read what the API sent, `SDK_LACKS` names the case and the test checks the rest.
google-genai has no stream-merging helper of its own to compare with (see the module docstring).
"""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from google.genai import _common, types

from addon.providers.base import Part, Usage
from addon.providers.gemini import (
    CODE_ASSIST_PROVIDER,
    PROVIDER,
    GeminiCodeAssist,
    GeminiGenerateContent,
)
from addon.wire.jsonarray import JSONArrayDecoder
from addon.wire.sse import SSEDecoder
from tests.conftest import scramble
from tests.gemini_streams import (
    call,
    candidate,
    chunk,
    code_assist,
    json_array,
    sse,
    text,
    usage,
)
from tests.oracles import CORPUS

GEMINI = CORPUS / "gemini"
STREAMS = sorted((GEMINI / "ai-studio").glob("*.sse")) + sorted(
    p for p in (GEMINI / "vertex").iterdir() if not p.name.endswith(".json")
)
NONSTREAM = sorted(p for p in (GEMINI / "nonstream").glob("*.json") if ".meta." not in p.name)
CODE_ASSIST_SAMPLE = GEMINI / "code-assist" / "constructed__code_assist_stream.sse"

SDK_LACKS = {
    "usageMetadata.serviceTier": "google-genai 3.6.1's usage metadata has no service_tier",
}
"""Fields the API sends that google-genai's model forbids (it drops them on read)."""

INT_ENUMS = {
    "finishReason": {1: "STOP"},
    "modality": {1: "TEXT"},
    "trafficType": {1: "ON_DEMAND"},
}
"""Vertex's `enum-encoding=int` values in the corpus and their names (the protos' numbers):
google-genai cannot validate enum integers, so they are named for its model only; the record
keeps them as sent."""


# --- helpers -----------------------------------------------------------------------------


def meta(path: Path) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(Path(f"{path}.meta.json").read_text())
    return result


def route_path(path: Path) -> str:
    return str(meta(path)["uri"]).split(".googleapis.com", 1)[1]


def content_type(path: Path) -> str:
    types_ = meta(path)["response_headers"].get("content-type") or ["text/event-stream"]
    return str(types_[0])


def fold(
    body: bytes,
    framing: Any = SSEDecoder,
    accumulator: type[GeminiGenerateContent] = GeminiGenerateContent,
) -> tuple[GeminiGenerateContent, Any]:
    decoder = framing()
    acc = accumulator()
    acc.feed_all(decoder.feed(body))
    acc.feed_all(decoder.close())
    acc.finish()
    return acc, decoder


def rebuilt(body: bytes, framing: Any = SSEDecoder) -> dict[str, Any]:
    acc, decoder = fold(body, framing)
    assert acc.errors == [] and not decoder.errors, (acc.errors, decoder.errors)
    assert acc.done
    result = acc.result()
    assert result is not None
    return result


def chunks_of(path: Path) -> list[dict[str, Any]]:
    body = path.read_bytes()
    if path.suffix == ".jsonarray":
        loaded: list[dict[str, Any]] = json.loads(body)
        return loaded
    decoder = SSEDecoder()
    return [json.loads(e.data) for e in decoder.feed(body) + decoder.close()]


def framing_of(path: Path) -> Any:
    framing = PROVIDER.framing_for(content_type(path), route_path(path))
    assert framing is not None
    return framing


def named_enums(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: INT_ENUMS[k].get(v, v) if k in INT_ENUMS and type(v) is int else named_enums(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [named_enums(v) for v in value]
    return value


def signature_bytes(value: Any) -> Any:
    """Signatures as bytes: google-genai dumps them URL-safe base64, the API sends standard."""
    if isinstance(value, dict):
        return {
            k: base64.urlsafe_b64decode(v.replace("+", "-").replace("/", "_"))
            if k == "thoughtSignature"
            else signature_bytes(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [signature_bytes(v) for v in value]
    return value


def paths(value: Any, prefix: str = "") -> set[str]:
    """Every key path in a JSON value, list positions left out: `candidates.content.parts`."""
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            found |= {path} | paths(item, path)
    elif isinstance(value, list):
        for item in value:
            found |= paths(item, prefix)
    return found


def sdk_round_trip(response: dict[str, Any]) -> set[str]:
    """Validate with google-genai and dump back; returns the `SDK_LACKS` fields dropped."""
    readable = named_enums(copy.deepcopy(response))
    _common._remove_extra_fields(types.GenerateContentResponse, readable)
    dropped = paths(named_enums(response)) - paths(readable)
    assert dropped <= set(SDK_LACKS), f"google-genai drops fields nobody named: {dropped}"
    model = types.GenerateContentResponse.model_validate(readable)
    dumped = model.model_dump(by_alias=True, exclude_none=True, mode="json")
    assert signature_bytes(dumped) == signature_bytes(readable)
    return dropped


def texts_by_kind(candidates: list[dict[str, Any]]) -> dict[tuple[int, bool], str]:
    out: dict[tuple[int, bool], str] = {}
    for cand in candidates:
        key_index = cand.get("index", 0)
        for part in cand.get("content", {}).get("parts", []):
            if "text" in part:
                key = (key_index, part.get("thought") is True)
                out[key] = out.get(key, "") + part["text"]
    return out


def streamed_texts(chunks: list[dict[str, Any]]) -> dict[tuple[int, bool], str]:
    out: dict[tuple[int, bool], str] = {}
    for c in chunks:
        for key, value in texts_by_kind(c.get("candidates", [])).items():
            out[key] = out.get(key, "") + value
    return {k: v for k, v in out.items() if v}


def parts_of(response: dict[str, Any], index: int = 0) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = response["candidates"][index]["content"]["parts"]
    return parts


# --- the recorded corpus ----------------------------------------------------------------


def test_the_corpus_has_every_recording_of_the_shared_folders() -> None:
    assert len(STREAMS) == 20 and len(NONSTREAM) == 10
    assert any(p.suffix == ".jsonarray" for p in STREAMS)


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: p.name)
def test_recorded_stream_rebuilds_complete_and_google_genai_reads_it_whole(path: Path) -> None:
    response = rebuilt(path.read_bytes(), framing_of(path))
    dropped = sdk_round_trip(response)
    lacking = {p for c in chunks_of(path) for p in paths(c)} & set(SDK_LACKS)
    assert dropped == lacking  # only what the chunks themselves carried


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: p.name)
def test_joined_text_of_each_kind_is_the_chunks_text_in_order(path: Path) -> None:
    response = rebuilt(path.read_bytes(), framing_of(path))
    assert texts_by_kind(response["candidates"]) == streamed_texts(chunks_of(path))
    # and google-genai's own reading of the text agrees
    model = types.GenerateContentResponse.model_validate(
        {"candidates": named_enums(response["candidates"])}
    )
    assert (model.text or "") == streamed_texts(chunks_of(path)).get((0, False), "")


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: p.name)
def test_the_same_chunks_as_sse_or_as_a_json_array_rebuild_the_same(path: Path) -> None:
    chunks = chunks_of(path)
    assert rebuilt(sse(*chunks)) == rebuilt(json_array(*chunks), JSONArrayDecoder)


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: p.name)
def test_event_by_event_with_midway_results_gives_the_same_response(path: Path) -> None:
    body = path.read_bytes()
    decoder = framing_of(path)()
    events = decoder.feed(body) + decoder.close()
    acc = GeminiGenerateContent()
    for number, event in enumerate(events):
        acc.feed(event)
        if number % 2 == 0:
            scramble(acc.result())  # what result() gave must share nothing with the state
    acc.finish()
    assert acc.errors == []
    assert acc.result() == rebuilt(body, framing_of(path))


def test_top_level_fields_are_those_of_the_latest_chunk() -> None:
    path = GEMINI / "ai-studio" / "openinference__test_streaming_text_content__0.sse"
    chunks = chunks_of(path)
    response = rebuilt(path.read_bytes())
    assert chunks[0]["usageMetadata"]["promptTokenCount"] == 10
    assert response["usageMetadata"] == chunks[-1]["usageMetadata"]  # 9: it went down
    assert response["modelVersion"] == chunks[-1]["modelVersion"]
    assert response["candidates"][0]["finishReason"] == "STOP"
    assert "index" not in response["candidates"][0]  # Gemini 2.0 sent none


def test_vertex_json_array_keeps_enum_integers_and_its_fields_as_sent() -> None:
    path = GEMINI / "vertex" / "openinference__test_gemini_token_counts_streaming__0.jsonarray"
    response = rebuilt(path.read_bytes(), framing_of(path))
    assert response == json.loads(path.read_bytes())[0]  # one element: the answer itself
    assert response["candidates"][0]["finishReason"] == 1
    assert response["usageMetadata"]["trafficType"] == 1
    assert framing_of(path) is JSONArrayDecoder


def test_a_signature_on_the_first_answer_chunk_stays_on_the_joined_part() -> None:
    path = GEMINI / "ai-studio" / "pydantic-ai__test_google_model_thinking_part_iter__0.sse"
    chunks = chunks_of(path)
    first_answer = next(
        p for c in chunks for p in c["candidates"][0]["content"]["parts"] if "thoughtSignature" in p
    )
    assert first_answer["text"] and "thought" not in first_answer
    parts = parts_of(rebuilt(path.read_bytes()))
    assert [sorted(p) for p in parts] == [["text", "thought"], ["text", "thoughtSignature"]]
    assert parts[1]["thoughtSignature"] == first_answer["thoughtSignature"]


def test_a_last_empty_part_carrying_only_a_signature_joins_the_answer_text() -> None:
    path = GEMINI / "ai-studio" / "openinference__test_streaming_reasoning__0.sse"
    last = chunks_of(path)[-1]["candidates"][0]["content"]["parts"]
    assert last == [{"text": "", "thoughtSignature": last[0]["thoughtSignature"]}]
    parts = parts_of(rebuilt(path.read_bytes()))
    assert [sorted(p) for p in parts] == [["text", "thought"], ["text", "thoughtSignature"]]
    assert parts[1]["thoughtSignature"] == last[0]["thoughtSignature"]


def test_tool_parts_keep_their_signatures_and_order_and_empty_text_is_left_out() -> None:
    path = GEMINI / "ai-studio" / "pydantic-ai__test_native_output_with_builtin_tools_stream__0.sse"
    first = chunks_of(path)[0]["candidates"][0]["content"]["parts"]
    assert first[1] == {"text": ""}  # sent after the tool call, carrying nothing
    parts = parts_of(rebuilt(path.read_bytes()))
    assert [sorted(p) for p in parts] == [
        ["thoughtSignature", "toolCall"],
        ["thoughtSignature", "toolResponse"],
        ["text", "thoughtSignature"],
    ]
    assert json.loads(parts[2]["text"]) == {"city": "Mexico City", "country": "Mexico"}


# Streamed answers beside non-streamed ones of the same kind: their key paths agree but for
# the named differences (what each side has that the other lacks).
SHAPE_PAIRS = [
    (
        "ai-studio/openinference__test_streaming_reasoning__0.sse",
        "nonstream/pydantic-ai__test_google_model_thinking_part__0.json",
        ({"usageMetadata.serviceTier"}, set()),  # the older recording predates serviceTier
    ),
    (
        "ai-studio/pydantic-ai__test_google_streaming_tool_call_thought_signature__0.sse",
        "nonstream/pydantic-ai__test_google_instructions_only_with_tool_calls__1.json",
        (set(), {"candidates.finishMessage"}),  # only the non-streamed answer says it
    ),
    (
        "ai-studio/pydantic-ai__test_google_model_web_search_tool_stream__0.sse",
        "nonstream/pydantic-ai__test_google_model_web_search_tool__0.json",
        (set(), set()),
    ),
    (  # gemini-3-flash signs its text, gemini-2.5-flash does not; one was grounded
        "vertex/pydantic-ai__test_google_vertex_service_tier_flex_stream__0.sse",
        "nonstream/pydantic-ai__test_google_vertexai_count_tokens_forwards_native_tools__1.json",
        ({"candidates.content.parts.thoughtSignature"}, {"candidates.groundingMetadata"}),
    ),
]


@pytest.mark.parametrize(
    ("streamed", "plain", "differences"),
    SHAPE_PAIRS,
    ids=[p[0].split("/")[-1] for p in SHAPE_PAIRS],
)
def test_rebuilt_shape_agrees_with_a_non_streamed_answer(
    streamed: str, plain: str, differences: tuple[set[str], set[str]]
) -> None:
    response = rebuilt((GEMINI / streamed).read_bytes(), framing_of(GEMINI / streamed))
    ours, theirs = paths(response), paths(json.loads((GEMINI / plain).read_bytes()))
    assert (ours - theirs, theirs - ours) == differences


@pytest.mark.parametrize("path", NONSTREAM, ids=lambda p: p.name)
def test_non_streamed_answers_are_read_by_google_genai_whole(path: Path) -> None:
    answer = json.loads(path.read_bytes())
    assert sdk_round_trip(answer) == set()
    assert GeminiGenerateContent.response_complete(answer) == []
    assert PROVIDER.framing_for(content_type(path), route_path(path)) is None
    summary = GeminiGenerateContent.summarize(answer)
    assert summary.model == answer["modelVersion"] and summary.stop_reason == "STOP"


def test_summary_of_a_thinking_tool_answer_reads_in_order() -> None:
    path = (
        GEMINI / "ai-studio" / "pydantic-ai__test_native_output_with_function_tools_stream__0.sse"
    )
    summary = GeminiGenerateContent.summarize(rebuilt(path.read_bytes()))
    assert summary.parts == [Part("tool_call", "{}", "get_user_country")]
    assert summary.tool_calls == ["get_user_country"]
    assert summary.model == "gemini-3-flash-preview"


def test_usage_counts_thoughts_as_output_and_as_reasoning() -> None:
    path = GEMINI / "vertex" / "openinference__test_gemini_token_counts_streaming__0.jsonarray"
    response = rebuilt(path.read_bytes(), JSONArrayDecoder)
    assert GeminiGenerateContent.usage(response) == Usage(
        input_tokens=11, output_tokens=16 + 232, reasoning_tokens=232
    )


# --- constructed streams: the merge rules -----------------------------------------------


def test_candidates_merge_by_index_missing_index_is_zero_and_order_is_by_index() -> None:
    body = sse(
        chunk(candidate(text("B1"), index=1), candidate(text("A1"), index=None)),
        chunk(candidate(text("A2"), index=0), candidate(text("B2"), index=1)),
        chunk(
            candidate(finishReason="STOP", index=1),
            candidate(text("A3"), finishReason="MAX_TOKENS", index=None),
        ),
    )
    response = rebuilt(body)
    assert [c["content"]["parts"] for c in response["candidates"]] == [
        [{"text": "A1A2A3"}],
        [{"text": "B1B2"}],
    ]
    assert [c.get("index") for c in response["candidates"]] == [0, 1]
    assert [c["finishReason"] for c in response["candidates"]] == ["MAX_TOKENS", "STOP"]
    sdk_round_trip(response)


def test_thought_and_answer_text_are_joined_apart_in_the_order_they_came() -> None:
    body = sse(
        chunk(candidate(text("think ", thought=True), text("more", thought=True))),
        chunk(candidate(text("Answer "), text("part."))),
        chunk(candidate(text("again", thought=True), text("!"), finishReason="STOP")),
    )
    assert parts_of(rebuilt(body)) == [
        {"text": "think more", "thought": True},
        {"text": "Answer part."},
        {"text": "again", "thought": True},
        {"text": "!"},
    ]


def test_a_signature_stays_on_the_part_it_came_with_and_text_after_it_joins_that_part() -> None:
    body = sse(
        chunk(candidate(text("a", signature="S1"), text("b"))),  # first of a run: stays
        chunk(candidate(text("", signature="S2"))),  # the run is signed: a part of its own
        chunk(candidate(text("c"), text("d", signature="S3"))),  # c joins; d starts a part
        chunk(candidate(text("e"), text("", signature="S4"), finishReason="STOP")),
    )
    assert parts_of(rebuilt(body)) == [
        {"text": "ab", "thoughtSignature": "S1"},
        {"text": "c", "thoughtSignature": "S2"},
        {"text": "de", "thoughtSignature": "S3"},
        {"text": "", "thoughtSignature": "S4"},
    ]


def test_an_empty_signed_thought_part_after_answer_text_is_a_part_of_its_own() -> None:
    body = sse(
        chunk(candidate(text("think", thought=True), text("x"))),
        chunk(candidate(text("", thought=True, signature="T"), finishReason="STOP")),
    )
    assert parts_of(rebuilt(body)) == [
        {"text": "think", "thought": True},
        {"text": "x"},
        {"text": "", "thought": True, "thoughtSignature": "T"},
    ]


def test_a_trailing_signature_joins_the_last_text_of_its_own_kind() -> None:
    body = sse(
        chunk(candidate(text("Hello"), text(" world"))),
        chunk(candidate(text("", signature="SIG"), finishReason="STOP")),
    )
    assert parts_of(rebuilt(body)) == [{"text": "Hello world", "thoughtSignature": "SIG"}]


def test_non_text_and_unknown_parts_are_kept_whole_in_order_and_break_text_runs() -> None:
    code = {"executableCode": {"language": "PYTHON", "code": "print(1)"}}
    result = {"codeExecutionResult": {"outcome": "OUTCOME_OK", "output": "1\n"}}
    inline = {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}
    file_data = {"fileData": {"mimeType": "application/pdf", "fileUri": "gs://b/f.pdf"}}
    unknown = {"futurePart": {"x": [1, 2]}, "partMetadata": {"k": "v"}}
    body = sse(
        chunk(candidate(text("Let me"), code, result)),
        chunk(candidate(text(" see"), text(" it"), inline, file_data)),
        chunk(candidate(call("f", {"a": 1}), call("g", {}), unknown, finishReason="STOP")),
    )
    assert parts_of(rebuilt(body)) == [
        {"text": "Let me"},
        code,
        result,
        {"text": " see it"},
        inline,
        file_data,
        call("f", {"a": 1}),
        call("g", {}),
        unknown,
    ]


def test_a_text_part_with_other_fields_is_kept_whole_and_not_joined() -> None:
    odd = text("b", videoMetadata={"startOffset": "1s"})
    body = sse(chunk(candidate(text("a"), odd, text("c"), finishReason="STOP")))
    assert parts_of(rebuilt(body)) == [{"text": "a"}, odd, {"text": "c"}]


def test_candidate_fields_are_the_last_that_came_and_grounding_the_last_non_empty() -> None:
    grounding = {"webSearchQueries": ["q"], "groundingChunks": [{"web": {"uri": "u"}}]}
    ratings1 = [{"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "NEGLIGIBLE"}]
    ratings2 = [{"category": "HARM_CATEGORY_HATE_SPEECH", "probability": "LOW"}]
    body = sse(
        chunk(candidate(text("a"), groundingMetadata={}, safetyRatings=ratings1)),
        chunk(
            candidate(
                text("b"),
                groundingMetadata=grounding,
                citationMetadata={"citations": [{"startIndex": 0, "uri": "u1"}]},
                urlContextMetadata={"urlMetadata": [{"retrievedUrl": "https://x.test"}]},
            )
        ),
        chunk(
            candidate(
                groundingMetadata={},
                safetyRatings=ratings2,
                citationMetadata={"citations": [{"startIndex": 1, "uri": "u2"}]},
                finishReason="STOP",
                finishMessage="done",
                avgLogprobs=-0.25,
                logprobsResult={"chosenCandidates": [{"token": "b", "logProbability": -0.5}]},
                futureField={"kept": True},
            )
        ),
    )
    response = rebuilt(body)
    got = response["candidates"][0]
    assert got["groundingMetadata"] == grounding
    assert got["safetyRatings"] == ratings2
    assert got["citationMetadata"] == {"citations": [{"startIndex": 1, "uri": "u2"}]}
    assert got["urlContextMetadata"] == {"urlMetadata": [{"retrievedUrl": "https://x.test"}]}
    assert (got["finishMessage"], got["avgLogprobs"], got["futureField"]) == (
        "done",
        -0.25,
        {"kept": True},
    )
    assert got["logprobsResult"]["chosenCandidates"][0]["token"] == "b"
    only_empty = rebuilt(
        sse(chunk(candidate(text("a"), groundingMetadata={}, finishReason="STOP")))
    )
    assert only_empty["candidates"][0]["groundingMetadata"] == {}


def test_usage_is_the_last_one_never_summed_and_unknown_top_fields_are_kept() -> None:
    body = sse(
        chunk(candidate(text("a")), usage=usage(12), createTime="t1", serverHint={"a": 1}),
        chunk(candidate(text("b")), usage=usage(12, 1, 40), createTime="t2"),
        chunk(candidate(finishReason="STOP"), usage=usage(11, 2, 40), response_id="resp-2"),
    )
    response = rebuilt(body)
    assert response["usageMetadata"] == usage(11, 2, 40)
    assert (response["createTime"], response["responseId"]) == ("t2", "resp-2")
    assert response["serverHint"] == {"a": 1}
    assert GeminiGenerateContent.usage(response) == Usage(
        input_tokens=11, output_tokens=42, reasoning_tokens=40
    )
    cached = {**usage(100, 5), "cachedContentTokenCount": 80}
    assert GeminiGenerateContent.usage({"usageMetadata": cached}) == Usage(
        input_tokens=100, output_tokens=5, cache_read_tokens=80
    )
    assert GeminiGenerateContent.usage({}) == Usage()


def test_a_blocked_prompt_is_a_complete_answer_without_candidates() -> None:
    feedback = {"blockReason": "SAFETY", "safetyRatings": [{"category": "X", "blocked": True}]}
    acc, decoder = fold(sse(chunk(promptFeedback=feedback, usage=usage(7))))
    assert acc.done and acc.errors == [] and not decoder.errors
    response = acc.result()
    assert response is not None and "candidates" not in response
    assert response["promptFeedback"] == feedback
    summary = GeminiGenerateContent.summarize(response)
    assert summary.stop_reason == "prompt blocked: SAFETY" and summary.parts == []


def test_integers_wider_than_64_bits_in_tool_arguments_stay_exact() -> None:
    wide = 2**70 + 1
    args = f'{{"big": {wide}, "small": 3, "real": 1.5, "nested": [{{"n": -{wide}}}]}}'
    raw = (
        '{"candidates": [{"content": {"role": "model", "parts": [{"text": "x"}, '
        f'{{"functionCall": {{"name": "f", "args": {args}}}}}]}}, "finishReason": "STOP"}}]}}'
    )
    response = rebuilt(sse(raw))
    got = parts_of(response)[1]["functionCall"]["args"]
    assert got == {"big": wide, "small": 3, "real": 1.5, "nested": [{"n": -wide}]}
    assert type(got["big"]) is int and type(got["real"]) is float
    assert parts_of(response)[0] == {"text": "x"}


def test_a_stream_cut_before_every_finish_reason_is_not_done() -> None:
    body = sse(chunk(candidate(text("Hel"))), chunk(candidate(text("lo"), index=1)))
    acc, _ = fold(body)
    assert not acc.done
    assert acc.errors == ["stream ended before candidate(s) [0, 1] had a finishReason"]
    assert parts_of(acc.result() or {}) == [{"text": "Hel"}]


def test_a_json_array_cut_mid_element_keeps_what_was_whole() -> None:
    body = json_array(
        chunk(candidate(text("Hel"))), chunk(candidate(text("lo"), finishReason="STOP"))
    )
    acc, decoder = fold(body[: body.rindex(b"STOP")], JSONArrayDecoder)
    assert len(decoder.errors) == 1 and decoder.errors[0].startswith("the body was cut inside")
    assert acc.errors == ["stream ended before candidate(s) [0] had a finishReason"]
    assert parts_of(acc.result() or {}) == [{"text": "Hel"}]


def test_an_error_chunk_midway_is_an_error_and_what_arrived_is_kept() -> None:
    error = {"error": {"code": 503, "message": "The model is overloaded.", "status": "UNAVAILABLE"}}
    for body, framing in (
        (sse(chunk(candidate(text("Hi"))), error), SSEDecoder),
        (json_array(chunk(candidate(text("Hi"))), error), JSONArrayDecoder),
    ):
        acc, _ = fold(body, framing)
        assert "chunk #2: error: UNAVAILABLE (503): The model is overloaded." in acc.errors
        assert acc.unknown == [{"event": "message", "data": error}]
        assert parts_of(acc.result() or {}) == [{"text": "Hi"}]
        assert not acc.done


def test_an_error_body_is_an_error_of_a_complete_response() -> None:
    body = {"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}}
    assert GeminiGenerateContent.response_complete(body) == [
        "error in body: RESOURCE_EXHAUSTED (429): Quota exceeded"
    ]


def test_chunks_that_are_not_json_or_not_objects_are_reported_and_skipped() -> None:
    acc, _ = fold(
        sse('{"candidates": [', "[1, 2]", "", chunk(candidate(text("ok"), finishReason="STOP")))
    )
    assert acc.errors[0].startswith("chunk #1: not JSON")
    assert acc.errors[1] == "chunk #2: JSON but not an object; skipped"
    assert len(acc.errors) == 2 and acc.done
    assert acc.unknown == [
        {"event": "message", "data": '{"candidates": ['},
        {"event": "message", "data": [1, 2]},
    ]


def test_content_started_waits_for_real_content() -> None:
    acc = GeminiGenerateContent()
    decoder = SSEDecoder()
    acc.feed_all(decoder.feed(sse(chunk(candidate(text(""))))))
    assert not acc.content_started
    acc.feed_all(decoder.feed(sse(chunk(candidate(text("x"))))))
    assert acc.content_started


# --- Code Assist (Gemini CLI) -------------------------------------------------------------


def test_code_assist_chunks_are_unwrapped_and_the_wrapper_kept_around_the_merge() -> None:
    path = GEMINI / "ai-studio" / "pydantic-ai__test_google_model_thinking_part_iter__0.sse"
    chunks = chunks_of(path)
    wrapped = [code_assist(c, trace_id=f"trace-{i}") for i, c in enumerate(chunks)]
    acc, decoder = fold(sse(*wrapped), SSEDecoder, GeminiCodeAssist)
    assert acc.done and acc.errors == [] and not decoder.errors
    result = acc.result()
    assert result == {"response": rebuilt(path.read_bytes()), "traceId": f"trace-{len(chunks) - 1}"}
    assert GeminiCodeAssist.usage(result) == GeminiGenerateContent.usage(result["response"])
    assert GeminiCodeAssist.summarize(result).stop_reason == "STOP"


def test_code_assist_sample_is_the_constructed_stream_it_claims_to_be() -> None:
    from tests.gemini_streams import code_assist_sample

    assert CODE_ASSIST_SAMPLE.read_bytes() == code_assist_sample()
    acc, decoder = fold(CODE_ASSIST_SAMPLE.read_bytes(), SSEDecoder, GeminiCodeAssist)
    assert acc.done and acc.errors == [] and not decoder.errors


def test_code_assist_chunk_without_a_response_is_kept_as_unknown() -> None:
    acc, _ = fold(
        sse({"traceId": "t"}, code_assist(chunk(candidate(text("x"), finishReason="STOP")))),
        SSEDecoder,
        GeminiCodeAssist,
    )
    assert acc.errors == ["chunk #1: no `response` object; kept as unknown"]
    assert acc.unknown == [{"event": "message", "data": {"traceId": "t"}}]
    error = {"error": {"code": 401, "message": "no", "status": "UNAUTHENTICATED"}}
    assert GeminiCodeAssist.response_complete(error) == ["error in body: UNAUTHENTICATED (401): no"]


# --- the descriptors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type_", "path", "framing"),
    [
        ("text/event-stream", "/v1beta/models/m:streamGenerateContent?alt=sse", SSEDecoder),
        ("application/json; charset=UTF-8", "/v1/models/m:streamGenerateContent", JSONArrayDecoder),
        ("application/json", "/v1/models/m:streamGenerateContent?alt=sse", None),
        ("text/plain", "/v1/models/m:streamGenerateContent?%24alt=sse", SSEDecoder),
        ("", "/v1/models/m:streamGenerateContent", JSONArrayDecoder),
        ("application/json", "/v1beta/models/m:generateContent", None),
        ("text/event-stream", "/v1internal:streamGenerateContent?alt=sse", SSEDecoder),
    ],
)
def test_framing_follows_content_type_path_and_alt(
    content_type_: str, path: str, framing: Any
) -> None:
    assert PROVIDER.framing_for(content_type_, path) is framing


def test_routes_match_every_recorded_url() -> None:
    import re
    from fnmatch import fnmatchcase

    for path in [*STREAMS, *NONSTREAM]:
        url = meta(path)["uri"]
        host, _, rest = url.split("://", 1)[1].partition("/")
        route_path_ = "/" + rest.split("?")[0]
        assert any(
            fnmatchcase(host, r.host) and re.search(r.path, route_path_) and "POST" in r.methods
            for r in PROVIDER.routes
        ), url
    assert any(
        re.search(r.path, "/v1beta/tunedModels/my-model:streamGenerateContent")
        for r in PROVIDER.routes
    )
    assert any(
        re.search(r.path, "/v1internal:streamGenerateContent") for r in CODE_ASSIST_PROVIDER.routes
    )
    assert not any(re.search(r.path, "/v1internal:streamGenerateContent") for r in PROVIDER.routes)


def test_samples_point_at_corpus_files_that_rebuild_complete() -> None:
    for provider in (PROVIDER, CODE_ASSIST_PROVIDER):
        for sample in provider.samples:
            body = (CORPUS / sample.answer).read_bytes()
            framing = provider.framing_for(sample.content_type, sample.path)
            assert framing is not None
            acc, decoder = fold(body, framing, provider.accumulator)  # type: ignore[arg-type]
            assert acc.done and acc.errors == [] and not decoder.errors, sample.answer


def test_orjson_really_turns_wide_integers_into_floats() -> None:
    # Why tool data is checked for floats at all.
    assert type(orjson.loads(str(2**70))) is float


@pytest.mark.parametrize(
    ("text", "wide"),
    [
        ('{"n": 18446744073709551615}', True),  # 2**64 - 1: orjson keeps it; parsed again
        ('{"n": 18446744073709551616}', True),
        ('{"n": -9223372036854775809}', True),
        ('{"n": 123456789012345678}', False),
        ('{"s": "id 1234567890123456789"}', True),  # in a string: only an extra exact parse
        ('{"f": 1.5e300}', False),
    ],
)
def test_wide_integer_runs_are_found_in_the_text(text: str, wide: bool) -> None:
    from addon.providers.gemini import holds_wide_integers

    assert holds_wide_integers(text) is wide
