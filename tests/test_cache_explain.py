"""Cache explanations: every cause of a miss named at the first place the prefix differs, on
constructed pairs of calls; hits say what they read; sessions and models kept apart."""

from __future__ import annotations

import copy

import pytest

from addon.insights.cache import CacheExplainer, anthropic_minimum
from addon.insights.sessions import SessionTracker

T0 = 1_790_000_000.0
EPHEMERAL = {"type": "ephemeral"}
ONE_HOUR = {"type": "ephemeral", "ttl": "1h"}

TOOLS = [
    {
        "name": "Bash",
        "description": "Run a shell command.",
        "input_schema": {"type": "object", "properties": {"command": {"type": "string"}}},
    },
    {
        "name": "Read",
        "description": "Read a file.",
        "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}},
    },
    {
        "name": "Edit",
        "description": "Edit a file.",
        "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}},
    },
]
SYSTEM = [
    {"type": "text", "text": "You are Claude Code, Anthropic's CLI for Claude."},
    {"type": "text", "text": "Today's date is 2026-11-02 09:14.", "cache_control": EPHEMERAL},
]


def conversation(turns: int) -> list[dict]:
    """user, assistant, user, …, ending with a user message."""
    messages: list[dict] = []
    for i in range(1, turns + 1):
        messages.append({"role": "user", "content": f"question {i}"})
        if i < turns:
            messages.append({"role": "assistant", "content": [{"type": "text", "text": f"a{i}"}]})
    return messages


def with_breakpoint(messages: list[dict], control: dict = EPHEMERAL) -> list[dict]:
    """A copy whose last content block carries `cache_control`, as Claude Code sends it."""
    out = copy.deepcopy(messages)
    last = out[-1]
    if isinstance(last["content"], str):
        last["content"] = [{"type": "text", "text": last["content"]}]
    last["content"][-1]["cache_control"] = control
    return out


def anthropic_call(
    messages: list[dict],
    *,
    read: int = 0,
    write: int = 0,
    total: int = 6000,
    at: float = 0.0,
    session: str | None = "s1",
    model: str = "claude-sonnet-4-5",
    tools: list[dict] | None = None,
    system: list[dict] | str | None = None,
    control: dict | None = EPHEMERAL,
    body: dict | None = None,
    diagnostics: dict | None = None,
) -> dict:
    request_body = {
        "model": model,
        "max_tokens": 1024,
        "tools": TOOLS if tools is None else tools,
        "system": SYSTEM if system is None else system,
        "messages": with_breakpoint(messages, control) if control else messages,
        **(body or {}),
    }
    response = {"id": f"msg_{at}", "type": "message", "model": model, "content": []}
    if diagnostics is not None:
        response["diagnostics"] = diagnostics
    headers = {"X-Claude-Code-Session-Id": session} if session else {}
    return {
        "provider": "anthropic-messages",
        "status_code": 200,
        "request": {
            "method": "POST",
            "url": "https://api.anthropic.com/v1/messages",
            "headers": headers,
            "body": request_body,
        },
        "response": response,
        "usage": {
            "input_tokens": total,
            "output_tokens": 10,
            "cache_read_tokens": read,
            "cache_write_tokens": write,
            "reasoning_tokens": None,
        },
        "timing": {"started": T0 + at, "time_to_first_byte": 0.8},
    }


def openai_call(
    provider: str,
    body: dict,
    *,
    read: int = 0,
    total: int = 3000,
    at: float = 0.0,
    session: str = "thread-1",
    response_id: str | None = None,
) -> dict:
    return {
        "provider": provider,
        "status_code": 200,
        "request": {
            "method": "POST",
            "url": "https://api.openai.com/v1/responses",
            "headers": {"session-id": session},
            "body": {"model": "gpt-5", **body},
        },
        "response": {"id": response_id or f"resp_{at}", "model": "gpt-5-2025-08-07"},
        "usage": {
            "input_tokens": total,
            "output_tokens": 10,
            "cache_read_tokens": read,
            "cache_write_tokens": None,
            "reasoning_tokens": 0,
        },
        "timing": {"started": T0 + at, "time_to_first_byte": 0.5},
    }


def explain(*records: dict) -> list[str | None]:
    """Each record's explanation, records fed in order as the pipeline does."""
    sessions, explainer = SessionTracker(), CacheExplainer()
    out = []
    for record in records:
        sessions.assign(record)
        cache = explainer.explain(record)
        out.append(cache["explanation"] if cache else None)
    return out


def second(first: dict, then: dict) -> str | None:
    return explain(first, then)[1]


FIRST = anthropic_call(conversation(1), write=5000)
"""Turn 1: 5,000 tokens written at the breakpoint on the last message."""


# -- hits and first calls ---------------------------------------------------------------


def test_first_call_of_a_session_says_what_it_wrote():
    assert explain(FIRST) == ["first call of session: wrote 5,000 tokens"]


def test_a_hit_says_how_many_tokens_were_read():
    later = anthropic_call(conversation(2), read=5000, write=300, at=30)
    assert second(FIRST, later) == "hit: read 5,000 tokens; wrote 300"


def test_a_moved_cache_control_marker_is_not_a_change():
    # Turn 2 carries the breakpoint on its new last message, not on messages[0] any more.
    later = anthropic_call(conversation(2), read=0, write=5300, at=30)
    assert second(FIRST, later) == "cache miss: unchanged prefix within the TTL (evicted early?)"


def test_a_different_session_is_not_compared_with_another():
    other = anthropic_call(conversation(1), write=5000, at=10, session="s2")
    assert explain(FIRST, other) == [
        "first call of session: wrote 5,000 tokens",
        "first call of session: wrote 5,000 tokens",
    ]


def test_a_first_call_that_reads_says_so():
    read = anthropic_call(conversation(1), read=5000, session="s3")
    assert explain(read) == ["hit: read 5,000 tokens (first call of session)"]


# -- what invalidates the tools, system and messages levels -------------------------------


def test_tools_changed_names_the_tool():
    tools = copy.deepcopy(TOOLS)
    tools[1]["description"] = "Read a file from disk."
    later = anthropic_call(conversation(2), write=5300, at=30, tools=tools)
    assert second(FIRST, later) == "cache miss: tools[1] (Read) changed since turn 1"


def test_tools_reordered():
    tools = [TOOLS[1], TOOLS[0], TOOLS[2]]
    later = anthropic_call(conversation(2), write=5300, at=30, tools=tools)
    assert second(FIRST, later) == "cache miss: tools reordered since turn 1"


def test_a_tool_added_or_removed():
    grep = {"name": "Grep", "description": "Search.", "input_schema": {"type": "object"}}
    added = anthropic_call(conversation(2), write=5400, at=30, tools=[TOOLS[0], grep, *TOOLS[1:]])
    assert second(FIRST, added) == "cache miss: tool Grep added at tools[1] since turn 1"
    removed = anthropic_call(conversation(2), write=5100, at=30, tools=TOOLS[:2])
    assert second(FIRST, removed) == "cache miss: tool Edit removed (was tools[2]) since turn 1"


def test_system_changed_with_its_index_and_a_timestamp_hint():
    system = copy.deepcopy(SYSTEM)
    system[1]["text"] = "Today's date is 2026-11-02 09:21."
    later = anthropic_call(conversation(2), write=5300, at=30, system=system)
    assert second(FIRST, later) == (
        "cache miss: system[1] changed since turn 1 (only digits changed: a timestamp?)"
    )


def test_a_partial_hit_reads_up_to_the_change():
    tools = copy.deepcopy(TOOLS)
    tools[-1]["cache_control"] = EPHEMERAL  # a breakpoint after the tools: they still hit
    first = anthropic_call(conversation(1), read=0, write=5000, tools=tools)
    system = copy.deepcopy(SYSTEM)
    system[0]["text"] = "You are a helpful assistant."
    later = anthropic_call(
        conversation(2), read=1200, write=4100, at=30, tools=tools, system=system
    )
    assert second(first, later) == (
        "partial hit: read 1,200 of 5,000 tokens: system[0] changed since turn 1"
    )


def test_message_changed_with_its_index():
    messages = conversation(3)
    first = anthropic_call(messages, write=6000)
    edited = [
        *copy.deepcopy(messages),
        {"role": "assistant", "content": [{"type": "text", "text": "a3"}]},
        {"role": "user", "content": "question 4"},
    ]
    edited[2]["content"] = "question 2, rephrased"
    later = anthropic_call(edited, read=0, write=6500, at=30)
    assert second(first, later) == "cache miss: messages[2] (user) changed since turn 1"


def test_a_changed_content_block_is_named_within_its_message():
    messages = conversation(2)
    messages[2]["content"] = [
        {"type": "text", "text": "question 2"},
        {"type": "text", "text": "<system-reminder>3 files changed</system-reminder>"},
    ]
    first = anthropic_call(messages, write=5000)
    edited = [
        *copy.deepcopy(messages),
        {"role": "assistant", "content": [{"type": "text", "text": "a2"}]},
        {"role": "user", "content": "question 3"},
    ]
    edited[2]["content"][1]["text"] = "<system-reminder>4 files changed</system-reminder>"
    later = anthropic_call(edited, read=0, write=5500, at=30)
    assert second(first, later) == (
        "cache miss: messages[2] (user).content[1] changed since turn 1"
        " (only digits changed: a timestamp?)"
    )


def test_history_shortened():
    first = anthropic_call(conversation(3), write=6000)
    later = anthropic_call(conversation(2), write=5000, at=30)
    assert second(first, later) == (
        "cache miss: messages[3] (assistant) removed since turn 1 (history shortened)"
    )


def test_key_order_is_part_of_the_prompt():
    tools = copy.deepcopy(TOOLS)
    tools[2] = {"description": tools[2]["description"], **tools[2]}  # same keys, new order
    later = anthropic_call(conversation(2), write=5300, at=30, tools=tools)
    assert second(FIRST, later) == (
        "cache miss: tools[2] (Edit) changed since turn 1 (same content, keys reordered)"
    )


def test_thinking_or_tool_choice_invalidate_the_messages_only():
    thinking = {"thinking": {"type": "enabled", "budget_tokens": 2000}}
    first = anthropic_call(conversation(1), write=5000, body=thinking)
    more = {"thinking": {"type": "enabled", "budget_tokens": 8000}}
    later = anthropic_call(conversation(2), read=3000, write=2300, at=30, body=more)
    assert second(first, later) == (
        "partial hit: read 3,000 of 5,000 tokens: "
        "thinking changed since turn 1 (invalidates the cached messages)"
    )
    any_tool = {"tool_choice": {"type": "any"}}
    choice = anthropic_call(conversation(2), write=5300, at=30, body=any_tool)
    assert second(FIRST, choice).startswith("cache miss: tool_choice changed since turn 1")


def test_speed_has_its_own_cache():
    later = anthropic_call(conversation(2), write=5300, at=30, body={"speed": "fast"})
    assert second(FIRST, later) == "cache miss: speed changed since turn 1"


# -- model, TTL, minimum, breakpoints --------------------------------------------------------


def test_model_changed():
    later = anthropic_call(conversation(2), write=5300, at=30, model="claude-opus-4-5")
    assert second(FIRST, later) == (
        "cache miss: model changed since turn 1 (claude-sonnet-4-5 -> claude-opus-4-5); "
        "each model has its own cache"
    )


def test_back_on_a_model_compares_with_that_models_previous_call():
    opus = anthropic_call(conversation(2), write=5300, at=30, model="claude-opus-4-5")
    back = anthropic_call(conversation(2), read=5000, write=300, at=60)
    assert explain(FIRST, opus, back)[2] == "hit: read 5,000 tokens; wrote 300"


def test_ttl_of_five_minutes_expired():
    later = anthropic_call(conversation(2), write=5300, at=360)
    assert second(FIRST, later) == "cache miss: previous call 6m00s ago, past the 5-minute TTL"


def test_ttl_of_one_hour_holds_then_expires():
    first = anthropic_call(conversation(1), write=5000, control=ONE_HOUR)
    within = anthropic_call(conversation(2), read=5000, write=300, at=1800, control=ONE_HOUR)
    assert second(first, within) == "hit: read 5,000 tokens; wrote 300"
    expired = anthropic_call(conversation(2), write=5300, at=3660, control=ONE_HOUR)
    assert second(first, expired) == "cache miss: previous call 1h01m ago, past the 1-hour TTL"


def test_five_minute_entries_expire_before_one_hour_ones():
    system = copy.deepcopy(SYSTEM)
    system[1]["cache_control"] = ONE_HOUR
    first = anthropic_call(conversation(1), write=5000, system=system)
    later = anthropic_call(conversation(2), read=2000, write=3300, at=600, system=system)
    assert second(first, later) == (
        "partial hit: read 2,000 of 5,000 tokens: "
        "previous call 10m00s ago: its 5-minute entries expired (1-hour ones last)"
    )


def test_an_expired_and_changed_prefix_names_both():
    system = copy.deepcopy(SYSTEM)
    system[0]["text"] = "You are someone else."
    later = anthropic_call(conversation(2), write=5300, at=400, system=system)
    assert second(FIRST, later) == (
        "cache miss: previous call 6m40s ago, past the 5-minute TTL; "
        "also system[0] changed since turn 1"
    )


def test_a_call_sent_before_the_previous_one_answered_finds_no_entry():
    parallel = anthropic_call(conversation(1), write=5000, at=0.3)
    assert second(FIRST, parallel) == (
        "cache miss: sent before the previous call started answering (its entry did not exist yet)"
    )


def test_under_the_minimum_cacheable_length():
    small = anthropic_call(conversation(1), total=800)
    assert explain(small) == [
        "first call of session: nothing cached: prompt of 800 tokens is under the "
        "1,024-token minimum for claude-sonnet-4-5"
    ]
    haiku = anthropic_call(conversation(1), total=3000, model="claude-haiku-4-5-20251001")
    assert "under the 4,096-token minimum for claude-haiku-4-5-20251001" in explain(haiku)[0]


def test_a_breakpoint_prefix_under_the_minimum_is_suspected():
    first = anthropic_call(conversation(1), total=5000)  # breakpoints, yet nothing cached
    assert explain(first) == [
        "first call of session: nothing cached: "
        "the prefix up to the last breakpoint is under 1,024 tokens?"
    ]


def test_no_cache_control_at_all():
    plain = anthropic_call(conversation(1), system="You are terse.", control=None)
    assert explain(plain) == [
        "first call of session: nothing cached: "
        "no cache_control breakpoint (Anthropic caches only marked prefixes)"
    ]


def test_top_level_cache_control_is_automatic_caching():
    auto = anthropic_call(
        conversation(1), system="You are terse.", control=None, body={"cache_control": EPHEMERAL}
    )
    auto["usage"]["cache_write_tokens"] = 4000
    assert explain(auto) == ["first call of session: wrote 4,000 tokens"]


def test_the_apis_own_diagnosis_is_quoted():
    system = copy.deepcopy(SYSTEM)
    system[0]["text"] = "You are someone else."
    reason = {"cache_miss_reason": {"type": "system_changed", "cache_missed_input_tokens": 4990}}
    later = anthropic_call(conversation(2), write=5300, at=30, system=system, diagnostics=reason)
    assert second(FIRST, later) == (
        "cache miss: system[0] changed since turn 1 (API: system_changed, ~4,990 tokens missed)"
    )
    unexplained = anthropic_call(conversation(2), write=5300, at=30, diagnostics=reason)
    assert second(FIRST, unexplained) == (
        "cache miss: the API reports system_changed, ~4,990 tokens missed"
    )


def test_sub_agents_are_compared_with_their_own_previous_call():
    main = anthropic_call(conversation(3), write=7000)
    sub = anthropic_call(conversation(1), write=2000, at=10, tools=TOOLS[:1])
    sub["request"]["headers"]["x-claude-code-agent-id"] = "agent-1"
    main_again = anthropic_call(conversation(4), read=7000, write=200, at=20)
    assert explain(main, sub, main_again)[1:] == [
        "first call of agent agent-1: wrote 2,000 tokens",
        "hit: read 7,000 tokens; wrote 200",
    ]


# -- OpenAI --------------------------------------------------------------------------------


CHAT_TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]


def chat(messages: list[dict], **kwargs) -> dict:
    return openai_call("openai-chat", {"messages": messages, "tools": CHAT_TOOLS}, **kwargs)


def test_openai_chat_hit_and_a_changed_system_message():
    base = [{"role": "system", "content": "You are terse."}, {"role": "user", "content": "hi"}]
    more = [*base, {"role": "assistant", "content": "hello"}, {"role": "user", "content": "?"}]
    changed = copy.deepcopy(more)
    changed[0]["content"] = "You are verbose."
    results = explain(
        chat(base, total=3000),
        chat(more, read=2944, total=3100, at=20),
        chat(changed, read=0, total=3100, at=40),
    )
    assert results == [
        "first call of session: nothing to reuse yet",
        "hit: read 2,944 tokens",
        "cache miss: messages[0] (system) changed since turn 2",
    ]


def test_openai_under_the_minimum():
    assert explain(chat([{"role": "user", "content": "hi"}], total=900)) == [
        "first call of session: nothing cached: prompt of 900 tokens is under the "
        "1,024-token minimum for gpt-5"
    ]


def responses(body: dict, **kwargs) -> dict:
    return openai_call("openai-responses", {"instructions": "You are Codex.", **body}, **kwargs)


def test_responses_instructions_changed():
    first = responses({"input": "hi"}, total=3000)
    later = responses({"instructions": "You are Codex, v2.", "input": "hi"}, total=3000, at=20)
    assert second(first, later) == "cache miss: instructions changed since turn 1"


def test_responses_input_changed_with_its_index():
    items = [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "a"}]}]
    first = responses({"input": items}, total=3000)
    changed = copy.deepcopy(items)
    changed[0]["content"][0]["text"] = "b"
    later = responses({"input": changed}, total=3000, at=20)
    assert second(first, later) == "cache miss: input[0] (user) changed since turn 1"


def test_responses_previous_response_id_continuing_the_last_call_is_not_a_change():
    first = responses({"input": "hi"}, total=3000, response_id="resp_1")
    later = responses(
        {"input": "more", "previous_response_id": "resp_1"}, read=1024, total=3200, at=20
    )
    assert second(first, later) == (
        "partial hit: read 1,024 of 2,816 tokens: unchanged prefix within the TTL (evicted early?)"
    )
    branch = responses({"input": "more", "previous_response_id": "resp_0"}, total=3200, at=20)
    assert second(first, branch) == (
        "cache miss: previous_response_id does not continue the call of turn 1"
    )


def test_responses_prompt_cache_key_changed():
    first = responses({"input": "hi", "prompt_cache_key": "a"}, total=3000)
    later = responses({"input": "hi", "prompt_cache_key": "b"}, total=3000, at=20)
    assert second(first, later) == "cache miss: prompt_cache_key changed since turn 1"


def test_openai_in_memory_cache_and_extended_retention():
    first = responses({"input": "hi"}, total=3000)
    idle = responses({"input": "hi"}, total=3000, at=600)
    assert second(first, idle) == (
        "cache miss: previous call 10m00s ago"
        " (in-memory caches are cleared after 5-10 idle minutes)"
    )
    gone = responses({"input": "hi"}, total=3000, at=4000)
    assert second(first, gone) == (
        "cache miss: previous call 1h06m ago, past the in-memory 1-hour limit"
    )
    kept = responses({"input": "hi", "prompt_cache_retention": "24h"}, total=3000)
    kept_later = responses({"input": "hi", "prompt_cache_retention": "24h"}, total=3000, at=4000)
    assert second(kept, kept_later) == (
        "cache miss: unchanged prefix within the TTL (evicted early?)"
    )


# -- records without a session, without usage, and memory -------------------------------------


def test_a_call_without_a_session_still_says_what_it_read():
    alone = anthropic_call(conversation(1), read=4000, session=None)
    assert explain(alone) == ["hit: read 4,000 tokens"]


def test_a_record_without_usage_has_no_cache_key_value():
    failed = anthropic_call(conversation(1))
    failed["status_code"] = 429
    failed["usage"] = None
    explainer = CacheExplainer()
    assert explainer.explain(failed) is None
    assert failed["cache"] is None


def test_other_apis_report_tokens_without_an_explanation():
    gemini = {
        "provider": "gemini",
        "request": {"body": {"contents": []}},
        "usage": {"input_tokens": 10, "cache_read_tokens": 4, "cache_write_tokens": None},
    }
    assert CacheExplainer().explain(gemini) == {
        "read_tokens": 4,
        "written_tokens": None,
        "explanation": None,
    }


def test_memory_is_bounded():
    explainer = CacheExplainer(max_threads=3, max_sessions=3)
    tracker = SessionTracker()
    for i in range(10):
        record = anthropic_call(conversation(1), write=5000, session=f"s{i}", at=i)
        tracker.assign(record)
        explainer.explain(record)
    assert len(explainer._threads) == 3
    assert len(explainer._last) == 3


@pytest.mark.parametrize(
    ("model", "minimum"),
    [
        ("claude-opus-5", 512),
        ("claude-opus-5-5", 512),
        ("claude-fable-5-1", 512),
        ("claude-opus-4-8", 1024),
        ("claude-opus-4-7", 2048),
        ("claude-opus-4-6", 4096),
        ("claude-opus-4-5-20251101", 4096),
        ("claude-sonnet-4-6", 1024),
        ("claude-sonnet-4-20250514", 1024),
        ("claude-haiku-4-5@20251001", 4096),
        ("claude-3-5-haiku-20241022", 2048),
        ("claude-3-haiku-20240307", 2048),
        ("claude-3-7-sonnet-20250219", 1024),
        ("us.anthropic.claude-haiku-4-5-20251001-v1:0", 4096),
        ("claude-mythos-preview", 2048),
        ("some-other-model", 1024),
    ],
)
def test_anthropic_minimums_by_model(model, minimum):
    assert anthropic_minimum(model) == minimum
