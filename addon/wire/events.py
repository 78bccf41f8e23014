"""The one event shape every framing produces and every accumulator folds."""

from __future__ import annotations

from typing import NamedTuple


class Event(NamedTuple):
    """One event off the wire: a name and its data (JSON text for every LLM API).

    SSE gives `event`/`data`/`id`/`retry` as sent ("message" when unnamed); other framings put
    their own kind of name in `event` (an AWS event-stream `:event-type`, "message" for NDJSON
    lines and JSON array elements). A named tuple, so a chunk of them can be built in C.
    """

    event: str
    data: str
    id: str | None = None
    retry: int | None = None
