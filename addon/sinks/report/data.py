"""Records → the data of the report page: an index of every call, read at load, and a table of
content-addressed blobs that the page parses only when something in them is shown.

An agent re-sends its whole context every turn, so a session's requests repeat each other: each
message (as people read it, from the provider's `read_request`) and each element of a request's
top-level lists (as JSON text, for the exact request) is stored once and referred to by number.
The page is then about as big as what the session said, not the square of it, and the context
diff of a call is a comparison of number lists. Records are taken in request order.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import orjson

from addon.providers import PROVIDERS
from addon.providers.base import Conversation, Part, Summary, read_generic
from addon.record import Record
from addon.record.summary import request_model, summary_of
from addon.wire.jsonvalue import dumps

JSON = dict[str, Any]
CHUNK_BYTES = 1 << 20
"""About this much blob JSON per data block: what the page parses at once."""
PREVIEW = 160
CITATION_KEYS = ("citations", "annotations")


def _json(value: Any) -> bytes:
    return dumps(value)


def _text(value: Any) -> str:
    return dumps(value).decode("utf-8", "replace")


class Blobs:
    """JSON values, each serialized once and numbered in order of first appearance."""

    def __init__(self) -> None:
        self.items: list[bytes] = []
        self._ids: dict[bytes, int] = {}

    def add(self, serialized: bytes) -> int:
        key = hashlib.blake2b(serialized, digest_size=16).digest()
        found = self._ids.get(key)
        if found is None:
            found = self._ids[key] = len(self.items)
            # orjson's bytes keep the whole buffer they were written in (32 kB and up, whatever
            # their length): a copy of exactly their length is what is kept.
            self.items.append(memoryview(serialized).tobytes())
        return found

    def value(self, value: Any) -> int:
        return self.add(_json(value))

    def text(self, text: str) -> int:
        """A string blob (JSON text of a request element or a response, kept exact)."""
        return self.add(orjson.dumps(text))

    def chunk_starts(self, limit: int = CHUNK_BYTES) -> list[int]:
        """The first blob of each data block: consecutive blobs of about `limit` bytes."""
        starts: list[int] = []
        size = 0
        for number, item in enumerate(self.items):
            if not starts or (size and size + len(item) > limit):
                starts.append(number)
                size = 0
            size += len(item) + 1
        return starts

    def chunk(self, start: int, end: int) -> bytes:
        """Blobs `start` to `end` (excluded) as one JSON array."""
        return b"[" + b",".join(self.items[start:end]) + b"]"


@dataclass(slots=True)
class _Thread:
    """The previous call of a session's agent: what the next call's context is compared to."""

    call: int
    turn: int
    messages: list[int]
    system: int | None
    tools: dict[str, int]


@dataclass(slots=True)
class _Session:
    key: str
    label: str
    source: str | None
    client: str
    host: str
    calls: list[int] = field(default_factory=list)
    totals: JSON = field(default_factory=lambda: _zero_totals())


_COUNTED = ("calls", "incomplete", "errors", "cache_misses", "unpriced")
_SUMMED = (
    ("in", "input_tokens"),
    ("cr", "cached_tokens"),
    ("out", "output_tokens"),
    ("rs", "reasoning_tokens"),
    ("d", "busy"),
)


def _zero_totals() -> JSON:
    """A session's totals: counts, token sums, cost, busy time (sum of durations), span."""
    totals: JSON = dict.fromkeys(_COUNTED, 0) | {name: 0 for _, name in _SUMMED}
    return totals | {"cost": 0.0, "start": None, "end": None}


@dataclass(slots=True)
class _Context:
    """A call's request as blob numbers: what its diff compares and its detail refers to."""

    messages: list[int]
    system: int | None
    tools: dict[str, int]
    settings: list[list[str]]
    note: str | None


def _summary(record: Record) -> tuple[Summary | None, str | None]:
    """The provider's reading of the answer (none for an HTTP error), or why it failed."""
    ok_status = record.status_code is None or record.status_code < 400
    if not isinstance(record.response, dict) or not ok_status:
        return None, None
    try:
        return summary_of(record), None
    except Exception as exc:
        return None, f"answer not readable: {exc!r}"


def _row(
    record: Record,
    summary: Summary | None,
    context: _Context,
    diff: JSON | None,
    notes: list[str],
) -> JSON:
    """A call in the index: what the overview, the charts, the list and the filters need."""
    usage = record.usage or {}
    timing = record.timing
    cache = record.cache if isinstance(record.cache, dict) else {}
    explanation = cache.get("explanation")
    explanation = explanation if isinstance(explanation, str) else None
    cost = record.cost if isinstance(record.cost, dict) else {}
    called = summary.tool_calls if summary is not None else []
    texts = [p.text for p in summary.parts if p.kind == "text"] if summary is not None else []
    preview = texts[0] if texts else ("→ " + ", ".join(called) if called else None)
    if preview is None and record.errors:
        preview = record.errors[0]
    messages = len(context.messages)
    return {
        "t": _number(timing.get("started")),
        "ttft": _number(timing.get("time_to_first_token")),
        "d": _number(timing.get("duration")),
        "p": record.provider,
        "m": (summary.model if summary is not None else None) or request_model(record),
        "stop": summary.stop_reason if summary is not None else None,
        "code": record.status_code,
        "ok": record.complete,
        "in": _number(usage.get("input_tokens")),
        "out": _number(usage.get("output_tokens")),
        "cr": _number(usage.get("cache_read_tokens")),
        "cw": _number(usage.get("cache_write_tokens")),
        "rs": _number(usage.get("reasoning_tokens")),
        "cost": _number(cost.get("total")),
        "miss": explanation is not None and explanation.startswith("cache miss"),
        "cache": explanation,
        "err": len(record.errors),
        "warn": len(record.warnings) + len(notes),
        "tc": called,
        "nm": messages,
        "new": diff["new"] + diff["changed"] if diff and not diff["fresh"] else messages,
        "pv": " ".join(str(preview or "").split())[:PREVIEW],
    }


def _part(part: Part) -> list[Any]:
    return [part.kind, part.text, part.name] if part.name is not None else [part.kind, part.text]


def conversation_of(record: Record) -> tuple[Conversation, str | None]:
    """The provider's reading of the request body; the generic one if that fails."""
    body = (record.request or {}).get("body")
    provider = PROVIDERS.get(record.provider)
    reader = provider.accumulator.read_request if provider is not None else read_generic
    try:
        return reader(body), None
    except Exception as exc:
        try:
            return read_generic(body), f"request read generically: {exc!r}"
        except Exception as again:
            return Conversation(), f"request not readable: {again!r}"


def citations_of(value: Any, found: list[list[Any]], depth: int = 0) -> None:
    """Every citation or annotation in the response, in order: [title, url, cited text]."""
    if depth > 12:
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if key in CITATION_KEYS and isinstance(item, list):
                for cite in item:
                    if isinstance(cite, dict):
                        found.append(_citation(cite))
            elif isinstance(item, dict | list):
                citations_of(item, found, depth + 1)
    elif isinstance(value, list):
        for item in value:
            citations_of(item, found, depth + 1)


def _citation(cite: JSON) -> list[Any]:
    inner: JSON = cite["url_citation"] if isinstance(cite.get("url_citation"), dict) else cite
    title = inner.get("title") or inner.get("document_title") or inner.get("type")
    url = inner.get("url") or inner.get("uri") or inner.get("file_id")
    text = inner.get("cited_text") or inner.get("text")
    location: JSON = inner["location"] if isinstance(inner.get("location"), dict) else {}
    url = url or location.get("uri")
    return [
        str(title) if title is not None else None,
        str(url) if url is not None else None,
        str(text) if text is not None else None,
    ]


def request_pieces(body: Any, blobs: Blobs) -> list[Any]:
    """The request body's exact JSON text as literal strings and blob numbers: each element of
    a top-level list is a blob, so a context that is sent again costs nothing."""
    if not isinstance(body, dict):
        return [_text(body)]
    pieces: list[Any] = []
    literal = ["{"]
    for number, (key, value) in enumerate(body.items()):
        literal.append(("," if number else "") + _text(str(key)) + ":")
        if not isinstance(value, list) or not value:
            literal.append(_text(value))
            continue
        literal.append("[")
        for position, element in enumerate(value):
            if position:
                literal.append(",")
            pieces.append("".join(literal))
            literal = []
            pieces.append(blobs.text(_text(element)))
        literal.append("]")
    literal.append("}")
    pieces.append("".join(literal))
    return [p for p in pieces if p != ""]


def _client(headers: Any) -> str:
    if not isinstance(headers, dict):
        return ""
    agent = next((v for k, v in headers.items() if str(k).lower() == "user-agent"), "")
    return str(agent).split(" ", 1)[0][:60]


def _host(url: Any) -> str:
    text = str(url or "")
    rest = text.split("://", 1)[-1]
    return rest.split("/", 1)[0].rsplit("@", 1)[-1]


def _number(value: Any) -> int | float | None:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


class ReportBuilder:
    """Takes records in request order; `index()` and `blobs` are then the page's data."""

    def __init__(self, title: str = "LLM calls", source: str = "") -> None:
        self.title = title
        self.source = source
        self.blobs = Blobs()
        self.calls: list[JSON] = []
        self.sessions: list[_Session] = []
        self._session_of: dict[str, int] = {}
        self._threads: dict[tuple[str, str | None], _Thread] = {}
        self.providers: set[str] = set()
        self.models: set[str] = set()
        self.tools: set[str] = set()

    def add(self, record: Record) -> None:
        number = len(self.calls)
        session_index, agent, turn = self._session(record)
        session = self.sessions[session_index]
        context = self._context(record)
        thread_key = (session.key, agent)
        diff = self._diff(self._threads.get(thread_key), context)
        turn = turn or len(session.calls) + 1
        self._threads[thread_key] = _Thread(
            number, turn, context.messages, context.system, context.tools
        )
        summary, summary_note = _summary(record)
        notes = [n for n in (context.note, summary_note) if n]
        detail = self._detail(record, context, summary, diff, notes)
        row = _row(record, summary, context, diff, notes)
        row.update(i=number, s=session_index, turn=turn, agent=agent, det=self.blobs.value(detail))
        self.calls.append(row)
        session.calls.append(number)
        self._count(session.totals, row)
        self.providers.add(record.provider)
        if row["m"]:
            self.models.add(row["m"])
        self.tools.update(row["tc"])

    def _context(self, record: Record) -> _Context:
        """The request as people read it, each message, the system prompt and each tool a blob."""
        conversation, note = conversation_of(record)
        blob = self.blobs.value
        return _Context(
            messages=[blob([m.role, [_part(p) for p in m.parts]]) for m in conversation.messages],
            system=blob([_part(p) for p in conversation.system]) if conversation.system else None,
            tools={
                t.name: blob(
                    [t.name, t.kind, t.description, None if t.schema is None else _text(t.schema)]
                )
                for t in conversation.tools
            },
            settings=[[k, _text(v)] for k, v in conversation.settings.items()],
            note=note,
        )

    def _detail(
        self,
        record: Record,
        context: _Context,
        summary: Summary | None,
        diff: JSON | None,
        notes: list[str],
    ) -> JSON:
        """What the page shows of a call when it is opened (one blob, parsed then)."""
        request = record.request or {}
        citations: list[list[Any]] = []
        citations_of(record.response, citations)
        response = record.response
        return {
            "messages": context.messages,
            "system": context.system,
            "tools": list(context.tools.values()),
            "settings": context.settings,
            "answer": [_part(p) for p in summary.parts] if summary is not None else [],
            "citations": citations,
            "response": None if response is None else self.blobs.text(_text(response)),
            "request": request_pieces(request.get("body"), self.blobs),
            "method": request.get("method"),
            "url": request.get("url"),
            "request_headers": request.get("headers"),
            "response_headers": record.response_headers,
            "errors": record.errors,
            "warnings": record.warnings + notes,
            "usage": record.usage,
            "cost": record.cost,
            "cost_reason": record.cost_reason,
            "cache": record.cache,
            "timing": record.timing,
            "session": record.session,
            "streamed": record.streamed,
            "events": record.events,
            "unknown_events": len(record.unknown_events),
            "extras": _text(record.extras) if record.extras else None,
            "diff": diff,
        }

    def _session(self, record: Record) -> tuple[int, str | None, int | None]:
        """The session a call belongs to (its `session.id`, else its client and host)."""
        info = record.session if isinstance(record.session, dict) else {}
        request = record.request or {}
        client, host = _client(request.get("headers")), _host(request.get("url"))
        session_id = info.get("id")
        if session_id:
            key, label, source = f"s:{session_id}", str(session_id), info.get("source")
        else:
            key, label, source = f"h:{client}@{host}", "", None
        index = self._session_of.get(key)
        if index is None:
            index = self._session_of[key] = len(self.sessions)
            self.sessions.append(_Session(key, label, source, client, host))
        agent = info.get("agent")
        turn = info.get("turn")
        return (
            index,
            str(agent) if agent is not None else None,
            turn if isinstance(turn, int) and session_id else None,
        )

    @staticmethod
    def _diff(previous: _Thread | None, context: _Context) -> JSON | None:
        """What changed in the context since the previous call of the same session and agent."""
        if previous is None:
            return None
        messages, system, tools = context.messages, context.system, context.tools
        old = previous.messages
        same = 0
        for a, b in zip(old, messages, strict=False):
            if a != b:
                break
            same += 1
        fresh = same == 0 and bool(old) and bool(messages)
        # Nothing in common: another conversation (calls grouped by host), or a rewritten one.
        changed = 0 if fresh else max(0, min(len(old), len(messages)) - same)
        return {
            "prev": previous.call,
            "turn": previous.turn,
            "fresh": fresh,
            "same": same,
            "changed": changed,
            "new": 0 if fresh else len(messages) - same - changed,
            "removed": 0 if fresh else max(0, len(old) - len(messages)),
            "system": system != previous.system,
            "tools_added": [n for n in tools if n not in previous.tools],
            "tools_removed": [n for n in previous.tools if n not in tools],
            "tools_changed": [
                n for n, v in tools.items() if n in previous.tools and previous.tools[n] != v
            ],
        }

    @staticmethod
    def _count(totals: JSON, row: JSON) -> None:
        totals["calls"] += 1
        totals["incomplete"] += not row["ok"]
        totals["errors"] += row["err"]
        totals["cache_misses"] += row["miss"]
        for key, name in _SUMMED:
            totals[name] += row[key] or 0
        if row["cost"] is None:
            totals["unpriced"] += 1
        else:
            totals["cost"] += row["cost"]
        start = row["t"]
        if start is not None:
            end = start + (row["d"] or 0)
            totals["start"] = start if totals["start"] is None else min(totals["start"], start)
            totals["end"] = end if totals["end"] is None else max(totals["end"], end)

    def index(self, generated: str, version: str = "") -> JSON:
        """Everything the page reads at load: calls, sessions, totals, the filters' choices."""
        totals = _zero_totals()
        for session in self.sessions:
            for key, value in session.totals.items():
                if value is None:
                    continue
                if key in ("start", "end"):
                    pick = min if key == "start" else max
                    totals[key] = value if totals[key] is None else pick(totals[key], value)
                else:
                    totals[key] += value
        return {
            "title": self.title,
            "source": self.source,
            "generated": generated,
            "version": version,
            "totals": totals,
            "providers": sorted(self.providers),
            "models": sorted(self.models),
            "tools": sorted(self.tools),
            "sessions": [
                {
                    "label": s.label,
                    "source": s.source,
                    "client": s.client,
                    "host": s.host,
                    "calls": s.calls,
                    "totals": s.totals,
                }
                for s in self.sessions
            ],
            "calls": self.calls,
        }
