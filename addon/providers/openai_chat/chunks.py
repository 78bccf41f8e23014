"""What Chat Completions and the legacy completions share: JSON chunks ended by `[DONE]`."""

from __future__ import annotations

import orjson

from addon.providers.base import JSON, Accumulator
from addon.providers.openai_chat.merge import missing_done
from addon.wire import Event


class ChunkStream(Accumulator):
    """The parts of an OpenAI chunk fold that are the same for every chunk type (cold paths)."""

    _chunks: int
    _choices: dict[int, JSON]

    def _not_json(self, event: Event, exc: orjson.JSONDecodeError) -> None:
        data = event.data
        if data.startswith("[DONE]"):
            if self.done:
                self.errors.append("a second [DONE] arrived")
            self.done = True
        elif data.strip():  # an empty keep-alive event carries nothing
            self._chunks += 1
            self.errors.append(f"chunk #{self._chunks}: not JSON ({exc}); skipped")
            self.unknown.append({"event": event.event, "data": data})

    def finish(self) -> None:
        if not self.done:
            self.errors.append(missing_done(self._choices))
