"""What every framing offers: bytes in, events out, and what went wrong on the way."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from addon.wire.events import Event


class Framing(Protocol):
    """Cuts a decoded body into events, chunk by chunk; any chunking gives the same events.

    `feed` and `close` never raise on bad input: what could not be read is described in
    `errors` (the record is then incomplete), what looked off but lost nothing in `warnings`.
    """

    @property
    def errors(self) -> Sequence[str]: ...

    @property
    def warnings(self) -> Sequence[str]: ...

    @property
    def bytes_seen(self) -> int: ...

    def feed(self, chunk: bytes) -> list[Event]: ...

    def close(self) -> list[Event]:
        """End of body: events still held, and a note in `errors` for a cut last one."""
        ...
