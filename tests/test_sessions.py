"""Sessions: what Claude Code and Codex send names the session; Responses chains join it;
turns count calls in request order; memory stays bounded."""

from __future__ import annotations

import json

from addon.insights.sessions import SessionTracker, claude_code_session, header

CC_SESSION = "3f0c9b52-5a7e-4a8e-9c0e-1d2b3c4d5e6f"
CODEX_THREAD = "019a1b2c-3d4e-7f60-8a9b-0c1d2e3f4a5b"


def record(headers=None, body=None, response_id=None, provider="anthropic-messages") -> dict:
    return {
        "provider": provider,
        "request": {
            "method": "POST",
            "url": "https://api.anthropic.com/v1/messages",
            "headers": headers or {},
            "body": body or {},
        },
        "response": {"id": response_id} if response_id else {"type": "message"},
    }


def claude_code_headers(agent: str | None = None) -> dict:
    """What Claude Code 2.1.332 sends (`cd()` default headers and the sub-agent headers)."""
    headers = {
        "x-app": "cli",
        "User-Agent": "claude-cli/2.1.332 (external, cli)",
        "X-Claude-Code-Session-Id": CC_SESSION,
    }
    if agent:
        headers["x-claude-code-agent-id"] = agent
        headers["x-claude-code-parent-agent-id"] = "main"
    return headers


def codex_headers(thread: str = CODEX_THREAD, session: str = CODEX_THREAD) -> dict:
    """What current Codex sends on a Responses request (`build_session_headers`)."""
    return {
        "originator": "codex_cli_rs",
        "session-id": session,
        "thread-id": thread,
        "x-client-request-id": thread,
        "x-codex-window-id": f"{thread}:0",
    }


def test_claude_code_session_header_names_the_session_and_turns_count_up():
    tracker = SessionTracker()
    sessions = [tracker.assign(record(claude_code_headers())) for _ in range(3)]
    assert [s["turn"] for s in sessions] == [1, 2, 3]
    assert sessions[0] == {
        "id": CC_SESSION,
        "turn": 1,
        "source": "x-claude-code-session-id header",
        "agent": None,
    }


def test_assign_sets_the_record_key():
    tracker = SessionTracker()
    rec = record(claude_code_headers())
    assert tracker.assign(rec) is rec["session"]


def test_header_names_match_in_any_case_and_repeated_values_give_the_first():
    headers = {"x-claude-code-session-id": f"{CC_SESSION}, {CC_SESSION}"}
    assert header(headers, "X-Claude-Code-Session-Id") == CC_SESSION
    assert header({}, "x") is None


def test_claude_code_sub_agents_share_the_session_and_name_their_agent():
    tracker = SessionTracker()
    main = tracker.assign(record(claude_code_headers()))
    sub = tracker.assign(record(claude_code_headers(agent="agent-7")))
    assert sub["id"] == main["id"] == CC_SESSION
    assert (main["agent"], sub["agent"]) == (None, "agent-7")
    assert sub["turn"] == 2


def test_claude_code_metadata_user_id_in_both_formats():
    current = json.dumps({"device_id": "d" * 64, "account_uuid": "a-1", "session_id": CC_SESSION})
    legacy = f"user_{'d' * 64}_account_1a2b3c4d-0000-4000-8000-000000000001_session_{CC_SESSION}"
    assert claude_code_session(current) == CC_SESSION
    assert claude_code_session(legacy) == CC_SESSION
    assert claude_code_session("user-42") is None
    assert claude_code_session("{not json") is None
    tracker = SessionTracker()
    session = tracker.assign(record(body={"metadata": {"user_id": legacy}}))
    assert session["id"] == CC_SESSION
    assert session["source"] == "metadata.user_id"


def test_the_header_wins_over_metadata():
    tracker = SessionTracker()
    body = {"metadata": {"user_id": json.dumps({"session_id": "other"})}}
    assert tracker.assign(record(claude_code_headers(), body))["id"] == CC_SESSION


def test_codex_session_and_thread_headers():
    tracker = SessionTracker()
    body = {"prompt_cache_key": CODEX_THREAD}
    main = tracker.assign(record(codex_headers(), body, provider="openai-responses"))
    assert main == {"id": CODEX_THREAD, "turn": 1, "source": "session-id header", "agent": None}
    spawned = codex_headers(thread="019a-child", session=CODEX_THREAD)
    child = tracker.assign(record(spawned, provider="openai-responses"))
    assert (child["id"], child["agent"], child["turn"]) == (CODEX_THREAD, "019a-child", 2)


def test_older_codex_headers():
    tracker = SessionTracker()
    old = {"session_id": "conv-1", "conversation_id": "conv-1"}
    assert tracker.assign(record(old))["source"] == "session_id header"
    older = {"conversation_id": "conv-2"}
    assert tracker.assign(record(older))["source"] == "conversation_id header"


def test_a_previous_response_id_chain_joins_the_earlier_records_session():
    tracker = SessionTracker()
    first = tracker.assign(record(codex_headers(), response_id="resp_1"))
    chained = tracker.assign(record(body={"previous_response_id": "resp_1"}, response_id="resp_2"))
    assert chained["id"] == first["id"] == CODEX_THREAD
    assert (chained["turn"], chained["source"]) == (2, "previous_response_id")
    again = tracker.assign(record(body={"previous_response_id": "resp_2"}))
    assert (again["id"], again["turn"]) == (CODEX_THREAD, 3)


def test_a_chain_without_any_session_id_is_named_after_its_first_response():
    tracker = SessionTracker()
    assert tracker.assign(record(response_id="resp_a")) is None
    second = tracker.assign(record(body={"previous_response_id": "resp_a"}, response_id="resp_b"))
    assert second == {"id": "resp_a", "turn": 2, "source": "previous_response_id", "agent": None}
    branch = tracker.assign(record(body={"previous_response_id": "resp_a"}))
    assert (branch["id"], branch["turn"]) == ("resp_a", 3)
    third = tracker.assign(record(body={"previous_response_id": "resp_b"}))
    assert (third["id"], third["turn"]) == ("resp_a", 4)


def test_a_chain_from_an_unseen_response_starts_there():
    tracker = SessionTracker()
    session = tracker.assign(record(body={"previous_response_id": "resp_unseen"}))
    assert (session["id"], session["turn"]) == ("resp_unseen", 1)


def test_anthropic_diagnostics_previous_message_id_chains_too():
    tracker = SessionTracker()
    tracker.assign(record(response_id="msg_1"))
    body = {"diagnostics": {"previous_message_id": "msg_1"}}
    session = tracker.assign(record(body=body))
    assert session["source"] == "diagnostics.previous_message_id"
    assert session["id"] == "msg_1"


def test_responses_conversation_names_the_session():
    tracker = SessionTracker()
    assert tracker.assign(record(body={"conversation": "conv_9"}))["source"] == "conversation"
    assert tracker.assign(record(body={"conversation": {"id": "conv_9"}}))["turn"] == 2


def test_prompt_cache_key_alone_is_the_last_resort():
    tracker = SessionTracker()
    session = tracker.assign(record(body={"prompt_cache_key": "user-42"}))
    assert session["source"] == "prompt_cache_key"


def test_nothing_to_go_by_gives_no_session():
    tracker = SessionTracker()
    assert tracker.assign(record()) is None
    assert tracker.assign({"provider": "openai-chat", "request": None, "response": None}) is None


def test_sessions_are_kept_separately():
    tracker = SessionTracker()
    a = {"X-Claude-Code-Session-Id": "a"}
    b = {"X-Claude-Code-Session-Id": "b"}
    turns = [tracker.assign(record(h))["turn"] for h in (a, b, a, a, b)]
    assert turns == [1, 1, 2, 3, 2]


def test_memory_is_bounded_and_the_oldest_session_is_forgotten_first():
    tracker = SessionTracker(max_sessions=2, max_responses=2)
    for name in ("a", "b", "a", "c"):  # "b" is the least recently seen when "c" arrives
        tracker.assign(record({"X-Claude-Code-Session-Id": name}, response_id=f"r-{name}"))
    assert len(tracker._turns) == 2
    assert len(tracker._responses) == 2
    assert tracker.assign(record({"X-Claude-Code-Session-Id": "a"}))["turn"] == 3
    assert tracker.assign(record({"X-Claude-Code-Session-Id": "b"}))["turn"] == 1
