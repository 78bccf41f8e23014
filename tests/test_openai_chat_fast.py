"""Chat Completions: the common chunk's shortcut in `feed_all` changes nothing.

Random chunk sequences, mostly the common shape (one choice, one fragment, the same
top-level values) with every kind of near miss mixed in, are folded twice: through
`feed_all` (the shortcut) and one `feed` at a time (the full merge only). The completion,
the errors, the unknown events and the flags must be the same, byte for byte.
"""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from addon.providers.openai_chat import OpenAIChat, fold
from addon.providers.openai_chat.fast import make_shape
from addon.wire import Event

_CHUNK = "chat.completion.chunk"
_ABSENT = object()

texts = st.sampled_from(["", "a", " b", '{"x', "é"])


def _maybe(common: Any, *others: Any) -> st.SearchStrategy[Any]:
    """Mostly `common`, sometimes one of `others` (`_ABSENT` leaves the key out)."""
    return st.one_of(st.just(common), st.just(common), st.just(common), st.sampled_from(others))


@st.composite
def tool_delta(draw: st.DrawFn) -> Any:
    index = draw(_maybe(0, 1, 0.0, True, _ABSENT))
    function: dict[str, Any] = {"arguments": draw(texts)}
    if draw(st.integers(0, 5)) == 0:
        function[draw(st.sampled_from(["name", "extra"]))] = draw(st.sampled_from([None, "f"]))
    entry: dict[str, Any] = {"function": function}
    if index is not _ABSENT:
        entry["index"] = index
    if draw(st.integers(0, 6)) == 0:
        entry.update({"id": "call_1", "type": "function"})
        function.setdefault("name", "f")
    if draw(st.booleans()):
        entry = {"function": entry.pop("function"), **entry}
    calls: Any = [entry]
    if draw(st.integers(0, 8)) == 0:
        calls = draw(st.sampled_from([[], [entry, {"index": 1, "function": {"arguments": "y"}}]]))
    return calls


@st.composite
def deltas(draw: st.DrawFn) -> Any:
    kind = draw(
        st.sampled_from(
            ["content"] * 4 + ["reasoning"] * 2 + ["tool"] * 3 + ["refusal", "odd", "start"]
        )
    )
    if kind == "content":
        return {"content": draw(texts)}
    if kind == "reasoning":
        delta = {"reasoning_content": draw(texts)}
        return {"content": None, **delta} if draw(st.booleans()) else delta
    if kind == "tool":
        delta = {"tool_calls": draw(tool_delta())}
        return {"content": None, **delta} if draw(st.integers(0, 3)) == 0 else delta
    if kind == "refusal":
        return {"refusal": draw(texts)}
    if kind == "start":
        return draw(
            st.sampled_from(
                [
                    {"role": "assistant", "content": "", "refusal": None},
                    {"role": "assistant", "content": None},
                    {"content": [{"type": "thinking", "thinking": "t"}]},
                    {"content": [{"type": "text", "text": "x"}]},
                    {"reasoning_details": [{"type": "reasoning.text", "index": 0, "text": "r"}]},
                ]
            )
        )
    return draw(
        st.sampled_from(
            [{}, None, "text", [], {"content": 5}, {"content": None}, {"new": None}, {"x": "y"}]
        )
    )


@st.composite
def choices(draw: st.DrawFn) -> Any:
    choice: dict[str, Any] = {}
    index = draw(_maybe(0, 1, 0.0, False, _ABSENT, "0"))
    if index is not _ABSENT:
        choice["index"] = index
    choice["delta"] = draw(deltas())
    for key, value in (
        ("logprobs", draw(_maybe(None, _ABSENT, {"content": [{"token": "a"}], "refusal": None}))),
        ("finish_reason", draw(_maybe(None, _ABSENT, "", "stop", 0))),
        ("content_filter_results", draw(_maybe(_ABSENT, {}, {"hate": {"filtered": False}}))),
    ):
        if value is not _ABSENT:
            choice[key] = value
    if draw(st.integers(0, 9)) == 0:
        choice = {"delta": choice.pop("delta"), **choice}
    many = draw(st.integers(0, 12))
    if many == 0:
        return []
    if many == 1:
        return [choice, {**choice, "index": 1}]
    if many == 2:
        return draw(st.sampled_from([None, {}, "x", [1]]))
    return [choice]


_TOP_CHANGES: tuple[tuple[str, tuple[Any, ...]], ...] = (
    ("id", ("c2", "", None, 1)),
    ("object", (_ABSENT, "", "chat.completion")),
    ("created", (7.0, True, 1, None, 8, "7", _ABSENT)),
    ("model", ("n", None, _ABSENT)),
    ("system_fingerprint", (None, "fp2", _ABSENT)),
    ("usage", ({"prompt_tokens": 1}, {}, _ABSENT)),
    ("obfuscation", ("xyz", None, _ABSENT)),
    ("error", ({"message": "boom"}, None)),
    ("x_groq", ({"id": "g", "usage": {"total_tokens": 3}},)),
    ("prompt_filter_results", ([],)),
)


_LEAVES = ("content", "reasoning", "tool", "logprobs")
# A stream of one kind of fragment (and now and then another kind).
streams = st.tuples(st.sampled_from(_LEAVES), st.integers(8, 30)).flatmap(
    lambda kind: st.lists(chunk_data(kind[0]), min_size=kind[1], max_size=kind[1])
)


@st.composite
def chunk_data(draw: st.DrawFn, leaf: str) -> str:
    """Half the chunks are the common one with a new fragment, the others near misses: a
    choice drawn at random, one change inside the delta, or top-level changes."""
    odd = draw(st.integers(0, 30))
    if odd == 0:
        return str(draw(st.sampled_from(["[DONE]", "", "  ", "not json", "[1, 2]", "5", "{"])))
    if draw(st.integers(0, 9)) == 0:
        leaf = draw(st.sampled_from(_LEAVES))
    fragment = draw(texts)
    delta: Any = {
        "content": {"content": fragment},
        "logprobs": {"content": fragment},
        "reasoning": {"content": None, "reasoning_content": fragment},
        "tool": {"tool_calls": [{"index": 0, "function": {"arguments": fragment}}]},
    }[leaf]
    chunk: dict[str, Any] = {
        "id": "c1",
        "object": _CHUNK,
        "created": 7,
        "model": "m",
        "system_fingerprint": "fp",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}],
        "usage": None,
        "obfuscation": "ob",
    }
    if leaf == "logprobs":
        chunk["choices"][0]["logprobs"] = {"content": [{"token": fragment}], "refusal": None}
    mode = draw(st.integers(0, 5))
    if mode <= 2:
        return orjson.dumps(chunk).decode()
    if mode == 4 and leaf == "logprobs" and draw(st.booleans()):
        logprobs = chunk["choices"][0]["logprobs"]
        change = draw(st.sampled_from(["refusal", "content", "extra", "drop"]))
        if change == "drop":
            del logprobs["refusal"]
        else:
            logprobs[change] = draw(st.sampled_from([None, [], [{"token": "r"}], {"a": 1}, "x"]))
    if mode == 3:
        chunk["choices"] = draw(choices())
    elif mode == 4:
        _change_delta(delta, draw(st.integers(0, 9)), draw(st.sampled_from([None, 5, [], "x"])))
    for _ in range(draw(st.integers(1 if mode == 5 else 0, 3 if mode == 5 else 1))):
        key, values = draw(st.sampled_from(_TOP_CHANGES))
        value = draw(st.sampled_from(values))
        if value is _ABSENT:
            chunk.pop(key, None)
        else:
            chunk[key] = value
    if draw(st.integers(0, 5)) == 0 and "obfuscation" in chunk:
        del chunk["obfuscation"]
        chunk[draw(st.sampled_from(["service_tier", "error", "choices2"]))] = "x"
    if draw(st.integers(0, 9)) == 0:
        chunk = {"choices": chunk.pop("choices", []), **chunk}
    return orjson.dumps(chunk).decode()


def _change_delta(delta: Any, change: int, value: Any) -> None:
    """One near miss inside the common delta: a key more, less or renamed, another value."""
    if "tool_calls" in delta:
        entry = delta["tool_calls"][0]
        function = entry["function"]
        if change == 0:
            entry["index"] = value if value is not None else 0.0
        elif change == 1:
            entry["index"] = True
        elif change == 2:
            entry["type"] = value
        elif change == 3:
            function["name"] = value
        elif change == 4:
            function["arguments"] = value
        elif change == 5:
            delta["tool_calls"].append(dict(entry))
        elif change == 6:
            del entry["index"]
    if change == 7:
        delta[_extra_key(value)] = value
    elif change == 8:
        key = next(iter(delta))
        delta["other" if key != "other" else "content"] = delta.pop(key)
    elif change == 9:
        for key in delta:
            if delta[key] is not None and "tool_calls" not in delta:
                delta[key] = value


def _extra_key(value: Any) -> str:
    return "role" if value is None else "new"


def _outcome(acc: OpenAIChat) -> bytes:
    acc.finish()
    return orjson.dumps(
        {
            "result": acc.result(),
            "errors": acc.errors,
            "unknown": acc.unknown,
            "done": acc.done,
            "started": acc.content_started,
        }
    )


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    streams,
    st.lists(st.integers(0, 6), min_size=1, max_size=10),
    st.booleans(),
    st.sampled_from([0, 0, 63]),
)
def test_shortcut_gives_what_the_full_merge_gives(
    data: list[str], batches: list[int], mix_single_feeds: bool, backoff_cap: int
) -> None:
    events = [Event("message", d) for d in data]
    full = OpenAIChat()
    for event in events:
        full.feed(event)
    fast = OpenAIChat()
    fast.shape_backoff_cap = backoff_cap  # 0: a shape after every long merge (all chances)
    position, turn = 0, 0
    while position < len(events):
        size = batches[turn % len(batches)]
        turn += 1
        if size == 0 and mix_single_feeds:
            fast.feed(events[position])  # `feed` between batches forgets the shortcut's shape
            position += 1
            continue
        fast.feed_all(events[position : position + max(size, 1)])
        position += max(size, 1)
    assert _outcome(fast) == _outcome(full)


def _common(delta: dict[str, Any], **top: Any) -> str:
    chunk = {
        "id": "c1",
        "object": _CHUNK,
        "created": 7,
        "model": "m",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": None}],
        "usage": None,
        "obfuscation": "ob",
        **top,
    }
    return orjson.dumps(chunk).decode()


def test_common_chunks_take_the_shortcut() -> None:
    """The shape is made from the first content chunk and the rest only append."""
    acc = OpenAIChat()
    start = _common({"role": "assistant", "content": ""})
    acc.feed_all([Event("message", d) for d in [start, _common({"content": "a"})]])
    assert acc._shape is not None and acc._shape.leaf == "content"
    acc.feed_all([Event("message", _common({"content": "b"}, obfuscation="zz"))] * 3)
    acc.feed_all([Event("message", "[DONE]")])
    assert acc._shape is None
    result = acc.result()
    assert result is not None
    assert result["choices"][0]["message"]["content"] == "abbb"
    assert acc._chunks == 5 and acc.errors == []


def test_a_shape_nothing_used_makes_the_next_tries_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    """Where every chunk differs, shapes are made after fewer and fewer of them."""
    tries: list[Any] = []

    def counting(chunk: Any, choices: dict[int, Any]) -> Any:
        tries.append(chunk)
        return make_shape(chunk, choices)

    monkeypatch.setattr(fold, "make_shape", counting)
    acc = OpenAIChat()
    acc.feed_all([Event("message", _common({"content": "a"}, usage={"n": n})) for n in range(200)])
    assert len(tries) == 8  # after chunks 1, 3, 7, 15, 31, 63, 127 and 191


def test_a_float_or_boolean_never_passes_for_the_integer_it_equals() -> None:
    """(`created` comes from the opening chunk: an integer of another key shows it.)"""
    acc = OpenAIChat()
    seeds = (7, 7, 7.0)
    acc.feed_all([Event("message", _common({"content": "a"}, created=None, seed=s)) for s in seeds])
    assert acc._chunks == 3
    result = acc.result()
    assert result is not None and orjson.dumps(result["seed"]) == b"7.0"


def test_no_shape_for_a_chunk_with_two_choices_or_a_finish_reason() -> None:
    chunk = orjson.loads(_common({"content": "a"}))
    acc = OpenAIChat()
    acc.feed_all([Event("message", orjson.dumps(chunk).decode())] * 2)
    assert make_shape(chunk, acc._choices) is not None
    two = {**chunk, "choices": chunk["choices"] * 2}
    finished = {**chunk, "choices": [{**chunk["choices"][0], "finish_reason": "stop"}]}
    assert make_shape(two, acc._choices) is None
    assert make_shape(finished, acc._choices) is None


_REASONING = {"content": None, "reasoning_content": "r"}
_TOOL_START = {
    "role": "assistant",
    "tool_calls": [
        {"index": 0, "id": "call_1", "type": "function", "function": {"name": "f", "arguments": ""}}
    ],
}


def _call(**entry: Any) -> dict[str, Any]:
    return {"tool_calls": [{"index": 0, "function": {"arguments": "x"}, **entry}]}


NEAR_MISSES = {
    "a null key the message lacks": (_REASONING, {"other": None, "reasoning_content": "s"}),
    "a key more in the delta": ({"content": "a"}, {"content": "b", "new": None}),
    "a number for the text": ({"content": "a"}, {"content": 5}),
    "a null for the text": ({"content": "a"}, {"content": None, "refusal": None}),
    "a list for the text": ({"content": "a"}, {"content": [{"type": "text", "text": "t"}]}),
    "a float call index": (_call(), _call(index=0.0)),
    "a boolean call index": (_call(), _call(index=True)),
    "another call": (_call(), _call(index=1)),
    "a call without index": (_call(), {"tool_calls": [{"function": {"arguments": "x"}}]}),
    "a call with another id": (_call(), _call(id="call_2")),
    "a call with a null name": (_call(), _call(function={"arguments": "x", "name": None})),
    "a call with null arguments": (_call(), _call(function={"arguments": None})),
    "a call with a name": (_call(), _call(function={"arguments": "x", "name": "g"})),
    "two calls": (_call(), {"tool_calls": _call()["tool_calls"] * 2}),
}


@pytest.mark.parametrize("common, miss", NEAR_MISSES.values(), ids=NEAR_MISSES.keys())
def test_a_near_miss_in_the_delta_takes_the_full_merge(common: Any, miss: Any) -> None:
    start = _TOOL_START if "tool_calls" in common else {"role": "assistant", "content": "s"}
    data = [_common(start), _common(common), _common(common), _common(miss), _common(common)]
    _same_both_ways(data)
    _same_both_ways(data[:-1])  # the last chunk may undo what the miss changed


TOP_MISSES = {
    "created as a float": {"created": 7.0},
    "created as a boolean": {"created": True},
    "a usage": {"usage": {"prompt_tokens": 1}},
    "another id": {"id": "c2"},
    "an error": {"error": {"message": "boom"}},
    "another object": {"object": ""},
}


@pytest.mark.parametrize("top", TOP_MISSES.values(), ids=TOP_MISSES.keys())
def test_a_near_miss_at_the_top_takes_the_full_merge(top: dict[str, Any]) -> None:
    common = {"content": "a"}
    data = [_common(common), _common(common), _common(common, **top), _common(common)]
    swapped = orjson.loads(_common(common))
    del swapped["obfuscation"]
    _same_both_ways([*data, orjson.dumps({**swapped, "service_tier": "x"}).decode()])


CHOICE_MISSES = {
    "two choices": None,
    "content filter results": {"content_filter_results": {"hate": {"filtered": False}}},
    "no logprobs but a filter": {"content_filter_results": {}, "logprobs": _ABSENT},
    "a finish reason": {"finish_reason": "stop"},
    "logprobs": {"logprobs": {"content": [{"token": "x"}], "refusal": None}},
    "no logprobs key": {"logprobs": _ABSENT},
    "a float index": {"index": 0.0},
    "another index": {"index": 1},
}


@pytest.mark.parametrize("change", CHOICE_MISSES.values(), ids=CHOICE_MISSES.keys())
def test_a_near_miss_in_the_choice_takes_the_full_merge(change: dict[str, Any] | None) -> None:
    chunk = orjson.loads(_common({"content": "x"}))
    choice = chunk["choices"][0]
    if change is None:
        chunk["choices"] = [choice, {**choice, "index": 1}]
    else:
        choice.update(change)
        for key in [k for k, v in change.items() if v is _ABSENT]:
            del choice[key]
    common = _common({"content": "a"})
    _same_both_ways([common, common, orjson.dumps(chunk).decode(), common])


def _same_both_ways(data: list[str]) -> None:
    events = [Event("message", d) for d in data]
    full = OpenAIChat()
    for event in events:
        full.feed(event)
    fast = OpenAIChat()
    fast.shape_backoff_cap = 0
    fast.feed_all(events)
    assert _outcome(fast) == _outcome(full)


_TOKENS = {"content": [{"token": "t"}], "refusal": None}
LOGPROB_MISSES = {
    "refusal tokens": {"content": [{"token": "t"}], "refusal": [{"token": "r"}]},
    "no content tokens": {"content": None, "refusal": None},
    "no refusal key": {"content": [{"token": "t"}]},
    "a key more": {**_TOKENS, "extra": 1},
    "content as an object": {"content": {"token": "t"}, "refusal": None},
    "content as text": {"content": "tt", "refusal": None},
    "no logprobs": None,
}


@pytest.mark.parametrize("miss", LOGPROB_MISSES.values(), ids=LOGPROB_MISSES.keys())
def test_logprob_tokens_take_the_shortcut_only_as_the_reference_had_them(miss: Any) -> None:
    def chunk(logprobs: Any) -> str:
        data = orjson.loads(_common({"content": "a"}))
        data["choices"][0]["logprobs"] = logprobs
        return orjson.dumps(data).decode()

    data = [chunk(_TOKENS), chunk(_TOKENS), chunk(_TOKENS), chunk(miss), chunk(_TOKENS)]
    _same_both_ways(data)
    _same_both_ways(data[:-1])
    acc = OpenAIChat()
    acc.feed_all([Event("message", d) for d in data[:3]])
    assert acc._shape is not None and acc._shape.extend_tokens is not None
