"""The OpenTelemetry export against a real backend: Arize Phoenix (its own environment, see
tests/live/phoenix), fed by real mitmdump processes over OTLP/HTTP, read back through its REST
API. Offline replays of flows/llm.flow keep their original times; a live call through the
proxy arrives too; nothing is sent while the option is empty; a backend that is down costs the
records nothing and is one warning line. Each test writes to its own Phoenix project
(OTEL_RESOURCE_ATTRIBUTES=openinference.project.name=...), as a user can."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest
from mitmproxy import http, io

from tests.conftest import CAPTURE, FLOWS_KEYS, LLM_FLOWS_IN_CAPTURE, read_flows
from tests.live.apps import APIS, answer
from tests.live.phoenix import Phoenix, free_port
from tests.live.proxy import ADDON, MITMDUMP, ROOT, Mitmdump, mitmdump_env, read_records
from tests.live.upstream import Upstream

LLM_FLOWS = LLM_FLOWS_IN_CAPTURE
SECRET = "sk-body-SECRET-never-in-a-span"
SESSION = "6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"


@pytest.fixture(scope="session")
def phoenix(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Phoenix]:
    server = Phoenix(tmp_path_factory.mktemp("phoenix")).start()
    try:
        yield server
    finally:
        server.stop()


def replay(
    capture: Path, workdir: Path, project: str, *options: str
) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    """`mitmdump -nr capture -s addon/llm_rebuild.py` with the options; its dumps."""
    dumps = workdir / "dumps"
    env = mitmdump_env()
    env["OTEL_RESOURCE_ATTRIBUTES"] = f"openinference.project.name={project}"
    done = subprocess.run(
        [str(MITMDUMP), "-nr", str(capture), "-s", str(ADDON), "--set", f"llm_dump_dir={dumps}"]
        + [arg for option in options for arg in ("--set", option)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done, read_records(dumps)


def seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def by_flow(spans: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {s["attributes"]["llm_rebuild.flow_id"]: s for s in spans}


def test_a_replayed_capture_is_one_span_per_call_in_phoenix_at_the_calls_own_times(
    phoenix: Phoenix, tmp_path: Path
):
    _, records = replay(CAPTURE, tmp_path, "replay", f"llm_otlp_endpoint={phoenix.url}")
    assert len(records) == LLM_FLOWS
    # mitmdump -nr is over in well under the batch delay: these came with the flush at `done`.
    spans = by_flow(phoenix.wait_for_spans("replay", LLM_FLOWS))
    assert set(spans) == {r["flow_id"] for r in records}
    for record in records:
        span, timing = spans[record["flow_id"]], record["timing"]
        attributes = span["attributes"]
        assert seconds(span["start_time"]) == pytest.approx(timing["started"], abs=1e-6)
        assert seconds(span["end_time"]) - seconds(span["start_time"]) == pytest.approx(
            timing["duration"], abs=1e-6
        )
        assert span["name"] == f"chat {attributes['gen_ai.request.model']}" or span[
            "name"
        ].startswith("text_completion ")
        assert span["span_kind"] == "LLM"  # Phoenix read it as a GenAI inference span
        usage = record["usage"] or {}
        assert attributes.get("gen_ai.usage.input_tokens") == usage.get("input_tokens")
        assert attributes.get("gen_ai.usage.output_tokens") == usage.get("output_tokens")
        if usage.get("input_tokens") is not None:  # and mapped our usage onto its own
            assert attributes["llm.token_count.prompt"] == usage["input_tokens"]
        assert attributes["server.address"] == record["request"]["url"].split("/")[2].split(":")[0]
        assert attributes["llm_rebuild.complete"] is record["complete"]
        if record["complete"]:
            assert span["status_code"] == "UNSET"
        else:
            assert span["status_code"] == "ERROR"
            assert span["status_message"] == record["errors"][0][:999] or span[
                "status_message"
            ].endswith("…")
            assert attributes["error.type"] in ("429", "incomplete")
        if record["cost"]:
            assert attributes["gen_ai.usage.cost"] == pytest.approx(record["cost"]["total"])
        assert not any(
            k.startswith(("gen_ai.input", "gen_ai.output", "llm.input")) for k in attributes
        )
    tool_use = spans["00000000-0000-0000-0000-000000000003"]["attributes"]
    assert tool_use["gen_ai.response.finish_reasons"] == ["tool_use"]
    assert tool_use["gen_ai.response.id"] == "msg_019Q1hrJbZG26Fb9BQhrkHEr"
    assert tool_use["gen_ai.provider.name"] == "anthropic"
    assert tool_use["gen_ai.request.max_tokens"] == 1024
    assert tool_use["gen_ai.response.time_to_first_chunk"] == pytest.approx(0.4)
    rate_limited = spans["00000000-0000-0000-0000-0000000001f6"]
    assert rate_limited["status_message"] == "HTTP 429: rate_limit_error: Rate limited."


def crafted_capture(path: Path) -> None:
    """Two calls of flows/llm.flow made an agent's: a Claude Code session header, and an earlier
    tool call whose input holds a password (in Chat Completions as a JSON string)."""
    flows = read_flows()
    anthropic, chat = flows[2], flows[7]  # Anthropic tool use, Chat Completions with tools
    turns = {
        anthropic: [
            {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": "t1", "name": "login", "input": {"password": SECRET}}
                ],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "ok"}],
            },
        ],
        chat: [
            {
                "role": "assistant",
                "tool_calls": [
                    {
                        "id": "c1",
                        "type": "function",
                        "function": {
                            "name": "login",
                            "arguments": json.dumps({"password": SECRET}),
                        },
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "ok"},
        ],
    }
    chosen: list[http.HTTPFlow] = []
    for flow, more in turns.items():
        body = json.loads(flow.request.content or b"{}")
        body["messages"] += more
        if flow is anthropic:
            body["system"] = [{"type": "text", "text": "You are terse."}]
        flow.request.content = json.dumps(body).encode()
        flow.request.headers["X-Claude-Code-Session-Id"] = SESSION
        chosen.append(flow)
    with path.open("wb") as file:
        writer = io.FlowWriter(file)
        for flow in chosen:
            writer.add(flow)


def test_phoenix_reads_every_apis_messages_when_content_is_on_and_never_a_key(
    phoenix: Phoenix, tmp_path: Path
):
    _, records = replay(
        CAPTURE,
        tmp_path,
        "content",
        f"llm_otlp_endpoint={phoenix.url}",
        "llm_otlp_content=true",
    )
    spans = by_flow(phoenix.wait_for_spans("content", LLM_FLOWS))
    assert len(spans) == LLM_FLOWS
    for record in records:
        attributes = spans[record["flow_id"]]["attributes"]
        assert "gen_ai.input.messages" in attributes
        # Phoenix validates the conventions' JSON schemas and drops a whole list for one bad
        # part: its own message attributes mean ours passed.
        assert any(k.startswith("llm.input_messages.") for k in attributes), record["provider"]
        if record["status_code"] == 200:
            assert any(k.startswith("llm.output_messages.") for k in attributes)
    tools = spans["00000000-0000-0000-0000-000000000002"]["attributes"]
    assert json.loads(tools["gen_ai.tool.definitions"])[0]["type"] == "function"
    assert any(k.startswith("llm.tools.") for k in tools)
    text = json.dumps(list(spans.values()))
    assert not any(key in text for key in FLOWS_KEYS)


def test_the_agent_session_is_phoenixs_session_and_a_body_secret_stays_masked(
    phoenix: Phoenix, tmp_path: Path
):
    capture = tmp_path / "agent.flow"
    crafted_capture(capture)
    _, records = replay(
        capture, tmp_path, "agent", f"llm_otlp_endpoint={phoenix.url}", "llm_otlp_content=true"
    )
    assert [r["session"]["id"] for r in records] == [SESSION, SESSION]
    spans = phoenix.wait_for_spans("agent", 2)
    assert len(spans) == 2
    for span in spans:
        assert span["attributes"]["gen_ai.conversation.id"] == SESSION
        assert span["attributes"]["session.id"] == SESSION
    text = json.dumps(spans)
    assert SECRET not in text and "[REDACTED]" in text
    (claude,) = [
        s["attributes"]
        for s in spans
        if s["attributes"]["llm_rebuild.provider"] == "anthropic-messages"
    ]
    # Phoenix put our system instructions first and the tool round trip after the user turn
    assert claude["llm.input_messages.0.message.role"] == "system"
    assert claude["llm.input_messages.0.message.content"] == "You are terse."
    assert claude["llm.input_messages.2.message.tool_calls.0.tool_call.function.name"] == "login"


def test_nothing_reaches_phoenix_while_the_endpoint_is_empty(phoenix: Phoenix, tmp_path: Path):
    before = phoenix.all_spans()
    done, records = replay(CAPTURE, tmp_path, "off")
    assert len(records) == LLM_FLOWS
    time.sleep(1)
    assert phoenix.all_spans() == before
    assert "OpenTelemetry" not in done.stdout


def test_a_live_call_through_the_proxy_arrives_with_its_time_to_first_chunk(
    phoenix: Phoenix, upstream: Upstream, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "openinference.project.name=live")
    plan = upstream.add(answer("sdk/anthropic/tool_use_response.sse"))
    proxy = Mitmdump(
        tmp_path,
        "--mode",
        f"reverse:http://127.0.0.1:{upstream.port}",
        "--set",
        f"llm_otlp_endpoint={phoenix.url}",
    )
    with proxy, httpx2.Client(trust_env=False) as client:
        url = f"{proxy.url}/p/{plan.key}{APIS['anthropic-messages'].api_path}"
        with client.stream("POST", url, json={"model": "claude-x", "stream": True}) as response:
            for _ in response.iter_raw():
                pass
        record = proxy.record_for(plan.key)
    (span,) = phoenix.wait_for_spans("live", 1)
    attributes = span["attributes"]
    assert attributes["llm_rebuild.flow_id"] == record["flow_id"]
    assert seconds(span["start_time"]) == pytest.approx(record["timing"]["started"], abs=1e-6)
    assert attributes["gen_ai.response.time_to_first_chunk"] == pytest.approx(
        record["timing"]["time_to_first_byte"]
    )
    assert attributes["gen_ai.request.stream"] is True
    assert attributes["server.address"] == "127.0.0.1"
    assert attributes["server.port"] == upstream.port


def test_a_backend_that_is_down_changes_no_record_and_is_one_warning_line(tmp_path: Path):
    closed = free_port()  # bound and let go: nothing listens there
    _, without = replay(CAPTURE, tmp_path / "without", "none")
    started = time.monotonic()
    done, with_down = replay(
        CAPTURE, tmp_path / "down", "none", f"llm_otlp_endpoint=http://127.0.0.1:{closed}"
    )
    took = time.monotonic() - started
    assert with_down == without
    output = done.stdout + done.stderr
    warnings = [line for line in output.splitlines() if "cannot send OpenTelemetry" in line]
    assert len(warnings) == 1, output[-3000:]
    assert f"127.0.0.1:{closed}" in warnings[0]
    others = output.replace(warnings[0], "")
    for noise in ("Transient error", "Failed to export", "Traceback", "Exception", "Queue"):
        assert noise not in others
    assert "Connection refused" in warnings[0]
    assert took < 30
