"""Official SDK clients stream through a real mitmdump: what the app got is what was dumped.

Every run also proves there is no buffering: the fake upstream holds its last piece until the
app has seen its first event, and the app's first event precedes that last piece.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

import anthropic
import httpx2
import openai
import pytest

from addon import rebuild
from tests.live.apps import APIS, Run, answer, comparable, corpus_body
from tests.live.proxy import Mitmdump
from tests.live.upstream import ENCODINGS, Plan, Upstream

STREAMS: dict[str, list[str]] = {
    "anthropic-messages": [
        "sdk/anthropic/tool_use_response.sse",
        "sdk/anthropic/stream-a-refusal.sse",
        "sdk/anthropic/test_runners.TestSyncRunTools.555fb399-a54c-455b-9ac5-2c9673f18e12"
        ".0-response-body.sse",
        "ccproxy/claude_messages_tools.sse",
    ],
    "openai-chat": [
        "sdk/openai-chat/test_parse_pydantic_tool.c6aa7e397b71.sse",
        "sdk/openai-chat/test_content_logprobs_events.83b060bae42e.sse",
        "sdk/openai-chat/test_parse_pydantic_model_multiple_choices.a491adda08c3.sse",
        "sdk/openai-chat/test_parse_strict_tools.a247c49c5fcd.sse",
    ],
    "openai-responses": [
        "sdk/openai-responses/dotnet.FunctionCallStreamingWorks.e0.sse",
        "sdk/openai-responses/dotnet.HelloWorldStreaming_gpt-4o-mini.e0.sse",
        "ccproxy/codex_responses_tools.sse",
    ],
}


def _finish_reason_is_length(record: dict, error: Exception) -> None:
    assert record["response"]["choices"][0]["finish_reason"] == "length"
    # What the helper had accumulated when it raised is the same completion.
    snapshot = error.completion.model_dump(mode="json")  # type: ignore[attr-defined]
    assert comparable(record["response"]) == comparable(snapshot)


def _copilot_tool_calls_are_whole(record: dict, error: Exception) -> None:
    calls = record["response"]["choices"][0]["message"]["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["get_weather", "calculate_distance"]
    assert all(json.loads(c["function"]["arguments"]) for c in calls)


SDK_WRONG: dict[str, tuple[type[Exception], str, Callable[[dict, Exception], None]]] = {
    "sdk/openai-chat/test_parse_max_tokens_reached.4cc50a6135d2.sse": (
        openai.LengthFinishReasonError,
        "the chat helper raises on finish_reason 'length' although the stream is whole",
        _finish_reason_is_length,
    ),
    "ccproxy/copilot_chat_completions_tools.sse": (
        AssertionError,
        "Copilot sends no `object`: the chat helper skips every chunk and fails an assert",
        _copilot_tool_calls_are_whole,
    ),
}
"""openai-chat streams the SDK helper gets wrong: what it raises, why, and what the record holds."""

CASES = [(provider, name) for provider, names in STREAMS.items() for name in names]


@pytest.fixture(params=["reverse", "regular"])
def via(request, upstream: Upstream, reverse_proxy: Mitmdump, regular_proxy: Mitmdump):
    """How the app reaches the API: `base_url` at a reverse proxy, or the proxy as HTTP proxy."""
    mode = request.param

    def connect(plan: Plan, prefix: str) -> tuple[str, httpx2.Client, Mitmdump]:
        if mode == "reverse":
            proxy = reverse_proxy
            client = httpx2.Client(trust_env=False)
            return f"{proxy.url}/p/{plan.key}{prefix}", client, proxy
        proxy = regular_proxy
        client = httpx2.Client(proxy=proxy.url, trust_env=False)
        return upstream.base(plan) + prefix, client, proxy

    return connect


@pytest.fixture
def app(upstream: Upstream, via) -> Iterator:
    """Run one corpus stream through the proxy with the API's SDK: (run, plan, record, proxy).

    Clients are closed here too, in case a test fails halfway."""
    clients: list[httpx2.Client] = []

    def go(provider: str, name: str, expect: type[Exception] | None = None, **plan_options):
        api = APIS[provider]
        run = Run()
        plan = upstream.add(answer(name, run, **plan_options))
        base_url, client, proxy = via(plan, api.sdk_prefix)
        clients.append(client)
        if expect is None:
            api.runner(base_url, client, run)
        else:
            with pytest.raises(expect) as raised:
                api.runner(base_url, client, run)
            run.error = raised.value
        client.close()
        return run, plan, proxy.record_for(plan.key), proxy

    yield go
    for client in clients:
        client.close()


def assert_whole_answer_sent(plan: Plan) -> None:
    """Every piece went out (the openai SDK may hang up at [DONE], before the body's end)."""
    assert plan.finished.wait(5)
    assert len(plan.sent) == len(plan.pieces), plan.outcome


def assert_not_buffered(run: Run, plan: Plan) -> None:
    assert plan.gate_was_set, "upstream held its last piece and the app saw no event meanwhile"
    assert run.first_event_at is not None and run.first_event_at < plan.sent[-1][0]


@pytest.mark.parametrize(("provider", "name"), CASES, ids=[n.split("/")[-1][:40] for _, n in CASES])
def test_app_final_object_equals_dumped_response(app, provider: str, name: str):
    run, plan, record, _ = app(provider, name)
    assert record["provider"] == provider
    assert record["complete"] is True, record["errors"]
    assert comparable(record["response"]) == comparable(run.final)
    assert_whole_answer_sent(plan)
    assert_not_buffered(run, plan)


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_app_final_object_equals_dumped_response_when_compressed(app, encoding: str):
    name = "sdk/anthropic/tool_use_response.sse"
    run, plan, record, _ = app("anthropic-messages", name, encoding=encoding)
    assert plan.request is not None
    assert record["complete"] is True, record["errors"]
    assert dict(record["response_headers"])["content-encoding"] == encoding
    assert comparable(record["response"]) == comparable(run.final)
    assert_not_buffered(run, plan)


@pytest.mark.parametrize("name", sorted(SDK_WRONG))
def test_stream_the_sdk_gets_wrong_reaches_the_app_whole_and_the_record_is_right(app, name):
    """Named exceptions (SDK_WRONG): the helper raises at the end, the record is complete."""
    expected_error, _, check = SDK_WRONG[name]
    # No gate: the Copilot stream gives the app no event at all (the helper skips them).
    run, plan, record, _ = app("openai-chat", name, expect=expected_error, gate=None)
    assert_whole_answer_sent(plan)
    assert record["complete"] is True, record["errors"]
    assert record["response"] == rebuild("openai-chat", corpus_body(name))["response"]
    check(record, run.error)


@pytest.mark.parametrize("provider", sorted(STREAMS))
def test_timing_and_one_line_summary(app, provider: str):
    name = STREAMS[provider][0]
    # About 8 pieces 30 ms apart: the first token is measured when it passes, not at the end.
    body_size = len(corpus_body(name))
    _, plan, record, proxy = app(
        provider, name, max_piece=body_size // 4, min_pause=0.03, max_pause=0.03
    )
    timing = record["timing"]
    for key in ("time_to_headers", "time_to_first_byte", "time_to_first_token", "duration"):
        assert isinstance(timing[key], float), (key, timing)
    assert 0 <= timing["time_to_headers"] <= timing["time_to_first_byte"]
    assert timing["time_to_first_byte"] <= timing["time_to_first_token"]
    assert timing["time_to_first_token"] < timing["duration"] - 0.05
    assert timing["duration"] >= plan.sent[-1][0] - plan.sent[0][0]
    tokens = timing["output_tokens"]
    assert isinstance(tokens, int) and tokens > 0
    generating = timing["duration"] - timing["time_to_first_token"]
    assert timing["tokens_per_second"] == pytest.approx(tokens / generating, rel=0.05)

    output = proxy.wait_for_output(record["flow_id"])
    line = next(line for line in output.splitlines() if record["flow_id"] in line)
    model = record["response"]["model"]
    expected = (
        rf"llm {provider} {re.escape(model)} stop=\S+ .*"
        r"tokens=\d+/\d+ (\$[\d.e-]+ )?ttft=[\d.]+s [\d.]+s complete (\[[^]]*\] )?-> "
    )
    assert re.search(expected, line), line


@pytest.mark.parametrize("provider", ["anthropic-messages", "openai-chat"])
def test_base_url_environment_variable_puts_an_unchanged_app_behind_the_reverse_proxy(
    upstream: Upstream, reverse_proxy: Mitmdump, monkeypatch: pytest.MonkeyPatch, provider: str
):
    """docs/live.md's reverse proxy: ANTHROPIC_BASE_URL / OPENAI_BASE_URL, default clients."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    name = STREAMS[provider][0]
    plan = upstream.add(answer(name))
    base_url = f"{reverse_proxy.url}/p/{plan.key}"
    if provider == "anthropic-messages":
        monkeypatch.setenv("ANTHROPIC_BASE_URL", base_url)
        with anthropic.Anthropic(api_key="test-key").messages.stream(
            model="claude-test", max_tokens=1024, messages=[{"role": "user", "content": "hi"}]
        ) as stream:
            final = stream.get_final_message().model_dump(mode="json")
    else:
        monkeypatch.setenv("OPENAI_BASE_URL", base_url + "/v1")
        with openai.OpenAI(api_key="test-key").chat.completions.stream(
            model="gpt-test", messages=[{"role": "user", "content": "hi"}]
        ) as stream:
            final = stream.get_final_completion().model_dump(mode="json")
    record = reverse_proxy.record_for(plan.key)
    assert record["complete"] is True, record["errors"]
    assert comparable(record["response"]) == comparable(final)
