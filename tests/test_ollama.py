"""Ollama `/api/chat` and `/api/generate`: the NDJSON lines rebuilt as the non-streamed answer.

The reference is the `ollama` package's own models: every rebuilt object validates as
`ChatResponse` / `GenerateResponse`, and dumping it (without nulls, as JSON) gives it back.
The package ignores fields it does not declare; `PACKAGE_LACKS` names the ones Ollama sends.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import ollama
import pytest

from addon.providers.base import Part, Usage
from addon.providers.ollama import (
    CHAT_PROVIDER,
    GENERATE_PROVIDER,
    OllamaChat,
    OllamaGenerate,
)
from addon.wire.ndjson import NDJSONDecoder
from tests.conftest import scramble
from tests.ollama_streams import STATS, chat_line, generate_line, ndjson, tool_call
from tests.oracles import CORPUS

OLLAMA = CORPUS / "ollama"
STREAMS = sorted((OLLAMA / "stream").glob("*.ndjson"))
NONSTREAM = sorted(p for p in (OLLAMA / "nonstream").glob("*.json") if ".meta." not in p.name)

PACKAGE_LACKS = {
    "message.tool_calls.id": "ollama 0.6.3's ToolCall has no id (Ollama ≥ 0.12 sends one)",
    "message.tool_calls.function.index": "nor the function's index",
}


# --- helpers -----------------------------------------------------------------------------


def is_chat(path: Path) -> bool:
    uri: str = json.loads(Path(f"{path}.meta.json").read_text())["uri"]
    return uri.endswith("/api/chat")


def fold(body: bytes, accumulator: type[OllamaChat] | type[OllamaGenerate] = OllamaChat) -> Any:
    decoder = NDJSONDecoder()
    acc = accumulator()
    acc.feed_all(decoder.feed(body) + decoder.close())
    acc.finish()
    return acc, decoder


def rebuilt(body: bytes, accumulator: Any = OllamaChat) -> dict[str, Any]:
    acc, decoder = fold(body, accumulator)
    assert acc.done and acc.errors == [] and not decoder.errors, (acc.errors, decoder.errors)
    result: dict[str, Any] = acc.result()
    return result


def paths(value: Any, prefix: str = "") -> set[str]:
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            found |= {path} | paths(item, path)
    elif isinstance(value, list):
        for item in value:
            found |= paths(item, prefix)
    return found


def without(value: Any, names: set[str], prefix: str = "") -> Any:
    """`value` without the key paths in `names`."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            if path not in names:
                out[key] = without(item, names, path)
        return out
    if isinstance(value, list):
        return [without(v, names, prefix) for v in value]
    return value


def package_round_trip(answer: dict[str, Any], chat: bool) -> set[str]:
    """Validate with the ollama package, dump back, compare; returns what it dropped."""
    model = (ollama.ChatResponse if chat else ollama.GenerateResponse).model_validate(answer)
    dumped = model.model_dump(exclude_none=True, mode="json")
    dropped = paths(answer) - paths(dumped)
    assert dropped <= set(PACKAGE_LACKS), f"the package drops fields nobody named: {dropped}"
    assert dumped == without(answer, dropped)
    return dropped


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# --- the recorded corpus ----------------------------------------------------------------


def test_the_corpus_has_every_recording_of_the_shared_folders() -> None:
    assert len(STREAMS) == 5 and len(NONSTREAM) == 14


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: p.name)
def test_recorded_stream_rebuilds_complete_and_the_package_reads_it_whole(path: Path) -> None:
    chat = is_chat(path)
    answer = rebuilt(path.read_bytes(), OllamaChat if chat else OllamaGenerate)
    assert package_round_trip(answer, chat) == set()
    lines = lines_of(path)
    final = lines[-1]
    assert final["done"] is True
    for key, value in final.items():
        if key not in ("message", "response"):
            assert answer[key] == value
    if chat:
        message = answer["message"]
        assert message["content"] == "".join(x["message"]["content"] for x in lines)
        thinking = "".join(x["message"].get("thinking", "") for x in lines)
        assert message.get("thinking", "") == thinking
        assert message["role"] == "assistant"
    else:
        assert answer["response"] == "".join(x["response"] for x in lines)
        assert answer["context"] == final["context"]


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: p.name)
def test_line_by_line_with_midway_results_gives_the_same_answer(path: Path) -> None:
    accumulator = OllamaChat if is_chat(path) else OllamaGenerate
    decoder = NDJSONDecoder()
    acc = accumulator()
    for number, event in enumerate(decoder.feed(path.read_bytes()) + decoder.close()):
        acc.feed(event)
        if number % 5 == 0:
            scramble(acc.result())
    acc.finish()
    assert acc.result() == rebuilt(path.read_bytes(), accumulator)


def test_a_streamed_thinking_chat_has_the_shape_of_a_non_streamed_one() -> None:
    streamed = rebuilt(
        (OLLAMA / "stream" / "openinference__test_chat_stream__0.ndjson").read_bytes()
    )
    plain = json.loads((OLLAMA / "nonstream" / "openinference__test_chat__0.json").read_bytes())
    assert paths(streamed) == paths(plain)
    assert list(streamed) == list(plain) and list(streamed["message"]) == list(plain["message"])


@pytest.mark.parametrize("path", NONSTREAM, ids=lambda p: p.name)
def test_non_streamed_answers_are_read_by_the_package(path: Path) -> None:
    answer = json.loads(path.read_bytes())
    chat = is_chat(path)
    accumulator = OllamaChat if chat else OllamaGenerate
    provider = CHAT_PROVIDER if chat else GENERATE_PROVIDER
    assert provider.framing_for("application/json; charset=utf-8", "/api/chat") is None
    if "error" in answer:
        assert accumulator.response_complete(answer) == [
            "error in body: model 'nonexistent-model:latest' not found"
        ]
        return
    assert accumulator.response_complete(answer) == []
    calls = answer.get("message", {}).get("tool_calls", [])
    expected = set(PACKAGE_LACKS) if any("id" in c for c in calls) else set()
    assert package_round_trip(answer, chat) == expected
    summary = accumulator.summarize(answer)
    assert summary.model == answer["model"] and summary.stop_reason == "stop"


def test_usage_is_prompt_eval_count_and_eval_count() -> None:
    path = OLLAMA / "stream" / "openllmetry__test_ollama_streaming_metrics__0.ndjson"
    assert OllamaGenerate.usage(rebuilt(path.read_bytes(), OllamaGenerate)) == Usage(
        input_tokens=16, output_tokens=51
    )
    cached = (
        OLLAMA / "stream" / "openllmetry__test_ollama_async_streaming_generation_legacy__0.ndjson"
    )
    # Ollama leaves prompt_eval_count out when the whole prompt came from its cache.
    assert OllamaGenerate.usage(rebuilt(cached.read_bytes(), OllamaGenerate)) == Usage(
        output_tokens=58
    )


def test_summary_of_a_thinking_chat_reads_thinking_then_text() -> None:
    path = OLLAMA / "stream" / "openinference__test_chat_stream__0.ndjson"
    summary = OllamaChat.summarize(rebuilt(path.read_bytes()))
    assert [p.kind for p in summary.parts] == ["thinking", "text"]
    assert summary.parts[1] == Part("text", "1\n2\n3\n4\n5")
    assert summary.usage == {"prompt_eval_count": 21, "eval_count": 889}


# --- constructed streams ------------------------------------------------------------------


def test_tool_calls_are_kept_in_order_across_lines() -> None:
    first = tool_call("get_weather", {"city": "Paris"}, 0, "call_a")
    second = tool_call("get_time", {"tz": "UTC"}, 1, "call_b")
    body = ndjson(
        chat_line("", thinking="I need tools."),
        chat_line("", tool_calls=[first]),
        chat_line("", tool_calls=[second]),
        chat_line("", done=True),
    )
    answer = rebuilt(body)
    assert answer["message"] == {
        "role": "assistant",
        "content": "",
        "thinking": "I need tools.",
        "tool_calls": [first, second],
    }
    assert package_round_trip(answer, True) == set(PACKAGE_LACKS)
    assert OllamaChat.summarize(answer).tool_calls == ["get_weather", "get_time"]


def test_integers_wider_than_64_bits_in_tool_arguments_stay_exact() -> None:
    wide = 2**66 + 7
    line = json.dumps(chat_line("", tool_calls=[tool_call("f", {"n": 0, "x": 1.5})]))
    line = line.replace('"n": 0', f'"n": {wide}')
    answer = rebuilt(ndjson(line, chat_line("", done=True)))
    arguments = answer["message"]["tool_calls"][0]["function"]["arguments"]
    assert arguments == {"n": wide, "x": 1.5} and type(arguments["n"]) is int


def test_an_error_line_midway_is_an_error_and_what_arrived_is_kept() -> None:
    error = {"error": "an error was encountered while running the model: unexpected EOF"}
    acc, decoder = fold(ndjson(chat_line("Hel"), chat_line("lo"), error))
    assert acc.errors == [
        "line #3: error: an error was encountered while running the model: unexpected EOF",
        "stream ended before the line with done: true",
    ]
    assert acc.unknown == [{"event": "message", "data": error}]
    assert acc.result()["message"]["content"] == "Hello" and not acc.done
    assert not decoder.errors


def test_a_stream_cut_inside_its_last_line_keeps_the_whole_lines() -> None:
    body = ndjson(chat_line("Hel"), chat_line("lo"), chat_line("", done=True))
    acc, decoder = fold(body[:-20])
    assert decoder.errors[0].startswith("the body was cut inside its last line")
    assert acc.errors == ["stream ended before the line with done: true"]
    assert acc.result()["message"]["content"] == "Hello"


def test_a_line_after_done_is_an_error() -> None:
    acc, _ = fold(ndjson(chat_line("a", done=True), chat_line("b")))
    assert acc.errors == ["line #2: arrived after the line with done: true"]


def test_lines_that_are_not_json_or_not_objects_are_reported_and_skipped() -> None:
    acc, _ = fold(ndjson("oops", "[1]", chat_line("ok", done=True)))
    assert acc.errors[0].startswith("line #1: not JSON")
    assert acc.errors[1] == "line #2: JSON but not an object; skipped"
    assert acc.done and acc.result()["message"]["content"] == "ok"


def test_logprobs_are_joined_and_unknown_fields_kept() -> None:
    def token(text: str) -> dict[str, Any]:
        return {"token": text, "logprob": -0.5, "top_logprobs": [{"token": text, "logprob": -0.5}]}

    body = ndjson(
        chat_line("Hi", logprobs_hint=1) | {"logprobs": [token("Hi")], "server_extra": {"a": 1}},
        chat_line("!") | {"logprobs": [token("!")]},
        chat_line("", done=True, images=None) | {"remote_host": "r1"},
    )
    answer = rebuilt(body)
    assert answer["logprobs"] == [token("Hi"), token("!")]
    assert answer["server_extra"] == {"a": 1} and answer["remote_host"] == "r1"
    assert answer["message"]["logprobs_hint"] == 1


def test_generate_joins_response_and_thinking_and_keeps_the_final_stats() -> None:
    body = ndjson(
        generate_line("", thinking="Hmm"),
        generate_line("", thinking=", ok."),
        generate_line("Hello"),
        generate_line(" there"),
        generate_line("", done=True),
    )
    answer = rebuilt(body, OllamaGenerate)
    assert answer["response"] == "Hello there" and answer["thinking"] == "Hmm, ok."
    assert answer["context"] == [105, 2364, 107]
    assert {k: answer[k] for k in STATS} == STATS
    assert package_round_trip(answer, False) == set()
    assert [p.kind for p in OllamaGenerate.summarize(answer).parts] == ["thinking", "text"]


def test_content_started_waits_for_real_content() -> None:
    acc = OllamaChat()
    decoder = NDJSONDecoder()
    acc.feed_all(decoder.feed(ndjson(chat_line(""))))
    assert not acc.content_started
    acc.feed_all(decoder.feed(ndjson(chat_line("", thinking="x"))))
    assert acc.content_started


# --- the descriptors ----------------------------------------------------------------------


def test_routes_framing_and_samples() -> None:
    import re
    from fnmatch import fnmatchcase

    for provider, path in ((CHAT_PROVIDER, "/api/chat"), (GENERATE_PROVIDER, "/api/generate")):
        assert any(
            fnmatchcase("127.0.0.1:11434", r.host) and re.search(r.path, path)
            for r in provider.routes
        )
        assert any(r.host == "*" and re.search(r.path, "/ollama" + path) for r in provider.routes)
        assert provider.framing_for("application/x-ndjson", path) is NDJSONDecoder
        assert provider.framing_for("application/json; charset=utf-8", path) is None
        for sample in provider.samples:
            accumulator: Any = provider.accumulator
            assert rebuilt((CORPUS / sample.answer).read_bytes(), accumulator)["done"] is True
    assert not any(re.search(r.path, "/api/chat/completions") for r in CHAT_PROVIDER.routes)
