"""A known capture for the report's tests: what an agent session really looks like on the wire.

- a Claude Code session (`x-claude-code-session-id`): each turn re-sends the whole context with
  a moving `cache_control` breakpoint, the model answers with a tool call, the tool result comes
  back; at `PLANTED_TURN` the user adds `PLANTED_MESSAGE`; at `MISS_TURN` the system prompt
  gets a new date (a cache miss); at `CUT_TURN` the stream is cut before its end (incomplete);
- a Codex session on the Responses API (`session-id` header), whose `SEARCH_TURN` asks about
  `SEARCH_PHRASE`;
- two Chat Completions calls through a gateway, with no session (grouped by client and host);
- an HTTP 429 from the Messages API, with no session.

Every request carries fake credentials (`PLANTED_KEYS`) in headers, the query and the body.
`live=True` stores each flow's record as a live run does (insights in request order, the time
to first token the tee measured), as a capture made with `mitmdump -w` holds them.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from mitmproxy import http
from mitmproxy.test import tflow

from addon.insights.pipeline import Insights
from addon.proxy.resolver import Resolver, Settings
from addon.record.redact import Redactor
from addon.record.routing import Router
from addon.sinks.metadata import store
from tests.conftest import anthropic_sse, chat_sse, responses_sse

T0 = 1764046800.0
SESSION = "5c0ffee0-0000-4000-8000-00000000c1de"
CODEX_SESSION = "0199a1b2-c3d4-7e5f-8a9b-codexsession"
CLAUDE_TURNS = 10
PLANTED_TURN = 6
PLANTED_MESSAGE = "Before you go on: does the zebra-quartz-17 fixture still load?"
MISS_TURN = 8
CUT_TURN = 9
CODEX_TURNS = 3
SEARCH_TURN = 2
SEARCH_PHRASE = "marmalade lighthouse"
PLANTED_KEYS = (
    "sk-ant-api03-PLANTED-report-key-000000000000",
    "sk-proj-PLANTED-report-key-1111111111111111",
    "PLANTED-query-key-2222222222",
    "PLANTED-body-secret-3333333333",
    "PLANTED-cookie-4444444444",
)
CALLS = CLAUDE_TURNS + CODEX_TURNS + 2 + 1
SESSIONS = 4
INCOMPLETE = 2  # the cut stream and the 429
CACHE_MISSES = 1

TOOLS = [
    {
        "name": "Bash",
        "description": "Executes a bash command in a persistent shell session.",
        "input_schema": {
            "type": "object",
            "properties": {"command": {"type": "string", "description": "The command to run"}},
            "required": ["command"],
        },
    },
    {
        "name": "Read",
        "description": "Reads a file from the local filesystem.",
        "input_schema": {
            "type": "object",
            "properties": {"file_path": {"type": "string"}},
            "required": ["file_path"],
        },
    },
]
STEPS = [
    ("Bash", {"command": "pytest -x -q tests/test_parser.py"}, "F\n1 failed: test_dates"),
    ("Read", {"file_path": "src/parser.py"}, "def parse_date(text):\n    return text[:10]\n" * 30),
    ("Bash", {"command": "git log -3 --oneline src/parser.py"}, "a1b2c3 parse dates\n" * 3),
    ("Read", {"file_path": "tests/test_parser.py"}, "def test_dates():\n    assert ...\n" * 25),
    ("Bash", {"command": "rg -n parse_date src"}, "src/parser.py:1:def parse_date(text):"),
    ("Read", {"file_path": "tests/fixtures/zebra.json"}, '{"zebra": "quartz", "n": 17}'),
    ("Bash", {"command": "pytest -x -q tests/test_parser.py -k dates"}, "F\n1 failed"),
    ("Bash", {"command": "python -c 'import parser'"}, ""),
    ("Bash", {"command": "pytest -q"}, "42 passed"),
]


def _flow(
    host: str,
    path: str,
    body: Any,
    answer: bytes,
    started: float,
    headers: dict[str, str],
    *,
    status: int = 200,
    content_type: str = "text/event-stream",
    duration: float = 3.0,
    first_byte: float = 0.6,
) -> http.HTTPFlow:
    flow = tflow.tflow(resp=True)
    flow.live = False
    flow.request.host = host
    flow.request.port = 443
    flow.request.scheme = "https"
    flow.request.path = path
    flow.request.method = "POST"
    flow.request.headers.clear()
    flow.request.headers["host"] = host
    flow.request.headers["content-type"] = "application/json"
    for name, value in headers.items():
        flow.request.headers[name] = value
    flow.request.content = json.dumps(body).encode()
    flow.request.timestamp_start = started
    flow.request.timestamp_end = started + 0.01
    flow.response = http.Response.make(status, b"", {"content-type": content_type})
    flow.response.headers["set-cookie"] = f"session={PLANTED_KEYS[4]}"
    flow.response.raw_content = answer
    flow.response.timestamp_start = started + first_byte
    flow.response.timestamp_end = started + duration
    return flow


def _anthropic_answer(
    number: int, blocks: list[dict[str, Any]], usage: dict[str, int], *, cut: bool = False
) -> bytes:
    events: list[Any] = [
        {
            "type": "message_start",
            "message": {
                "id": f"msg_01report{number:04d}",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-5-20250929",
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {**usage, "output_tokens": 1},
            },
        }
    ]
    for index, block in enumerate(blocks):
        kind = block["type"]
        if kind == "text":
            events.append(
                {
                    "type": "content_block_start",
                    "index": index,
                    "content_block": {"type": "text", "text": ""},
                }
            )
            text = block["text"]
            for at in range(0, len(text), 24):
                delta = {"type": "text_delta", "text": text[at : at + 24]}
                events.append({"type": "content_block_delta", "index": index, "delta": delta})
        elif kind == "thinking":
            start = {"type": "thinking", "thinking": "", "signature": ""}
            events.append({"type": "content_block_start", "index": index, "content_block": start})
            delta = {"type": "thinking_delta", "thinking": block["thinking"]}
            events.append({"type": "content_block_delta", "index": index, "delta": delta})
            delta = {"type": "signature_delta", "signature": "c2lnbmF0dXJl"}
            events.append({"type": "content_block_delta", "index": index, "delta": delta})
        else:
            start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            events.append({"type": "content_block_start", "index": index, "content_block": start})
            partial = json.dumps(block["input"])
            for at in range(0, len(partial), 16):
                delta = {"type": "input_json_delta", "partial_json": partial[at : at + 16]}
                events.append({"type": "content_block_delta", "index": index, "delta": delta})
        if cut:
            return anthropic_sse(*events)
        events.append({"type": "content_block_stop", "index": index})
    stop = "tool_use" if blocks[-1]["type"] == "tool_use" else "end_turn"
    output = 30 + sum(len(json.dumps(b)) for b in blocks) // 4
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop, "stop_sequence": None},
            "usage": {"output_tokens": output},
        }
    )
    events.append({"type": "message_stop"})
    return anthropic_sse(*events)


def _tokens(value: Any) -> int:
    return len(json.dumps(value)) // 4


def claude_code_session() -> list[http.HTTPFlow]:
    headers = {
        "x-api-key": PLANTED_KEYS[0],
        "anthropic-version": "2023-06-01",
        "user-agent": "claude-cli/2.1.3 (external, cli)",
        "x-claude-code-session-id": SESSION,
        "cookie": f"token={PLANTED_KEYS[4]}",
    }
    messages: list[dict[str, Any]] = [
        {
            "role": "user",
            "content": [{"type": "text", "text": "The date tests fail. Find out why."}],
        }
    ]
    flows = []
    cached = 0
    for turn in range(1, CLAUDE_TURNS + 1):
        day = 26 if turn >= MISS_TURN else 25
        system = [
            {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude."},
            {
                "type": "text",
                "text": f"Working directory: /src/app\nToday's date: 2025-11-{day}",
                "cache_control": {"type": "ephemeral"},
            },
        ]
        if turn == PLANTED_TURN:
            messages.append(
                {"role": "user", "content": [{"type": "text", "text": PLANTED_MESSAGE}]}
            )
        sent = copy.deepcopy(messages)
        sent[-1]["content"][-1]["cache_control"] = {"type": "ephemeral"}
        body = {
            "model": "claude-sonnet-4-5-20250929",
            "max_tokens": 32000,
            "system": system,
            "tools": TOOLS,
            "messages": sent,
            "metadata": {
                "user_id": f"user_abc_account_def_session_{SESSION}",
                "api_key": PLANTED_KEYS[3],
            },
            "stream": True,
        }
        prompt = _tokens(body) + 3000  # the real Claude Code prompt is longer than this one
        read = 0 if turn == MISS_TURN else cached
        usage = {
            "input_tokens": 4,
            "cache_creation_input_tokens": prompt - read - 4,
            "cache_read_input_tokens": read,
        }
        cached = prompt - 4
        if turn < CLAUDE_TURNS:
            name, tool_input, result = STEPS[turn - 1]
            tool_id = f"toolu_01report{turn:04d}"
            blocks: list[dict[str, Any]] = [
                {"type": "text", "text": f"Step {turn}: I'll use {name} to look closer."},
                {"type": "tool_use", "id": tool_id, "name": name, "input": tool_input},
            ]
            if turn == 1:
                blocks.insert(
                    0,
                    {
                        "type": "thinking",
                        "thinking": "The failure is about dates; run the test first.",
                    },
                )
        else:
            blocks = [
                {
                    "type": "thinking",
                    "thinking": "parse_date cuts at 10 characters; timestamps with zones break.",
                },
                {
                    "type": "text",
                    "text": (
                        "Found it: `parse_date` keeps only the first 10 characters, so dates "
                        "with a time zone lose it. The zebra-quartz-17 fixture loads fine."
                    ),
                },
            ]
        answer = _anthropic_answer(turn, blocks, usage, cut=turn == CUT_TURN)
        started = T0 + 8 * (turn - 1) + (3 if turn > CUT_TURN else 0)
        flows.append(
            _flow(
                "api.anthropic.com",
                "/v1/messages",
                body,
                answer,
                started,
                headers,
                duration=2.0 + turn * 0.35,
                first_byte=0.5 + turn * 0.05,
            )
        )
        if turn < CLAUDE_TURNS and turn != CUT_TURN:
            messages.append(
                {"role": "assistant", "content": [b for b in blocks if b["type"] != "thinking"]}
            )
            messages.append(
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": tool_id, "content": result}],
                }
            )
    return flows


def _responses_answer(number: int, text: str, usage: dict[str, Any]) -> bytes:
    rid = f"resp_report{number:04d}"
    item_id = f"msg_report{number:04d}"
    base = {"id": rid, "object": "response", "created_at": int(T0), "model": "gpt-5-codex"}
    part = {"type": "output_text", "text": "", "annotations": []}
    item = {"id": item_id, "type": "message", "status": "completed", "role": "assistant"}
    done_part = {**part, "text": text}
    return responses_sse(
        {"type": "response.created", "response": {**base, "status": "in_progress", "output": []}},
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {**item, "status": "in_progress", "content": []},
        },
        {
            "type": "response.content_part.added",
            "item_id": item_id,
            "output_index": 0,
            "content_index": 0,
            "part": part,
        },
        *(
            {
                "type": "response.output_text.delta",
                "item_id": item_id,
                "output_index": 0,
                "content_index": 0,
                "delta": text[at : at + 20],
            }
            for at in range(0, len(text), 20)
        ),
        {
            "type": "response.output_text.done",
            "item_id": item_id,
            "output_index": 0,
            "content_index": 0,
            "text": text,
        },
        {
            "type": "response.content_part.done",
            "item_id": item_id,
            "output_index": 0,
            "content_index": 0,
            "part": done_part,
        },
        {
            "type": "response.output_item.done",
            "output_index": 0,
            "item": {**item, "content": [done_part]},
        },
        {
            "type": "response.completed",
            "response": {
                **base,
                "status": "completed",
                "output": [{**item, "content": [done_part]}],
                "usage": usage,
            },
        },
    )


def codex_session() -> list[http.HTTPFlow]:
    headers = {
        "authorization": f"Bearer {PLANTED_KEYS[1]}",
        "user-agent": "codex_cli_rs/0.171.0 (Debian 13; x86_64)",
        "session-id": CODEX_SESSION,
        "thread-id": CODEX_SESSION,
    }
    asks = [
        "Write a haiku about proxies.",
        f"Now one about a {SEARCH_PHRASE}.",
        "And a last one about caches.",
    ]
    answers = [
        "Between two voices\na quiet listener keeps\nevery word it hears",
        "Orange light on waves\nsweet beam over bitter sea\nships come home for toast",
        "What was asked before\nis answered before you ask\nmemory, not thought",
    ]
    items: list[dict[str, Any]] = []
    flows = []
    for turn in range(1, CODEX_TURNS + 1):
        items.append(
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": asks[turn - 1]}],
            }
        )
        body = {
            "model": "gpt-5-codex",
            "instructions": "You are Codex, a coding agent in the user's terminal.",
            "input": copy.deepcopy(items),
            "tools": [
                {
                    "type": "function",
                    "name": "shell",
                    "description": "Runs a shell command",
                    "parameters": {
                        "type": "object",
                        "properties": {"command": {"type": "array", "items": {"type": "string"}}},
                    },
                }
            ],
            "prompt_cache_key": CODEX_SESSION,
            "stream": True,
        }
        prompt = 1400 + 60 * turn
        usage = {
            "input_tokens": prompt,
            "input_tokens_details": {"cached_tokens": 0 if turn == 1 else 1280},
            "output_tokens": 40 + 30 * turn,
            "output_tokens_details": {"reasoning_tokens": 24 * turn},
            "total_tokens": prompt + 40 + 30 * turn,
        }
        answer = _responses_answer(turn, answers[turn - 1], usage)
        started = T0 + 100 + 12 * (turn - 1)
        flows.append(
            _flow(
                "chatgpt.com",
                "/backend-api/codex/responses",
                body,
                answer,
                started,
                headers,
                duration=3.5,
                first_byte=0.9,
            )
        )
        items.append(
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": answers[turn - 1]}],
            }
        )
    return flows


def gateway_calls() -> list[http.HTTPFlow]:
    headers = {"authorization": f"Bearer {PLANTED_KEYS[1]}", "user-agent": "OpenAI/Python 1.99.0"}
    flows = []
    for number, question in enumerate(("What is a reverse proxy?", "And a forward proxy?")):
        body = {
            "model": "openai/gpt-4o-mini",
            "messages": [
                {"role": "system", "content": "Answer in one sentence."},
                {"role": "user", "content": question},
            ],
            "stream": True,
            "stream_options": {"include_usage": True},
            "api_key": PLANTED_KEYS[3],
        }
        text = [
            "A server that fetches for clients it fronts.",
            "A go-between that clients send out through.",
        ][number]
        chunk = {
            "id": f"gen-{number}",
            "object": "chat.completion.chunk",
            "created": int(T0),
            "model": "openai/gpt-4o-mini",
        }
        answer = chat_sse(
            {
                **chunk,
                "choices": [
                    {
                        "index": 0,
                        "delta": {"role": "assistant", "content": ""},
                        "finish_reason": None,
                    }
                ],
            },
            {**chunk, "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]},
            {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
            {
                **chunk,
                "choices": [],
                "usage": {"prompt_tokens": 24, "completion_tokens": 14, "total_tokens": 38},
            },
        )
        flows.append(
            _flow(
                "openrouter.ai",
                f"/api/v1/chat/completions?key={PLANTED_KEYS[2]}",
                body,
                answer,
                T0 + 200 + 5 * number,
                headers,
                duration=1.2,
                first_byte=0.3,
            )
        )
    return flows


def rate_limited() -> http.HTTPFlow:
    body = {
        "model": "claude-opus-4-1",
        "max_tokens": 1024,
        "messages": [{"role": "user", "content": "Hello"}],
    }
    error = {
        "type": "error",
        "error": {
            "type": "rate_limit_error",
            "message": "Number of request tokens has exceeded your per-minute rate limit",
        },
    }
    headers = {
        "x-api-key": PLANTED_KEYS[0],
        "anthropic-version": "2023-06-01",
        "user-agent": "anthropic-python/0.70.0",
    }
    return _flow(
        "api.anthropic.com",
        "/v1/messages",
        body,
        json.dumps(error).encode(),
        T0 + 230,
        headers,
        status=429,
        content_type="application/json",
        duration=0.2,
        first_byte=0.2,
    )


def known_capture(*, live: bool = False) -> list[http.HTTPFlow]:
    """Every flow, in request order (a live run's `-w` would write them as they end)."""
    flows = [*claude_code_session(), *codex_session(), *gateway_calls(), rate_limited()]
    flows.sort(key=lambda f: f.request.timestamp_start)
    if live:
        resolver = Resolver(Settings(Router(), Redactor()))
        insights = Insights()
        for flow in flows:
            resolved = resolver.resolve(flow)
            assert resolved is not None
            record = resolved[0]
            if record.streamed:
                record.timing["time_to_first_token"] = round(
                    record.timing["time_to_first_byte"] + 0.25, 4
                )
            insights.add(record)
            store(flow.metadata, record)
    return flows
