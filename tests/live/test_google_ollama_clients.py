"""Gemini and Ollama through a real mitmdump with their own clients: `google-genai` (sync and
async, streamed over SSE and not) and the `ollama` package (chat and generate, streamed and
not). Neither has a stream accumulator, so the dump is checked against what the client parsed:
every chunk's text in order, the final fields, and the typed models read back whole."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import ollama
import pytest
from google import genai
from google.genai import types

from addon import rebuild
from tests.live.apps import corpus_body
from tests.live.proxy import Mitmdump
from tests.live.upstream import Plan, Upstream

GEMINI_SSE = "gemini/ai-studio/openinference__test_async_streaming_text_content__0.sse"
GEMINI_PLAIN = "gemini/nonstream/pydantic-ai__test_google_model_thinking_part__0.json"
OLLAMA_CHAT = "ollama/stream/openllmetry__test_ollama_streaming_chat_legacy__0.ndjson"
OLLAMA_GENERATE = (
    "ollama/stream/openllmetry__test_ollama_async_streaming_generation_legacy__0.ndjson"
)


def gemini_client(base_url: str) -> genai.Client:
    return genai.Client(
        api_key="FAKE-gemini-key-do-not-leak",
        http_options=types.HttpOptions(base_url=base_url),
    )


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_google_genai_stream_through_the_proxy_is_the_dumped_response(
    upstream: Upstream, reverse_proxy: Mitmdump, use_async: bool
):
    plan = upstream.add(Plan(corpus_body(GEMINI_SSE), max_piece=61))
    client = gemini_client(f"{reverse_proxy.url}/p/{plan.key}")

    async def collect_async() -> list[Any]:
        stream = await client.aio.models.generate_content_stream(
            model="gemini-2.5-flash", contents="hi"
        )
        return [chunk async for chunk in stream]

    if use_async:
        chunks = asyncio.run(collect_async())
    else:
        chunks = list(
            client.models.generate_content_stream(model="gemini-2.5-flash", contents="hi")
        )
    record = reverse_proxy.record_for(plan.key)
    assert record["provider"] == "gemini"
    assert record["complete"] is True, record["errors"]
    assert "alt=sse" in record["request"]["url"]
    text = "".join(part.text or "" for c in chunks for part in c.candidates[0].content.parts)
    parts = record["response"]["candidates"][0]["content"]["parts"]
    assert "".join(p.get("text", "") for p in parts) == text
    parsed = chunks[-1].usage_metadata.model_dump(mode="json", by_alias=True, exclude_none=True)
    usage = record["response"]["usageMetadata"]
    # google-genai 3.6 has no `serviceTier` and drops it; the record keeps what the API sent.
    assert {k: v for k, v in usage.items() if k != "serviceTier"} == parsed
    assert "FAKE-gemini-key" not in json.dumps(record)


def test_google_genai_plain_call_is_recorded_as_it_is(upstream: Upstream, reverse_proxy: Mitmdump):
    body = corpus_body(GEMINI_PLAIN)
    plan = upstream.add(Plan(body, encoding="gzip", headers={"content-type": "application/json"}))
    client = gemini_client(f"{reverse_proxy.url}/p/{plan.key}")
    answer = client.models.generate_content(model="gemini-2.5-pro", contents="hi")
    record = reverse_proxy.record_for(plan.key)
    assert record["complete"] is True and record["streamed"] is False, record["errors"]
    assert record["response"] == json.loads(body)
    parts = record["response"]["candidates"][0]["content"]["parts"]
    assert answer.text == "".join(p["text"] for p in parts if "text" in p and not p.get("thought"))


@pytest.mark.parametrize(("name", "kind"), [(OLLAMA_CHAT, "chat"), (OLLAMA_GENERATE, "generate")])
def test_ollama_client_stream_through_the_proxy_is_the_dumped_answer(
    upstream: Upstream, reverse_proxy: Mitmdump, name: str, kind: str
):
    plan = upstream.add(
        Plan(corpus_body(name), max_piece=53, headers={"content-type": "application/x-ndjson"})
    )
    client = ollama.Client(host=f"{reverse_proxy.url}/p/{plan.key}")
    if kind == "chat":
        chunks = list(
            client.chat(model="llama3", messages=[{"role": "user", "content": "hi"}], stream=True)
        )
        text = "".join(c.message.content or "" for c in chunks)
    else:
        chunks = list(client.generate(model="llama3", prompt="hi", stream=True))
        text = "".join(c.response or "" for c in chunks)
    record = reverse_proxy.record_for(plan.key)
    assert record["provider"] == f"ollama-{kind}"
    assert record["complete"] is True, record["errors"]
    response = record["response"]
    rebuilt_text = response["message"]["content"] if kind == "chat" else response["response"]
    assert rebuilt_text == text
    last = chunks[-1]
    assert last.done is True
    assert response["eval_count"] == last.eval_count
    assert response["done_reason"] == last.done_reason
    model = ollama.ChatResponse if kind == "chat" else ollama.GenerateResponse
    model.model_validate(response)
    assert rebuild(f"ollama-{kind}", corpus_body(name), streamed=True)["response"] == response


def test_ollama_client_plain_chat_is_recorded_as_it_is(upstream: Upstream, reverse_proxy: Mitmdump):
    body = json.dumps(
        {
            "model": "llama3",
            "created_at": "2026-11-01T10:00:00Z",
            "message": {"role": "assistant", "content": "Plain hi"},
            "done": True,
            "done_reason": "stop",
            "eval_count": 3,
            "prompt_eval_count": 5,
        }
    ).encode()
    plan = upstream.add(Plan(body, headers={"content-type": "application/json"}))
    client = ollama.Client(host=f"{reverse_proxy.url}/p/{plan.key}")
    answer = client.chat(model="llama3", messages=[{"role": "user", "content": "hi"}])
    record = reverse_proxy.record_for(plan.key)
    assert record["complete"] is True, record["errors"]
    assert record["response"]["message"]["content"] == answer.message.content == "Plain hi"
    assert record["usage"]["input_tokens"] == 5 and record["usage"]["output_tokens"] == 3
