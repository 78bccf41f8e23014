"""Which agent session a call belongs to, and its turn in that session.

`SessionTracker.assign(record)` is fed records in request order and sets
`record["session"] = {"id", "turn", "source", "agent"}` (or None): `turn` counts the calls of
the session seen so far (1, 2, …; retries and failed calls count), `source` says where the id
came from, `agent` names a sub-agent or thread within the session (None for the main one).

Where the id comes from, first match wins (header names are matched case-insensitively):

1. Claude Code. Current versions (checked: 2.1.332 and 2.1.197, the native binary; the
   latter in `flows/claude-code.flow`) send the header
   `X-Claude-Code-Session-Id: <uuid>` on every Messages request, with
   `x-claude-code-agent-id` / `x-claude-code-parent-agent-id` on sub-agent calls, and put the
   same id in the body: `metadata.user_id` is a JSON string
   `{"device_id": …, "account_uuid": …, "session_id": "<uuid>"}`. Older versions (2.0.76,
   2.1.0: `cli.js`) send no header; their `metadata.user_id` is
   `user_<hash>_account_<uuid>_session_<uuid>`. Source: `x-claude-code-session-id header`
   or `metadata.user_id`.
2. Codex. Current Codex (codex-rs `build_session_headers`; 0.171.0) sends `session-id` and
   `thread-id` headers (and `x-client-request-id` = the thread, `x-codex-window-id` =
   `<thread>:<n>`, `x-codex-turn-metadata`, `x-codex-parent-thread-id` and
   `x-openai-subagent` for spawned threads), and `prompt_cache_key` = the thread id in the
   body; over a WebSocket (`flows/codex.flow`) the headers are the upgrade's and each
   `response.create` also carries `client_metadata.session_id` / `thread_id`, the same id.
   Earlier releases sent `session_id` (and before that also `conversation_id`), both the
   conversation's UUID. Source: the header's name; `agent` is the thread when it differs
   from the session.
3. Responses `conversation` (the Conversations API object or id). Source: `conversation`.
4. A chain: a Responses `previous_response_id`, or an Anthropic
   `diagnostics.previous_message_id`, that names the response of an earlier record joins that
   record's session. A chain whose start had no session gets one named after the first
   response id (that first record itself keeps `session: None`, it was already out), with
   that record counted as turn 1. Source: the field's name.
5. `prompt_cache_key` alone (OpenAI; other apps may share one key across many conversations,
   hence last). Source: `prompt_cache_key`.

Otherwise `session: None`.

Memory is bounded: at most `max_sessions` sessions (an LRU: a session not seen for that many
other sessions is forgotten and starts again at turn 1) and `max_responses` response ids for
chains.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from typing import Any

import orjson

JSON = dict[str, Any]

MAX_SESSIONS = 4096
MAX_RESPONSES = 16384

_LEGACY_USER_ID = re.compile(r"_session_([0-9A-Za-z-]+)$")
_CODEX_SESSION_HEADERS = ("session-id", "session_id", "conversation_id")


def header(headers: Any, name: str) -> str | None:
    """A request header's value by case-insensitive name; the first of repeated values."""
    if not isinstance(headers, dict):
        return None
    name = name.lower()
    for key, value in headers.items():
        if isinstance(key, str) and key.lower() == name and isinstance(value, str):
            first = value.split(",", 1)[0].strip()
            return first or None
    return None


def claude_code_session(metadata_user_id: str) -> str | None:
    """The session id inside Claude Code's `metadata.user_id`, in either of its formats."""
    text = metadata_user_id.strip()
    if text.startswith("{"):
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            return None
        session = value.get("session_id") if isinstance(value, dict) else None
        return session if isinstance(session, str) and session else None
    match = _LEGACY_USER_ID.search(text)
    return match.group(1) if match else None


def identity(record: JSON) -> tuple[str, str, str | None] | None:
    """(session id, source, agent) from what the request itself carries, or None."""
    request = record.get("request")
    if not isinstance(request, dict):
        return None
    headers = request.get("headers")
    body = request.get("body")
    body = body if isinstance(body, dict) else {}

    session = header(headers, "x-claude-code-session-id")
    if session:
        agent = header(headers, "x-claude-code-agent-id")
        return session, "x-claude-code-session-id header", agent
    metadata = body.get("metadata")
    user_id = metadata.get("user_id") if isinstance(metadata, dict) else None
    if isinstance(user_id, str) and (session := claude_code_session(user_id)):
        return session, "metadata.user_id", None
    for name in _CODEX_SESSION_HEADERS:
        session = header(headers, name)
        if session:
            thread = header(headers, "thread-id")
            return session, f"{name} header", thread if thread != session else None
    conversation = body.get("conversation")
    if isinstance(conversation, dict):
        conversation = conversation.get("id")
    if isinstance(conversation, str) and conversation:
        return conversation, "conversation", None
    return None


def _chain_link(record: JSON) -> tuple[str, str] | None:
    """(earlier response id, field name) when the request continues an earlier response."""
    request = record.get("request")
    body = request.get("body") if isinstance(request, dict) else None
    if not isinstance(body, dict):
        return None
    previous = body.get("previous_response_id")
    if isinstance(previous, str) and previous:
        return previous, "previous_response_id"
    diagnostics = body.get("diagnostics")
    previous = diagnostics.get("previous_message_id") if isinstance(diagnostics, dict) else None
    if isinstance(previous, str) and previous:
        return previous, "diagnostics.previous_message_id"
    return None


def _response_id(record: JSON) -> str | None:
    response = record.get("response")
    rid = response.get("id") if isinstance(response, dict) else None
    return rid if isinstance(rid, str) and rid else None


class SessionTracker:
    """Assigns each record its session and turn; fed records in request order."""

    def __init__(self, max_sessions: int = MAX_SESSIONS, max_responses: int = MAX_RESPONSES):
        self.max_sessions = max_sessions
        self.max_responses = max_responses
        self._turns: OrderedDict[str, int] = OrderedDict()
        """Session id -> calls seen so far (LRU order)."""
        self._responses: OrderedDict[str, str | None] = OrderedDict()
        """Response id -> the session of its record (None: none yet)."""

    @property
    def entries(self) -> int:
        return len(self._turns) + len(self._responses)

    def assign(self, record: JSON) -> JSON | None:
        """Set and return `record["session"]`."""
        session = self._session(record)
        record["session"] = session
        rid = _response_id(record)
        if rid is not None:
            self._remember_response(rid, session["id"] if session else None)
        return session

    def _session(self, record: JSON) -> JSON | None:
        found = identity(record)
        if found is not None:
            session_id, source, agent = found
            return self._next_turn(session_id, source, agent)
        link = _chain_link(record)
        if link is not None:
            previous, source = link
            if previous in self._responses:
                earlier = self._responses[previous]
                self._responses.move_to_end(previous)
                if earlier is None:  # the chain's first call: it counts as turn 1
                    earlier = self._responses[previous] = previous
                    self._turns.setdefault(earlier, 1)
                return self._next_turn(earlier, source, None)
            return self._next_turn(previous, source, None)
        key = _prompt_cache_key(record)
        if key is not None:
            return self._next_turn(key, "prompt_cache_key", None)
        return None

    def _next_turn(self, session_id: str, source: str, agent: str | None) -> JSON:
        turn = self._turns.pop(session_id, 0) + 1
        self._turns[session_id] = turn
        while len(self._turns) > self.max_sessions:
            self._turns.popitem(last=False)
        return {"id": session_id, "turn": turn, "source": source, "agent": agent}

    def _remember_response(self, rid: str, session_id: str | None) -> None:
        self._responses[rid] = session_id
        self._responses.move_to_end(rid)
        while len(self._responses) > self.max_responses:
            self._responses.popitem(last=False)


def _prompt_cache_key(record: JSON) -> str | None:
    request = record.get("request")
    body = request.get("body") if isinstance(request, dict) else None
    key = body.get("prompt_cache_key") if isinstance(body, dict) else None
    return key if isinstance(key, str) and key else None
