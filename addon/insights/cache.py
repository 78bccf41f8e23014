"""Why the prompt cache missed: each call compared with the previous call of its session.

`CacheExplainer.explain(record)` is fed records in request order, after `SessionTracker` set
`record["session"]`, and sets `record["cache"] = {"read_tokens", "written_tokens",
"explanation"}` (None for a record without usage, e.g. an HTTP error, which touched no cache).
`explanation` is one short line: `hit: read 12,345 tokens`, `partial hit: read 4,096 of
20,480 tokens: messages[3] (user) changed since turn 2`, `cache miss: system[1] changed since
turn 12 (only digits changed: a timestamp?)`, `cache miss: previous call 7m12s ago, past the
5-minute TTL`, `first call of session: wrote 5,000 tokens`.

What a call "should" have read: the previous call of the same session, agent and model left
a cache entry of `cache_read + cache_write` tokens (Anthropic: the prefix up to its last
breakpoint) or of its whole prompt (OpenAI, in 128-token steps from 1,024). A call that read
fewer is a miss, and the first cause found is named, in this order:

1. what invalidates everything: `speed` (Anthropic fast mode has its own cache, as does each
   model), `prompt_cache_key` (OpenAI routes by it), the TTL: the time since the previous
   call's start (Anthropic measures a lifetime from the start of the request that wrote or
   read the entry) against 5 minutes, or 1 hour where the previous call's breakpoints asked for
   `ttl: "1h"`; OpenAI's in-memory cache is usually cleared after 5-10 idle minutes and always
   within an hour, `prompt_cache_retention: "24h"` keeps it up to a day;
2. the first difference in the prefix, in the order the API caches it: `tools` (changed,
   added, removed, reordered), then `system` (Responses: `instructions`) by block, then the
   settings that invalidate only the messages (Anthropic `tool_choice`, `thinking`), then
   `messages` (Responses: `input`; a `previous_response_id` that does not continue the
   previous call) by message and content block. `cache_control` markers are left out of the
   comparison (they move each turn and are not content); key order is kept (a reordered JSON
   object is a different prompt). A hint says when only digits changed (a timestamp?) or
   only key order;
3. what needs no comparison: no `cache_control` at all (Anthropic caches only marked prefixes;
   a top-level `cache_control` is automatic caching), a prompt under the model's minimum
   cacheable length (Anthropic: 512 to 4,096 tokens by model, `anthropic_minimum`; OpenAI
   1,024), a call sent before the previous one started answering (a cache entry exists only
   once the response begins);
4. Anthropic's own `diagnostics.cache_miss_reason` (when the client asked for it with
   `diagnostics.previous_message_id`, as Claude Code does), else "unchanged prefix".

Memory is bounded: the previous call of at most `max_threads` (session, agent, model)
threads (an LRU), kept as 8-byte digests, not text: about 400 bytes per tool, system block
and message, so a 500-message conversation takes ~200 kB and the default bound ~50 MB at
worst; and the model, turn and cached size of the previous call of at most `max_sessions`
sessions.
"""

from __future__ import annotations

from collections import OrderedDict

from addon.insights.prompt import (
    FIVE_MINUTES,
    JSON,
    MAX_SESSIONS,
    MAX_THREADS,
    ONE_DAY,
    ONE_HOUR,
    OPENAI_MINIMUM,
    Last,
    Piece,
    Prompt,
    _count,
    anthropic_minimum,
    build_prompt,
)


def _hint(old: Piece, new: Piece) -> str:
    if old.ordered == new.ordered:
        return " (same content, keys reordered)"
    if old.digits == new.digits:
        return " (only digits changed: a timestamp?)"
    return ""


def _tools_change(old: tuple[Piece, ...], new: tuple[Piece, ...], since: str) -> str | None:
    if [p.exact for p in old] == [p.exact for p in new]:
        return None
    if sorted(p.exact for p in old) == sorted(p.exact for p in new):
        return f"tools reordered{since}"
    old_names = {p.name for p in old}
    new_names = {p.name for p in new}
    for i in range(max(len(old), len(new))):
        a = old[i] if i < len(old) else None
        b = new[i] if i < len(new) else None
        if a is not None and b is not None and a.exact == b.exact:
            continue
        if b is not None and b.name not in old_names:
            return f"tool {b.name} added at tools[{i}]{since}"
        if a is not None and a.name not in new_names:
            return f"tool {a.name} removed (was tools[{i}]){since}"
        if a is not None and b is not None and a.name == b.name:
            return f"{b.label} changed{since}{_hint(a, b)}"
        if a is not None and b is not None:
            return f"tools[{i}] changed ({a.name} -> {b.name}){since}"
        return f"tools[{i}] {'added' if a is None else 'removed'}{since}"
    return None  # pragma: no cover - the lists differ somewhere


def _pieces_change(
    old: tuple[Piece, ...], new: tuple[Piece, ...], since: str, prefix_only: bool
) -> str | None:
    """The first element that differs; `prefix_only`: `new` may append after `old`."""
    for a, b in zip(old, new, strict=False):
        if a.exact == b.exact:
            continue
        if a.label == b.label and a.parts and b.parts and max(len(a.parts), len(b.parts)) > 1:
            for j, (x, y) in enumerate(zip(a.parts, b.parts, strict=False)):
                if x != y:
                    return f"{b.label}.content[{j}] changed{since}{_hint(a, b)}"
            shorter = min(len(a.parts), len(b.parts))
            what = "added" if len(b.parts) > len(a.parts) else "removed"
            return f"{b.label}.content[{shorter}] {what}{since}"
        return f"{b.label} changed{since}{_hint(a, b)}"
    if len(new) < len(old):
        return f"{old[len(new)].label} removed{since} (history shortened)"
    if len(new) > len(old) and not prefix_only:
        return f"{new[len(old)].label} added{since}"
    return None


def _ago(seconds: float) -> str:
    seconds = int(seconds)
    if seconds >= 3600:
        return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
    return f"{seconds // 60}m{seconds % 60:02d}s"


def _tokens(n: int) -> str:
    return f"{n:,}"


class CacheExplainer:
    """Explains each call's prompt-cache use against the previous call of its session."""

    def __init__(self, max_threads: int = MAX_THREADS, max_sessions: int = MAX_SESSIONS):
        self.max_threads = max_threads
        self.max_sessions = max_sessions
        self._threads: OrderedDict[tuple[str, str | None, str], Prompt] = OrderedDict()
        """(session, agent, model) -> its previous call."""
        self._last: OrderedDict[str, Last] = OrderedDict()
        """Session -> its previous call, whatever the agent and model."""

    @property
    def entries(self) -> int:
        return len(self._threads) + len(self._last)

    def explain(self, record: JSON) -> JSON | None:
        """Set and return `record["cache"]`; never raises."""
        try:
            cache = self._explain(record)
        except Exception as exc:  # a bug here must cost the explanation, never the record
            cache = {"read_tokens": None, "written_tokens": None, "explanation": repr(exc)}
        record["cache"] = cache
        return cache

    def _explain(self, record: JSON) -> JSON | None:
        usage = record.get("usage")
        if not isinstance(usage, dict) or _count(usage, "input_tokens") is None:
            return None
        read = _count(usage, "cache_read_tokens")
        written = _count(usage, "cache_write_tokens")
        cache: JSON = {"read_tokens": read, "written_tokens": written, "explanation": None}
        prompt = build_prompt(record)
        if prompt is None:
            return cache
        session = record.get("session")
        if not isinstance(session, dict) or not isinstance(session.get("id"), str):
            cache["explanation"] = _alone(prompt)
            return cache
        key = (session["id"], session.get("agent"), prompt.model)
        previous = self._threads.pop(key, None)
        last = self._last.pop(session["id"], None)
        if previous is None:
            cache["explanation"] = _first(prompt, last, session.get("agent"))
        else:
            cache["explanation"] = _compare(previous, prompt, record)
        self._threads[key] = prompt
        self._last[session["id"]] = Last(prompt.model, prompt.turn, prompt.allowance)
        while len(self._threads) > self.max_threads:
            self._threads.popitem(last=False)
        while len(self._last) > self.max_sessions:
            self._last.popitem(last=False)
        return cache


def _since(old: Prompt | Last) -> str:
    return f" since turn {old.turn}" if old.turn is not None else ""


def _alone(prompt: Prompt) -> str | None:
    """A call without a session: what can be said without a previous call."""
    if prompt.read:
        return f"hit: read {_tokens(prompt.read)} tokens"
    static = _static_cause(prompt, guess=True)
    if static:
        return f"nothing cached: {static}"
    if prompt.written:
        return f"wrote {_tokens(prompt.written)} tokens (no session to compare with)"
    return None


def _first(prompt: Prompt, last: Last | None, agent: str | None) -> str:
    """The first call of its (session, agent, model) thread."""
    if last is not None and last.model != prompt.model and not prompt.read and last.allowance:
        return (
            f"cache miss: model changed{_since(last)} ({last.model} -> {prompt.model}); "
            "each model has its own cache"
        )
    if last is None:
        what = "first call of session"
    elif last.model != prompt.model:
        what = f"first {prompt.model} call of session"
    else:
        what = f"first call of agent {agent}" if agent else "first call of the main agent"
    if prompt.read:
        return f"hit: read {_tokens(prompt.read)} tokens ({what})"
    static = _static_cause(prompt, guess=True)
    if static:
        return f"{what}: nothing cached: {static}"
    if prompt.written:
        return f"{what}: wrote {_tokens(prompt.written)} tokens"
    return f"{what}: nothing to reuse yet"


def _compare(old: Prompt, new: Prompt, record: JSON) -> str:
    """A later call of the thread: a hit, or the first cause of what it failed to read."""
    allowance = old.allowance
    if allowance == 0 or new.read >= allowance:
        wrote = f"; wrote {_tokens(new.written)}" if new.written else ""
        if new.read:
            return f"hit: read {_tokens(new.read)} tokens{wrote}"
        static = _static_cause(new, guess=True)
        if static:
            return f"nothing cached: {static}"
        if new.written:
            return f"wrote {_tokens(new.written)} tokens (previous call cached nothing)"
        return "nothing cached (previous call cached nothing)"
    causes = _causes(old, new)
    api = _api_reason(record)
    if not causes:
        static = _static_cause(new, guess=False)
        if static:
            causes.append(static)
        elif api:
            causes.append(f"the API reports {api}")
            api = None
        else:
            causes.append("unchanged prefix within the TTL (evicted early?)")
    text = "; also ".join(causes[:2])
    if api:
        text += f" (API: {api})"
    if new.read:
        return f"partial hit: read {_tokens(new.read)} of {_tokens(allowance)} tokens: {text}"
    return f"cache miss: {text}"


def _causes(old: Prompt, new: Prompt) -> list[str]:
    """What made `new` miss what `old` left: expiry or a setting first, then the prefix."""
    since = _since(old)
    for key in ("speed", "prompt_cache_key"):
        if old.settings.get(key) != new.settings.get(key):
            return [f"{key} changed{since}"]
    causes: list[str] = []
    expiry = _expiry(old, new)
    if expiry is not None:
        causes.append(expiry)
    change = _tools_change(old.tools, new.tools, since)
    if change is None:
        change = _pieces_change(old.system, new.system, since, prefix_only=False)
    if change is None:
        for key in ("tool_choice", "thinking"):
            if old.settings.get(key) != new.settings.get(key):
                change = f"{key} changed{since} (invalidates the cached messages)"
                break
    if change is None:
        change = _messages_change(old, new, since)
    if change is not None:
        causes.append(change)
    return causes


def _expiry(old: Prompt, new: Prompt) -> str | None:
    """The previous call's entries had expired, or did not exist yet, when `new` started."""
    if old.started is None or new.started is None:
        return None
    gap = new.started - old.started
    ago = _ago(gap)
    if old.family == "anthropic":
        ttl = max(old.ttls, default=0)
        if ttl and gap > ttl:
            what = "1-hour" if ttl == ONE_HOUR else "5-minute"
            return f"previous call {ago} ago, past the {what} TTL"
        if ttl == ONE_HOUR and FIVE_MINUTES in old.ttls and gap > FIVE_MINUTES:
            return f"previous call {ago} ago: its 5-minute entries expired (1-hour ones last)"
    elif gap > old.retention:
        what = "24-hour retention" if old.retention == ONE_DAY else "in-memory 1-hour limit"
        return f"previous call {ago} ago, past the {what}"
    elif old.retention == ONE_HOUR and gap > FIVE_MINUTES:
        return f"previous call {ago} ago (in-memory caches are cleared after 5-10 idle minutes)"
    if old.answered_at is not None and new.started < old.answered_at:
        return "sent before the previous call started answering (its entry did not exist yet)"
    return None


def _messages_change(old: Prompt, new: Prompt, since: str) -> str | None:
    if new.previous_response_id is not None or old.previous_response_id is not None:
        if new.previous_response_id is None:
            return f"previous_response_id dropped{since} (context rebuilt from input)"
        if new.previous_response_id != old.response_id:
            return f"previous_response_id does not continue the call of turn {old.turn}"
        return None  # the input continues the previous response: nothing to compare
    return _pieces_change(old.messages, new.messages, since, prefix_only=True)


def _static_cause(prompt: Prompt, guess: bool) -> str | None:
    """Why nothing could be cached, from this call alone; `guess`: also when the only sign is
    that a call with breakpoints read and wrote nothing."""
    if prompt.family == "anthropic":
        if not prompt.ttls:
            return "no cache_control breakpoint (Anthropic caches only marked prefixes)"
        minimum = anthropic_minimum(prompt.model)
    else:
        minimum = OPENAI_MINIMUM
    if prompt.input is not None and prompt.input < minimum:
        return (
            f"prompt of {_tokens(prompt.input)} tokens is under the "
            f"{_tokens(minimum)}-token minimum for {prompt.model}"
        )
    if guess and prompt.family == "anthropic" and not prompt.read and not prompt.written:
        return f"the prefix up to the last breakpoint is under {_tokens(minimum)} tokens?"
    return None


def _api_reason(record: JSON) -> str | None:
    """Anthropic's own diagnosis, when the request asked for one."""
    response = record.get("response")
    diagnostics = response.get("diagnostics") if isinstance(response, dict) else None
    reason = diagnostics.get("cache_miss_reason") if isinstance(diagnostics, dict) else None
    kind = reason.get("type") if isinstance(reason, dict) else None
    if not isinstance(kind, str):
        return None
    missed = reason.get("cache_missed_input_tokens") if isinstance(reason, dict) else None
    if isinstance(missed, int) and not isinstance(missed, bool):
        return f"{kind}, ~{_tokens(missed)} tokens missed"
    return kind
