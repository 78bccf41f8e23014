"""WebSocket messages → events: on a Responses socket each JSON text message is one event.

mitmproxy hands every message over whole, with permessage-deflate already undone, so there is
nothing to split: the message's JSON `type` names the event and its text is the event's data,
exactly what an SSE `data:` line would have carried. The parsed object comes back too, because
whoever routes the message (which response, which lane) needs its fields.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import orjson

from addon.wire.events import Event
from addon.wire.jsonvalue import loads_exact

NOT_AN_OBJECT = "message"
"""The event name of a message that is not a JSON object with a string `type`."""
_new = tuple.__new__
"""Builds a named tuple from all its fields in C: twice as fast as calling the class, and this
runs for every message of a socket."""


class Message(NamedTuple):
    """One WebSocket message read as an event."""

    event: Event
    data: Any
    """The parsed JSON (None when the message is not JSON)."""
    kind: str | None
    """Its `type` when that is a string, else None."""
    problem: str | None
    """Why the message is no usable event (not text, not JSON, no `type`); None when it is."""


def read_message(content: bytes | str, *, is_text: bool = True) -> Message:
    """A whole message (text or binary content) as an event; never raises.

    orjson parses (the hot path, every delta); the types and ids that route a message are
    strings, so its float rounding of integers wider than 64 bits never matters here (values
    kept for the record are read again with `exact`).
    """
    if not is_text:
        size = len(content)
        return Message(Event(NOT_AN_OBJECT, ""), None, None, f"binary message ({size} bytes)")
    text = content if isinstance(content, str) else content.decode("utf-8", "replace")
    try:  # the bytes as they came: when valid UTF-8 (orjson checks) the same JSON as `text`
        data = orjson.loads(content)
    except orjson.JSONDecodeError:
        try:  # not UTF-8, or not JSON: what the text says, in orjson's words when it is not
            data = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            return Message(Event(NOT_AN_OBJECT, text), None, None, f"not JSON ({exc})")
    kind = data.get("type") if isinstance(data, dict) else None
    if not isinstance(kind, str):
        problem = "has no string `type`" if isinstance(data, dict) else "not a JSON object"
        return Message(Event(NOT_AN_OBJECT, text), data, None, problem)
    return _new(Message, (_new(Event, (kind, text, None, None)), data, kind, None))


def exact(message: Message) -> Any:
    """The message's JSON with every integer as sent (for values a record keeps)."""
    if message.data is None:
        return message.event.data or None
    try:
        return loads_exact(message.event.data)
    except ValueError:
        return message.data
