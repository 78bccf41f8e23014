"""The "LLM rebuilt" contentview: picked by itself for LLM responses, summary first, then the
API-exact object; from a stored record, a running stream, or the body alone; no credentials.

The console and mitmweb both render bodies with `contentviews.prettify_message` over the one
global registry, so a pick by that function is the pick both make.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest
from mitmproxy import contentviews, http
from mitmproxy.addons.view import View
from mitmproxy.contentviews import Metadata
from mitmproxy.test import taddons, tflow

from addon.llm_rebuild import METADATA_KEY, LLMRebuild
from addon.providers import PROVIDERS
from addon.proxy.view import LLMResponseView
from addon.record import Record
from addon.sinks.view import render
from tests.conftest import FLOWS_KEYS, read_flows, rebuilt
from tests.conftest import capture as new_capture
from tests.oracles import CORPUS

ROOT = Path(__file__).resolve().parent.parent
SECRETS = FLOWS_KEYS
VIEW = "LLM rebuilt"


def flow_of(flows: list[http.HTTPFlow], corpus_name: str) -> http.HTTPFlow:
    """The capture's flow whose response body is this corpus stream."""
    body = (CORPUS / corpus_name).read_bytes()
    return next(f for f in flows if f.response and f.response.raw_content == body)


@pytest.fixture
def flows() -> list[http.HTTPFlow]:
    return read_flows()


@pytest.fixture(autouse=True)
def registered():
    """A master for `ctx.options` (read by `make_metadata`) and the view as the addon adds it."""
    with taddons.context() as tctx:
        contentviews.add(LLMResponseView())
        yield tctx


def shown(flow: http.HTTPFlow) -> contentviews.ContentviewResult:
    assert flow.response is not None
    return contentviews.prettify_message(flow.response, flow)


def api_json(flow: http.HTTPFlow, provider: str) -> str:
    assert flow.response is not None
    response = rebuilt(provider, flow)["response"]
    return json.dumps(response, indent=2, ensure_ascii=False)


@pytest.mark.parametrize(
    ("corpus_name", "provider", "answer"),
    [
        (
            "ccproxy/claude_messages.sse",
            "anthropic-messages",
            "Hello! It's nice to meet you. I'm Claude",
        ),
        (
            "ccproxy/copilot_chat_completions.sse",
            "openai-chat",
            "Hello! How can I assist you today?",
        ),
        ("ccproxy/codex_responses.sse", "openai-responses", "Hey! How can I help you today?"),
    ],
)
def test_stream_of_each_api_is_shown_rebuilt_by_default_summary_first(
    flows, corpus_name, provider, answer
):
    flow = flow_of(flows, corpus_name)
    result = shown(flow)
    assert result.view_name == VIEW
    text = result.text
    summary = PROVIDERS[provider].accumulator.summarize(rebuilt(provider, flow)["response"])
    assert text.startswith(f"provider     {provider}")
    assert f"model        {summary.model}\n" in text
    assert f"stop reason  {summary.stop_reason}\n" in text
    assert "status       HTTP 200, complete\n" in text
    assert answer in text
    assert text.index(answer) < text.index("── response object (API-exact) ──")
    assert text.rstrip("\n").endswith(api_json(flow, provider))


def test_tool_calls_show_their_name_and_pretty_printed_input(flows):
    text = shown(flow_of(flows, "ccproxy/claude_messages_tools.sse")).text
    assert '── tool call: get_weather ──\n{\n  "location": "New York"\n}\n' in text
    assert '── tool call: calculate_distance ──\n{\n  "lat1": "40.7128",\n' in text


def test_parts_keep_the_answer_order_thinking_before_text(flows):
    text = shown(flow_of(flows, "ccproxy/codex_responses_thinking.sse")).text
    assert text.index("── thinking ──") < text.index("── text ──")
    assert "**Calculating factorials**" in text


def test_usage_is_flattened_onto_readable_lines(flows):
    text = shown(flow_of(flows, "ccproxy/copilot_chat_completions.sse")).text
    assert "prompt_tokens_details.cached_tokens=0" in text
    assert "completion_tokens=10" in text


def test_truncated_stream_says_incomplete_with_its_errors_on_one_line_each(flows):
    text = shown(flow_of(flows, "sdk/anthropic/incomplete_partial_json_response.sse")).text
    assert "status       HTTP 200, INCOMPLETE\n" in text
    after = text.split("errors:\n", 1)[1].splitlines()
    errors = list(itertools.takewhile(lambda line: line.startswith("  - "), after))
    assert errors and all(len(e) <= len("  - ") + 300 for e in errors)
    assert after[len(errors)] == "warnings:"
    assert "── tool call: make_file ──" in text


def test_plain_json_answer_is_shown_rebuilt_too(flows):
    flow = next(
        f
        for f in flows
        if f.response
        and f.response.headers["content-type"] == ("application/json")
        and f.response.status_code == 200
    )
    result = shown(flow)
    assert result.view_name == VIEW
    assert "streamed     no (plain JSON)" in result.text
    assert "── text ──\nA plain, non-streamed answer.\n" in result.text


def test_http_error_shows_status_and_error_not_an_empty_summary(flows):
    flow = next(f for f in flows if f.response and f.response.status_code == 429)
    text = shown(flow).text
    assert "status       HTTP 429, INCOMPLETE" in text
    assert "  - HTTP 429: rate_limit_error: Rate limited." in text
    assert "model" not in text.split("──", 1)[0]


def test_non_llm_flow_is_left_to_other_views(flows):
    flow = next(f for f in flows if f.request.pretty_host == "example.com")
    metadata = contentviews.make_metadata(flow.response, flow)
    assert LLMResponseView().render_priority(flow.response.content, metadata) < 0
    assert shown(flow).view_name != VIEW


def test_request_side_of_an_llm_flow_is_not_taken(flows):
    flow = flow_of(flows, "ccproxy/claude_messages.sse")
    metadata = contentviews.make_metadata(flow.request, flow)
    assert LLMResponseView().render_priority(flow.request.content, metadata) < 0
    assert contentviews.prettify_message(flow.request, flow).view_name != VIEW


def test_html_page_from_a_gateway_on_an_llm_route_is_not_taken():
    flow = tflow.tflow(resp=True)
    flow.request.host, flow.request.path = "api.openai.com", "/v1/chat/completions"
    flow.request.method = "POST"
    flow.response = http.Response.make(
        502, b"<html>Bad gateway</html>", {"content-type": "text/html"}
    )
    assert shown(flow).view_name != VIEW


def test_stored_record_is_shown_as_the_addon_kept_it(flows):
    flow = flow_of(flows, "ccproxy/claude_messages.sse")
    record = rebuilt("anthropic-messages", flow)
    record["flow_id"] = flow.id
    record["errors"] = ["flow error: client disconnected"]
    record["complete"] = False
    flow.metadata[METADATA_KEY] = record
    text = shown(flow).text
    assert "(record kept by the addon)" in text
    assert "  - flow error: client disconnected" in text


def test_running_stream_shows_what_arrived_so_far():
    body = (CORPUS / "ccproxy/claude_messages.sse").read_bytes()
    flow = tflow.tflow(resp=True)
    flow.request.host, flow.request.path = "api.anthropic.com", "/v1/messages"
    flow.request.method = "POST"
    flow.response = http.Response.make(200, b"", {"content-type": "text/event-stream"})
    flow.response.raw_content = None  # mitmproxy keeps no body while it streams
    capture = new_capture("anthropic-messages")
    flow.response.stream = capture
    capture(body[: body.index(b"meet you")])
    view = LLMResponseView()
    metadata = Metadata(flow=flow, http_message=flow.response)
    assert contentviews.registry.get_view(b"", metadata) is contentviews.registry[VIEW]
    text = view.prettify(b"", metadata)
    assert "status       HTTP 200, streaming" in text
    assert "(stream still running: what has arrived so far)" in text
    assert "── text ──\nHello!" in text
    assert "meet you" not in text
    capture(body[body.index(b"meet you") :])
    assert "Hello! It's nice to meet you." in view.prettify(b"", metadata)


def test_no_credential_appears_in_any_view_of_the_capture(flows):
    addon = LLMRebuild()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, llm_dump_dir="", llm_summary=False)
        stored = read_flows()
        for flow in stored:
            addon.response(flow)
    assert any(METADATA_KEY in f.metadata for f in stored)
    for flow in [*flows, *stored]:
        text = shown(flow).text
        assert not any(secret in text for secret in SECRETS)
        assert "Bearer" not in text


def test_summary_failure_still_shows_the_object(monkeypatch):
    def broken(response):
        raise KeyError("choices")

    monkeypatch.setattr(PROVIDERS["openai-chat"].accumulator, "summarize", staticmethod(broken))
    record = Record(provider="openai-chat")
    record.response = {"id": "chatcmpl-1", "object": "chat.completion"}
    text = render(record)
    assert "summary unavailable: KeyError('choices')" in text
    assert '"id": "chatcmpl-1"' in text


def test_refusal_and_broken_tool_arguments_are_shown_as_they_are():
    record = Record(provider="openai-chat", complete=True)
    record.response = {
        "model": "gpt-4o",
        "choices": [
            {
                "index": 0,
                "finish_reason": "stop",
                "message": {
                    "role": "assistant",
                    "content": None,
                    "refusal": "I can't help with that.",
                    "tool_calls": [
                        {
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "lookup", "arguments": '{"q": "x'},
                        }
                    ],
                },
            }
        ],
    }
    text = render(record)
    assert "── refusal ──\nI can't help with that.\n" in text
    assert '── tool call: lookup ──\n{"q": "x\n(not valid JSON)\n' in text


def test_nothing_rebuilt_yet_is_said_plainly():
    text = render(Record(provider="openai-responses"), "live")
    assert "status       streaming" in text
    assert "(nothing rebuilt yet)" in text


def test_addon_registers_the_view_once_and_reloads_replace_it():
    first, second = LLMRebuild(), LLMRebuild()
    with taddons.context(first):
        assert contentviews.registry[VIEW].resolver is first.resolver
    with taddons.context(second):
        assert contentviews.registry[VIEW].resolver is second.resolver
    assert contentviews.registry.available_views().count(VIEW.lower()) == 1


def test_view_follows_the_addons_extra_routes():
    addon = LLMRebuild()
    flow = tflow.tflow(resp=True)
    flow.request.host, flow.request.port, flow.request.path = "llm.internal", 8080, "/llm/chat"
    flow.request.method = "POST"
    body = (CORPUS / "ccproxy/copilot_chat_completions.sse").read_bytes()
    flow.response = http.Response.make(200, body, {"content-type": "text/event-stream"})
    with taddons.context(addon) as tctx:
        assert shown(flow).view_name != VIEW
        tctx.configure(addon, llm_routes=["llm.internal:8080 ^/llm/chat$ openai-chat"])
        result = shown(flow)
    assert result.view_name == VIEW
    assert "Hello! How can I assist you today?" in result.text


def test_running_stream_is_shown_by_mitmproxys_own_view_lookup_with_what_has_arrived():
    """mitmweb and the console call `prettify_message`; with no body at all they print
    "Content is missing" without asking any view, so a running stream must carry one."""
    body = (CORPUS / "sdk/anthropic/tool_use_response.sse").read_bytes()
    addon = LLMRebuild()
    with taddons.context(addon) as tctx:
        tctx.configure(addon, llm_dump_dir="")
        flow = tflow.tflow(resp=True)
        flow.request.host, flow.request.path = "api.anthropic.com", "/v1/messages"
        flow.request.method = "POST"
        flow.response = http.Response.make(200, b"", {"content-type": "text/event-stream"})
        flow.response.raw_content = None
        flow.live = True
        addon.responseheaders(flow)
        flow.response.stream(body[: body.index(b"content_block_stop")])
        shown = contentviews.prettify_message(flow.response, flow)
        assert shown.view_name == "LLM rebuilt"
        assert "stream still running" in shown.text
        assert "I'll check the current weather in Paris for you." in shown.text
        flow.response.stream(body[body.index(b"content_block_stop") :])
        addon.response(flow)
        assert flow.response.raw_content == body


def test_running_stream_in_a_ui_shows_its_body_so_far_and_is_redrawn():
    """mitmweb titles an empty body "No content" and the console shows nothing else for it:
    where a UI runs, the body so far is on the flow and an update redraws it."""
    body = (CORPUS / "sdk/anthropic/tool_use_response.sse").read_bytes()
    view, addon, updates = View(), LLMRebuild(), []

    class Updates:
        def update(self, flows) -> None:
            updates.extend(flows)

    with taddons.context(view, addon, Updates()) as tctx:
        tctx.configure(addon, llm_dump_dir="")
        flow = tflow.tflow(resp=True)
        flow.request.host, flow.request.path = "api.anthropic.com", "/v1/messages"
        flow.request.method = "POST"
        flow.response = http.Response.make(200, b"", {"content-type": "text/event-stream"})
        flow.response.raw_content = None
        flow.live = True
        addon.responseheaders(flow)
        first = body[: body.index(b"content_block_stop")]
        assert flow.response.stream(first) == first
        assert flow.response.raw_content == first  # shown at once, then at most every second
        assert updates == [flow]
        shown = contentviews.prettify_message(flow.response, flow)
        assert shown.view_name == "LLM rebuilt"
        assert "stream still running" in shown.text
        flow.response.stream(body[len(first) :])
        addon.response(flow)
    assert flow.response.raw_content == body
