"""Sessions in real Claude Code and Codex traffic: `flows/claude-code.flow` and
`flows/codex.flow`, recorded by `tools/record_agents.py` (the agents against a fake API on
127.0.0.1, behind mitmdump with the addon), read again through the addon in request order as
`mitmdump -nr` does, in process."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from mitmproxy import eventsequence, http
from mitmproxy.test import taddons

from addon.proxy.hooks import LLMRebuild
from addon.proxy.websocket import LLMWebSocket
from addon.record import Record
from tests.conftest import read_flows

FLOWS = Path(__file__).resolve().parent.parent / "flows"
CLAUDE_CODE = FLOWS / "claude-code.flow"
CODEX = FLOWS / "codex.flow"


def loaded(path: Path) -> list[http.HTTPFlow]:
    """The capture's flows in request order, without what the addon stored on them live (as a
    capture made without the addon): every session below is found afresh."""
    flows = sorted(read_flows(path), key=lambda f: f.request.timestamp_start)
    for flow in flows:
        flow.metadata.clear()
    return flows


def replayed(flows: list[http.HTTPFlow], tmp_path: Path) -> list[dict[str, Any]]:
    """Every hook of each flow's event sequence, one flow after the other, in one proxy; the
    records it publishes, in the order it publishes them."""
    rebuild = LLMRebuild()
    ws = LLMWebSocket(rebuild)
    published: list[Record] = []
    rebuild.listeners.append(published.append)
    with taddons.context(rebuild, ws) as tctx:
        tctx.configure(rebuild, llm_dump_dir=str(tmp_path / "dumps"), llm_summary=False)
        for flow in flows:
            for hook in eventsequence.iterate(flow):
                tctx.master.addons.invoke_addon_sync(rebuild, hook)
                tctx.master.addons.invoke_addon_sync(ws, hook)
    return [r.to_json() for r in published]


def headers(record: dict[str, Any]) -> dict[str, str]:
    return {k.lower(): v for k, v in record["request"]["headers"].items()}


# Claude Code -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def claude_flows() -> list[http.HTTPFlow]:
    return loaded(CLAUDE_CODE)


def test_the_claude_code_capture_is_claude_code_2_1_197_in_three_calls(claude_flows):
    calls = [f for f in claude_flows if f.request.method == "POST"]
    assert [f.request.path for f in calls] == ["/v1/messages?beta=true"] * 3
    for flow in calls:
        assert flow.request.headers["user-agent"] == "claude-cli/2.1.197 (external, sdk-cli)"
        assert flow.request.headers["x-api-key"].startswith("sk-ant-api03-FAKE-")
    # Before each call it checks the connection with a HEAD / (Bun's fetch): not an LLM call.
    assert [f.request.method for f in claude_flows] == ["HEAD", "POST"] * 3


def test_claude_code_calls_are_one_session_by_its_header_in_turn_order(claude_flows, tmp_path):
    records = replayed(claude_flows, tmp_path)
    assert len(records) == 3  # the HEAD requests have none
    session_id = headers(records[0])["x-claude-code-session-id"]
    for turn, record in enumerate(records, 1):
        assert record["provider"] == "anthropic-messages" and record["complete"] is True
        assert record["session"] == {
            "id": session_id,
            "turn": turn,
            "source": "x-claude-code-session-id header",
            "agent": None,
        }
        user_id = json.loads(record["request"]["body"]["metadata"]["user_id"])
        assert user_id["session_id"] == session_id  # the body says the same


def test_claude_code_cache_explanations(claude_flows, tmp_path):
    records = replayed(claude_flows, tmp_path)
    explanations = [r["cache"]["explanation"] for r in records]
    assert explanations[0].startswith("first call of session: wrote ")
    # The first `claude -p` ran Opus with 1M context (`context-1m` beta), the resumed ones
    # without: the Bash tool's description names the model ("Claude Opus 4.8 (1M context)"),
    # so the resumed session's first call misses.
    assert "context-1m-2025-08-07" in headers(records[0])["anthropic-beta"]
    assert "context-1m-2025-08-07" not in headers(records[1])["anthropic-beta"]
    assert explanations[1] == "cache miss: tools[1] (Bash) changed since turn 1"
    assert explanations[2].startswith("hit: read ")
    assert records[2]["cache"]["read_tokens"] > 0


def test_without_its_header_claude_code_is_found_by_metadata_user_id(claude_flows, tmp_path):
    for flow in claude_flows:
        flow.request.headers.pop("x-claude-code-session-id", None)
    records = replayed(claude_flows, tmp_path)
    sessions = [r["session"] for r in records]
    user_id = json.loads(records[0]["request"]["body"]["metadata"]["user_id"])
    assert [s["turn"] for s in sessions] == [1, 2, 3]
    assert {s["id"] for s in sessions} == {user_id["session_id"]}
    assert {s["source"] for s in sessions} == {"metadata.user_id"}


# Codex -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def codex_flows() -> list[http.HTTPFlow]:
    return loaded(CODEX)


def test_the_codex_capture_is_codex_0_171_0_on_three_sockets(codex_flows):
    assert len(codex_flows) == 3  # `codex exec`, then `codex exec resume` twice
    for flow in codex_flows:
        assert flow.websocket is not None and flow.response is not None
        assert flow.response.status_code == 101
        assert flow.request.path.endswith("/v1/responses")
        assert flow.request.headers["user-agent"].startswith("codex_exec/0.171.0 ")


def test_codex_calls_are_one_session_by_its_header_in_turn_order(codex_flows, tmp_path):
    records = replayed(codex_flows, tmp_path)
    # Each process prewarms its socket (`generate: false`), then asks for the turn chained to
    # the prewarm by previous_response_id.
    assert [r["socket_index"] for r in records] == [0, 1] * 3
    prewarms = [r["extras"]["websocket"].get("prewarm", False) for r in records]
    assert prewarms == [True, False] * 3
    thread = headers(records[0])["thread-id"]
    for turn, record in enumerate(records, 1):
        assert record["provider"] == "openai-responses" and record["complete"] is True
        assert record["session"] == {
            "id": thread,
            "turn": turn,
            "source": "session-id header",
            "agent": None,
        }
        sent = headers(record)
        assert sent["session-id"] == sent["thread-id"] == sent["x-client-request-id"] == thread
        body = record["request"]["body"]
        assert body["prompt_cache_key"] == thread
        assert body["client_metadata"]["session_id"] == thread
        assert body["client_metadata"]["thread_id"] == thread
    for prewarm, turn in zip(records[::2], records[1::2], strict=True):
        assert turn["request"]["body"]["previous_response_id"] == prewarm["response"]["id"]


def test_without_its_headers_codex_is_found_by_prompt_cache_key_and_chain(codex_flows, tmp_path):
    """A gateway that drops Codex's session headers: the body still names the thread."""
    for flow in codex_flows:
        for name in ("session-id", "thread-id"):
            flow.request.headers.pop(name, None)
    records = replayed(codex_flows, tmp_path)
    thread = records[0]["request"]["body"]["prompt_cache_key"]
    assert [r["session"]["turn"] for r in records] == [1, 2, 3, 4, 5, 6]
    assert {r["session"]["id"] for r in records} == {thread}
    sources = [r["session"]["source"] for r in records]
    assert sources == ["prompt_cache_key", "previous_response_id"] * 3
