"""The record: one typed owner for everything llm-rebuild knows about one LLM call.

Every stage writes through it (`fail`, `warn`, the fields) and every sink reads `to_json()`,
the plain JSON that goes into flow metadata, dump files and JSON Lines. Keys the code does not
know (a record from a newer version, restored from a capture) are kept as they came.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from addon.wire.jsonvalue import dumps

JSON = dict[str, Any]


@dataclass(slots=True)
class Record:
    provider: str
    flow_id: str | None = None
    complete: bool = False
    """The answer's terminal event arrived and nothing went wrong."""
    response: Any = None
    """The API-exact object (for an HTTP error: its JSON error body)."""
    errors: list[str] = field(default_factory=list)
    request: JSON | None = None
    status_code: int | None = None
    streamed: bool = False
    events: int = 0
    timing: JSON = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    """Things that looked off but lost nothing."""
    unknown_events: list[Any] = field(default_factory=list)
    response_headers: dict[str, str] | None = None
    usage: dict[str, int | None] | None = None
    """Token counts in one vocabulary for every API (see `providers.base.Usage`)."""
    extras: JSON = field(default_factory=dict)
    """What the answer carried beside the API object, never inside it."""
    cost: JSON | None = None
    """What the call cost (see `addon.insights.cost`); None when it cannot be priced."""
    cost_reason: str | None = None
    """Why `cost` is None, or what to know about it (e.g. usage from a cut stream)."""
    session: JSON | None = None
    cache: JSON | None = None
    socket_index: int | None = None
    """Which response of its WebSocket this is (0, 1, … in the order they were asked for);
    None for an HTTP call."""
    more: JSON = field(default_factory=dict)
    """Keys of a stored record that this version does not know, kept as they came."""

    def fail(self, message: str, *, first: bool = False) -> None:
        """Something was lost or went wrong: the record is no longer complete."""
        if first:
            self.errors.insert(0, message)
        else:
            self.errors.append(message)
        self.complete = False

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    @property
    def rank(self) -> tuple[bool, bool, int]:
        """How much a record holds: a stored record is never replaced by a lower-ranked one."""
        return (self.complete, self.response is not None, self.events)

    def to_json(self) -> JSON:
        out: JSON = {
            "flow_id": self.flow_id,
            "provider": self.provider,
            "complete": self.complete,
            "response": self.response,
            "errors": self.errors,
            "request": self.request,
            "status_code": self.status_code,
            "streamed": self.streamed,
            "events": self.events,
            "timing": self.timing,
            "warnings": self.warnings,
            "unknown_events": self.unknown_events,
        }
        if self.response_headers is not None:
            out["response_headers"] = self.response_headers
        out["usage"] = self.usage
        if self.extras:
            out["extras"] = self.extras
        if self.cost is not None or self.cost_reason is not None:
            out["cost"] = self.cost
        if self.cost_reason is not None:
            out["cost_reason"] = self.cost_reason
        if self.session is not None:
            out["session"] = self.session
        if self.cache is not None:
            out["cache"] = self.cache
        if self.socket_index is not None:
            out["socket_index"] = self.socket_index
        if self.more:
            out.update(self.more)
        return out

    def dumps(self, *, indent: bool = True) -> bytes:
        return dumps(self.to_json(), indent=indent) + (b"\n" if indent else b"")

    @classmethod
    def from_json(cls, data: JSON) -> Record:
        """A stored record back as a Record (lenient: wrong types fall back to defaults)."""
        record = cls(provider=str(data.get("provider")))
        known = {f.name for f in fields(cls)} - {"more"}
        for key, value in data.items():
            if key in known:
                default = getattr(record, key)
                if (
                    key in ("flow_id", "provider")
                    or default is None
                    or isinstance(value, type(default))
                ):
                    setattr(record, key, value)
            else:
                record.more[key] = value
        return record
