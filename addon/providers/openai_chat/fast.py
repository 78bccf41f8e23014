"""The common chunk's shortcut: what `OpenAIChat.feed_all` checks to append a fragment.

Almost every chunk of a long stream is the previous chunk again with a new fragment: one
choice, a delta with only `content` (or `reasoning_content`, `refusal`, one tool call's
`arguments`), and the same `id`, `model`, `created`, `system_fingerprint` and tier. For
such a chunk the full merge does nothing but append that fragment: the top-level values
it would write are the ones already kept, and every other key it visits is a no-op.

A `Shape` is made from a chunk just merged the long way (the reference), and only if the
state it left lets a chunk of the same shape be proven a no-op but for the fragment. A
later chunk takes the shortcut when `feed_all` finds, with a few C-level comparisons:

- the same number of top-level keys, each repeated key with a value equal to the
  reference's (all strings or nulls, and at most one integer whose type is checked, so
  that `1` and `1.0` or `true` are never taken for one another), plus `choices` and, when
  the reference had it, `obfuscation` (never copied into the completion, so its value
  does not matter);
- one choice with the reference's keys and the same values for them: its `index` (which
  finds the same choice), a null `logprobs` and a falsy `finish_reason` (both ignored), or
  `logprobs` of content tokens only, as the reference had, which extend the token list;
- a delta with the reference's keys, the same ones null (a null for a key the message
  has is a no-op), and the one other key holding a string (appended to the fragments
  of that key) or, for tool calls, a single `{"index": i, "function": {"arguments": s}}`
  entry for the call the reference extended.

Anything else goes the long way, and the shape is made again from that chunk; the state a
shape points into is changed only by the shortcut itself (appending), so it stays valid.
"""

from __future__ import annotations

from collections.abc import Callable
from operator import itemgetter
from typing import Any, NamedTuple

from addon.providers.base import JSON
from addon.providers.openai_chat.merge import _CHUNK, _STREAMED_CHOICE_KEYS, _Fragments


class Shape(NamedTuple):
    """What a chunk must look like to take the shortcut, and where its fragment goes."""

    top_size: int
    top_values: Callable[[JSON], Any]
    """The repeated top-level values of a chunk (raises KeyError when one is missing)."""
    top_reference: Any
    typed_key: str
    """The one non-string repeated key (or any repeated key), its type checked per chunk."""
    typed_type: type
    extra_key: str
    """`obfuscation` when the reference had it, else `choices` (present anyway)."""
    choice_size: int
    choice_values: Callable[[JSON], Any]
    choice_reference: Any
    delta_size: int
    delta_nulls: Callable[[JSON], Any] | None
    """The delta's null keys (None: it has none)."""
    delta_null_reference: Any
    leaf: str
    """The delta key that holds the fragment (`tool_calls` for a tool-call fragment)."""
    call_index: int | None
    """For a tool-call fragment: the `index` of the call it extends."""
    append: Callable[[str], None]
    """Where the fragment goes: `append` of the fragments it continues."""
    logprob_keys: frozenset[str] | set[str] | None
    """The keys of the choice's `logprobs` (None: it is null)."""
    extend_tokens: Callable[[list[Any]], None] | None
    """Where its `content` tokens go: `extend` of the choice's token list so far."""


_DELTA = frozenset(("delta",))


def make_shape(chunk: Any, choices: dict[int, JSON]) -> Shape | None:
    """The shape of chunks that, after `chunk` was merged the long way, only add a fragment
    (None when `chunk` is not such a chunk itself, or the state does not allow it)."""
    if type(chunk) is not dict or "error" in chunk or chunk.get("object", _CHUNK) != _CHUNK:
        return None
    chunk_choices = chunk.get("choices")
    if type(chunk_choices) is not list or len(chunk_choices) != 1:
        return None
    choice = chunk_choices[0]
    if type(choice) is not dict:
        return None
    state = choices.get(choice.get("index", 0))
    delta = choice.get("delta")
    if (
        state is None
        or type(delta) is not dict
        or choice.get("finish_reason")
        or not choice.keys() - _DELTA <= _STREAMED_CHOICE_KEYS
        or len(choice) < 2
    ):
        return None

    message = state["message"]
    nulls = [k for k, v in delta.items() if v is None]
    if len(delta) - len(nulls) != 1 or any(k not in message for k in nulls):
        return None
    leaf = next(k for k, v in delta.items() if v is not None)
    value = delta[leaf]
    call_index = None
    if type(value) is str:
        target = message.get(leaf)
    else:
        call_index, target = _call_arguments(leaf, value, message)
    if type(target) is not _Fragments:
        return None

    repeated = [k for k in chunk if k != "choices" and k != "obfuscation"]
    typed = [k for k in repeated if type(chunk[k]) is not str and chunk[k] is not None]
    if not repeated or len(typed) > 1 or (typed and type(chunk[typed[0]]) is not int):
        return None
    top_values = itemgetter(*repeated)
    logprobs = choice.get("logprobs")
    extend_tokens = None
    if logprobs is not None:
        extend_tokens = _token_list(logprobs, state.get("logprobs"))
        if extend_tokens is None:
            return None
    choice_keys = [k for k in choice if k != "delta" and (k != "logprobs" or logprobs is None)]
    if not choice_keys:
        return None
    choice_values = itemgetter(*choice_keys)
    delta_nulls = itemgetter(*nulls) if nulls else None

    typed_key = typed[0] if typed else repeated[0]
    return Shape(
        top_size=len(chunk),
        top_values=top_values,
        top_reference=top_values(chunk),
        typed_key=typed_key,
        typed_type=type(chunk[typed_key]),
        extra_key="obfuscation" if "obfuscation" in chunk else "choices",
        choice_size=len(choice),
        choice_values=choice_values,
        choice_reference=choice_values(choice),
        delta_size=len(delta),
        delta_nulls=delta_nulls,
        delta_null_reference=None if delta_nulls is None else delta_nulls(delta),
        leaf=leaf,
        call_index=call_index,
        append=target.append,
        logprob_keys=None if logprobs is None else logprobs.keys() & _LOGPROB_KEYS,
        extend_tokens=extend_tokens,
    )


_LOGPROB_KEYS = frozenset(("content", "refusal"))


def _token_list(logprobs: Any, current: Any) -> Callable[[list[Any]], None] | None:
    """For `logprobs` of content tokens only (`refusal` null or absent), and a token list
    kept so far: the list's `extend`, which is all `_apply_logprobs` does with them."""
    if (
        type(logprobs) is not dict
        or type(current) is not dict
        or not logprobs.keys() <= _LOGPROB_KEYS
        or logprobs.get("refusal") is not None
        or type(logprobs.get("content")) is not list
    ):
        return None
    tokens = current.get("content")
    return tokens.extend if type(tokens) is list else None


def _call_arguments(leaf: str, value: Any, message: JSON) -> tuple[int | None, Any]:
    """For a delta of one tool call's `arguments`: the call's index and the fragments the
    full merge appends them to (found by its rule, `_merge_list`), else (None, None)."""
    if leaf != "tool_calls" or type(value) is not list or len(value) != 1:
        return None, None
    entry = value[0]
    if type(entry) is not dict or len(entry) != 2:
        return None, None
    index = entry.get("index")
    function = entry.get("function")
    if (
        type(index) is not int
        or type(function) is not dict
        or len(function) != 1
        or type(function.get("arguments")) is not str
    ):
        return None, None
    calls = message.get("tool_calls")
    if type(calls) is not list or not calls or any(type(c) is not dict for c in calls):
        return None, None
    if index < len(calls) and calls[index].get("index") == index:
        call = calls[index]
    else:
        call = next((c for c in calls if c.get("index") == index), None)
    called = call.get("function") if type(call) is dict else None
    if type(called) is not dict or type(call.get("index")) is not int:
        return None, None
    return index, called.get("arguments")
