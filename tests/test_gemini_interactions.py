"""Interactions API: the event stream rebuilt as the non-streamed `Interaction` resource.

The reference is google-genai's own `Interaction` model (`_gaos.types.interactions`): every
rebuilt object validates, and dumping it (by alias, without nulls, as JSON) gives it back, but
for `output_text`, which the SDK derives from the steps (it must equal the answer's text).
Every recorded event also validates as the SDK's event union.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pydantic
import pytest
from google.genai._gaos.types.interactions import Interaction, InteractionSSEEvent

from addon.providers.base import Part, Usage
from addon.providers.gemini_interactions import PROVIDER, GeminiInteractions
from addon.wire.sse import SSEDecoder
from tests.gemini_streams import ix, ix_completed, ix_created, ix_sse, ix_step
from tests.oracles import CORPUS

STREAMS = sorted((CORPUS / "gemini" / "interactions").glob("*.sse"))
EVENTS = pydantic.TypeAdapter(InteractionSSEEvent)

SDK_ADDS = ("output_text", "output_image", "output_audio", "output_video")
"""Derived by google-genai from the steps ("this is added by the SDK"), never sent."""


def fold(body: bytes) -> GeminiInteractions:
    decoder = SSEDecoder()
    acc = GeminiInteractions()
    acc.feed_all(decoder.feed(body) + decoder.close())
    acc.finish()
    return acc


def rebuilt(body: bytes) -> dict[str, Any]:
    acc = fold(body)
    assert acc.done and acc.errors == [], acc.errors
    result = acc.result()
    assert result is not None
    return result


def sdk_round_trip(interaction: dict[str, Any]) -> str:
    """Validate with google-genai, dump back, compare; returns the SDK's `output_text`."""
    model = Interaction.model_validate(interaction)
    dumped = model.model_dump(by_alias=True, exclude_none=True, mode="json")
    output_text = dumped.pop("output_text")
    for key in SDK_ADDS[1:]:
        dumped.pop(key, None)
    assert dumped == interaction
    assert isinstance(output_text, str)
    return output_text


def answer_text(interaction: dict[str, Any]) -> str:
    return "".join(
        item["text"]
        for step in interaction["steps"]
        if step["type"] == "model_output"
        for item in step.get("content", [])
        if item.get("type") == "text"
    )


def events_of(path: Path) -> list[dict[str, Any]]:
    decoder = SSEDecoder()
    return [
        json.loads(e.data)
        for e in decoder.feed(path.read_bytes()) + decoder.close()
        if e.data != "[DONE]"
    ]


# --- the recorded corpus ----------------------------------------------------------------


def test_the_corpus_has_the_four_recordings() -> None:
    assert len(STREAMS) == 4


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: p.name)
def test_recorded_stream_rebuilds_an_interaction_google_genai_reads_whole(path: Path) -> None:
    interaction = rebuilt(path.read_bytes())
    output_text = sdk_round_trip(interaction)
    deltas = [e["delta"] for e in events_of(path) if e["event_type"] == "step.delta"]
    assert output_text == answer_text(interaction)
    assert answer_text(interaction) == "".join(d["text"] for d in deltas if d["type"] == "text")
    completed = next(e for e in events_of(path) if e["event_type"] == "interaction.completed")
    for key, value in completed["interaction"].items():
        assert interaction[key] == value


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: p.name)
def test_every_recorded_event_is_one_google_genai_knows(path: Path) -> None:
    for event in events_of(path):
        parsed = EVENTS.validate_python(event)
        assert not getattr(parsed, "is_unknown", False), event["event_type"]


def test_thought_summaries_join_and_the_real_signature_survives_empty_ones() -> None:
    path = (
        CORPUS
        / "gemini"
        / "interactions"
        / "openinference__test_interactions_with_thinking_stream__0.sse"
    )
    deltas = [e["delta"] for e in events_of(path) if e.get("index") == 0 and "delta" in e]
    signatures = [d["signature"] for d in deltas if d["type"] == "thought_signature"]
    assert signatures[:2] == ["", ""] and signatures[2]
    thought = rebuilt(path.read_bytes())["steps"][0]
    assert thought["signature"] == signatures[2]
    summaries = [d["content"]["text"] for d in deltas if d["type"] == "thought_summary"]
    assert thought["summary"] == [{"text": "".join(summaries), "type": "text"}]


def test_running_usage_from_event_metadata_is_kept_beside_the_interaction() -> None:
    path = (
        CORPUS
        / "gemini"
        / "interactions"
        / "openinference__test_interactions_with_thinking_stream__0.sse"
    )
    acc = fold(path.read_bytes())
    assert acc.extras["running_usage"]["total_output_tokens"] == 42
    assert "metadata" not in (acc.result() or {})


def test_incomplete_status_is_still_a_complete_stream_and_the_summary_says_it() -> None:
    path = (
        CORPUS
        / "gemini"
        / "interactions"
        / "openinference__test_generate_interactions_multi_model_messages_True___0.sse"
    )
    interaction = rebuilt(path.read_bytes())
    summary = GeminiInteractions.summarize(interaction)
    assert summary.stop_reason == "incomplete"
    assert summary.model == "gemini-2.5-flash-lite"
    assert summary.parts == [Part("text", "The image displays")]


def test_usage_counts_thoughts_as_output_and_as_reasoning() -> None:
    path = (
        CORPUS
        / "gemini"
        / "interactions"
        / "openinference__test_generate_interactions_async_True___0.sse"
    )
    assert GeminiInteractions.usage(rebuilt(path.read_bytes())) == Usage(
        input_tokens=9, output_tokens=13 + 220, cache_read_tokens=0, reasoning_tokens=220
    )
    assert GeminiInteractions.usage({}) == Usage()


# --- constructed streams ------------------------------------------------------------------


def test_function_call_arguments_are_joined_and_parsed_exactly() -> None:
    wide = 2**70 + 3
    body = ix_sse(
        ix_created(),
        *ix_step(0, "thought", {"type": "thought_signature", "signature": "U0lH"}),
        *ix_step(
            1,
            "function_call",
            {"type": "arguments_delta", "arguments": '{"location": "Par'},
            {"type": "arguments_delta", "arguments": f'is", "n": {wide}}}'},
            id="call_1",
            name="get_weather",
            arguments={},
            signature="Rk4=",
        ),
        ix_completed("requires_action"),
    )
    interaction = rebuilt(body)
    call = interaction["steps"][1]
    assert call == {
        "type": "function_call",
        "id": "call_1",
        "name": "get_weather",
        "arguments": {"location": "Paris", "n": wide},
        "signature": "Rk4=",
    }
    assert GeminiInteractions.summarize(interaction).tool_calls == ["get_weather"]
    sdk_round_trip(interaction)


def test_arguments_that_are_not_json_are_reported_and_the_start_arguments_kept() -> None:
    body = ix_sse(
        ix_created(),
        *ix_step(
            0,
            "function_call",
            {"type": "arguments_delta", "arguments": '{"a": '},
            id="c",
            name="f",
            arguments={},
        ),
        ix_completed("requires_action"),
    )
    acc = fold(body)
    assert acc.errors == ["step #0: arguments are not JSON: '{\"a\": '"]
    assert (acc.result() or {})["steps"][0]["arguments"] == {}


def test_text_annotations_media_and_tool_deltas_land_in_their_steps() -> None:
    citation = {"type": "url_citation", "url": "https://example.test", "start_index": 0}
    image = {"type": "image", "data": "iVBORw0KGgo=", "mime_type": "image/png"}
    search = {"type": "google_search_call", "arguments": {"queries": ["q"]}, "signature": "c2ln"}
    result = {"type": "google_search_result", "result": [{"url": "https://example.test"}]}
    body = ix_sse(
        ix_created(),
        *ix_step(0, "google_search_call", search, id="s1"),
        *ix_step(1, "google_search_result", result, call_id="s1"),
        *ix_step(
            2,
            "model_output",
            {"type": "text", "text": "Paris "},
            {"type": "text", "text": "is big."},
            {"type": "text_annotation_delta", "annotations": [citation]},
            image,
            {"type": "text", "text": "More."},
        ),
        ix_completed(),
    )
    interaction = rebuilt(body)
    steps = interaction["steps"]
    assert steps[0] == {
        "type": "google_search_call",
        "id": "s1",
        "arguments": {"queries": ["q"]},
        "signature": "c2ln",
    }
    assert steps[1] == {
        "type": "google_search_result",
        "call_id": "s1",
        "result": [{"url": "https://example.test"}],
    }
    assert steps[2]["content"] == [
        {"type": "text", "text": "Paris is big.", "annotations": [citation]},
        image,
        {"type": "text", "text": "More."},
    ]
    assert sdk_round_trip(interaction) == "More."  # the SDK's output_text: the trailing text


def test_status_updates_set_status_token_and_usage() -> None:
    update = ix(
        "interaction.status_update",
        interaction_id="v1_test",
        status="requires_continuation",
        continuation_token="tok",
        usage={"total_tokens": 3},
    )
    acc = fold(ix_sse(ix_created(), update, done=False))
    result = acc.result() or {}
    assert (result["status"], result["continuation_token"], result["usage"]) == (
        "requires_continuation",
        "tok",
        {"total_tokens": 3},
    )
    assert acc.errors == [
        "stream ended before interaction.completed (status 'requires_continuation')"
    ]


def test_a_cut_stream_keeps_its_steps_and_says_it_was_cut() -> None:
    body = ix_sse(
        ix_created(),
        ix("step.start", index=0, step={"type": "model_output"}),
        ix("step.delta", index=0, delta={"type": "text", "text": "Hel"}),
        done=False,
    )
    acc = fold(body)
    assert not acc.done
    assert acc.errors == ["stream ended before interaction.completed (status 'in_progress')"]
    assert (acc.result() or {})["steps"] == [
        {"type": "model_output", "content": [{"type": "text", "text": "Hel"}]}
    ]


def test_an_error_event_is_an_error_and_kept() -> None:
    error = {"error": {"code": "500", "message": "Internal error"}, "event_type": "error"}
    acc = fold(ix_sse(ix_created(), ("error", error), done=False))
    assert "event #2: error: (500): Internal error" in acc.errors
    assert acc.unknown == [{"event": "error", "data": error}]


def test_a_failed_interaction_is_an_error() -> None:
    failed = ix_completed("failed", errors=[{"code": "13", "message": "backend"}])
    acc = fold(ix_sse(ix_created(), failed))
    assert acc.done and acc.errors == ["interaction failed: 13: backend"]
    assert GeminiInteractions.response_complete({"status": "failed"}) == [
        "interaction failed: no errors given"
    ]


def test_unknown_events_and_deltas_are_kept() -> None:
    future = ix("interaction.future_thing", payload={"x": 1})
    body = ix_sse(
        ix_created(),
        future,
        *ix_step(0, "future_step", {"type": "future_delta", "value": [1, 2]}, extra="e"),
        ix_completed(),
    )
    interaction = rebuilt(body)
    assert interaction["steps"] == [{"type": "future_step", "extra": "e", "value": [1, 2]}]
    assert fold(body).unknown == [{"event": "interaction.future_thing", "data": future[1]}]


def test_a_delta_before_its_start_is_reported_and_kept_unknown() -> None:
    delta = ix("step.delta", index=3, delta={"type": "text", "text": "x"})
    acc = fold(ix_sse(ix_created(), delta, ix_completed()))
    assert acc.errors == ["event #2: step.delta #3 before its step.start; kept unknown"]
    assert acc.unknown == [{"event": "step.delta", "data": delta[1]}]


def test_a_resumed_stream_without_created_still_rebuilds() -> None:
    body = ix_sse(*ix_step(1, "model_output", {"type": "text", "text": "rest"}), ix_completed())
    interaction = rebuilt(body)
    assert interaction["steps"] == [
        {"type": "model_output", "content": [{"type": "text", "text": "rest"}]}
    ]
    assert interaction["status"] == "completed"


def test_error_bodies_of_non_streamed_calls() -> None:
    body = {"error": {"code": 400, "message": "bad", "status": "INVALID_ARGUMENT"}}
    assert GeminiInteractions.response_complete(body) == [
        "error in body: INVALID_ARGUMENT (400): bad"
    ]


def test_sample_and_routes() -> None:
    import re

    sample = PROVIDER.samples[0]
    assert rebuilt((CORPUS / sample.answer).read_bytes())["status"] == "completed"
    assert PROVIDER.framing_for("text/event-stream", sample.path) is not None
    assert PROVIDER.framing_for("application/json", sample.path) is None
    assert any(re.search(r.path, "/v1beta/interactions") for r in PROVIDER.routes)
    resumed = [r for r in PROVIDER.routes if "GET" in r.methods]
    assert resumed and re.search(resumed[0].path, "/v1beta/interactions/v1_abc")


def test_wide_integers_in_whole_tool_fields_stay_exact() -> None:
    wide = 2**65 + 1
    search = ix("step.start", index=0, step={"type": "code_execution_result", "id": "r", "n": 0})
    raw = json.dumps(search[1]).replace('"n": 0', f'"n": {wide}')
    body = ix_sse(ix_created(), ("step.start", raw), ix("step.stop", index=0), ix_completed())
    step = rebuilt(body)["steps"][0]
    assert step["n"] == wide and type(step["n"]) is int
