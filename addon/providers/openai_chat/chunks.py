"""What Chat Completions and the legacy completions share: JSON chunks ended by `[DONE]`."""

from __future__ import annotations

from typing import Any, ClassVar

import orjson

from addon.providers.base import JSON, Accumulator
from addon.providers.openai_chat.merge import missing_done
from addon.providers.openai_chat.summary import describe_error
from addon.wire import Event


class ChunkStream(Accumulator):
    """The parts of an OpenAI chunk fold that are the same for every chunk type (cold paths)."""

    chunk_object: ClassVar[str]
    """The `object` every chunk of this stream carries."""
    _chunks: int
    _choices: dict[int, JSON]
    _top: JSON

    def _choices_of(self, event: Event, chunk: Any) -> list[Any] | None:
        """Count one parsed chunk and merge its top level (latest non-null value wins); the
        `choices` still to merge, or None when there are none to merge."""
        self._chunks += 1
        if type(chunk) is not dict:
            self.errors.append(f"chunk #{self._chunks}: JSON but not an object; skipped")
            self.unknown.append({"event": event.event, "data": chunk})
            return None
        if (
            "error" in chunk
            or self.done
            or chunk.get("object", self.chunk_object) != self.chunk_object
        ) and not self._merge_unusual_chunk(event, chunk):
            return None
        top = self._top
        for key, value in chunk.items():
            if value is not None:
                top[key] = value  # each fold leaves out what the answer does not carry
        choices = chunk.get("choices")
        if not choices:
            return None
        if type(choices) is not list:
            self.errors.append(f"chunk #{self._chunks}: `choices` is not a list; ignored")
            return None
        return choices

    def _merge_unusual_chunk(self, event: Event, chunk: JSON) -> bool:
        """An error, a foreign object, or a chunk after [DONE]: True if it is still merged.

        An error inside a chunk (OpenRouter's mid-stream error, with `choices` and `usage`)
        is an error of the stream, and the chunk is merged so nothing it carried is lost; a
        bare `{"error": ...}` event has nothing to merge and is kept aside.
        """
        error = chunk.get("error")
        if error:
            self.errors.append(f"chunk #{self._chunks}: error chunk: {describe_error(error)}")
            if "choices" not in chunk:
                self.unknown.append({"event": event.event, "data": chunk})
                return False
        if not self._merges_object(chunk.get("object", self.chunk_object), chunk):
            self.unknown.append({"event": event.event, "data": chunk})
            return False
        if self.done:
            self.errors.append(f"chunk #{self._chunks}: arrived after [DONE]")
        return True

    def _merges_object(self, kind: Any, chunk: JSON) -> bool:
        """Whether a chunk with this `object` is merged (others are kept aside)."""
        return bool(kind == self.chunk_object)

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
