"""What every Responses event handler needs: the item and part an event addresses, checked,
and the tool-call fields (arguments, code, shell commands and output) that deltas extend."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from addon.providers.base import JSON, Accumulator
from addon.providers.openai_responses.state import (
    _FIELD_DELTAS,
    _FIELD_DONES,
    _PART_TYPES,
    _Item,
    _Part,
)


class Addressing(Accumulator):
    """The lookups and tool-call field handlers of `OpenAIResponses` (its state is set there)."""

    _items: dict[int, _Item]
    _done_items: dict[int, JSON]
    _reported: set[Any]
    _gaps: list[str]
    _base: JSON | None
    _final: JSON | None

    @staticmethod
    def _where(data: JSON) -> str:
        seq = data.get("sequence_number")
        return str(data.get("type")) if seq is None else f"{data.get('type')} #{seq}"

    def _problem(self, data: JSON, text: str) -> None:
        self.errors.append(f"{self._where(data)}: {text}")

    def _problem_once(self, key: Any, data: JSON, text: str) -> None:
        """For problems every later delta would repeat (an item never added)."""
        if key not in self._reported:
            self._reported.add(key)
            self._gaps.append(f"{self._where(data)}: {text}")

    def _no_base_yet(self, data: JSON) -> None:
        if self._base is None and self._final is None:
            self._problem_once(
                "no base", data, "arrived before response.created (or any response snapshot)"
            )

    def _item(self, data: JSON, item_type: str | None = None) -> _Item | None:
        """The item an event addresses; reports a missing one once, or a wrong item type."""
        index = data.get("output_index")
        item = self._items.get(index) if type(index) is int else None
        if item is None:
            self._no_base_yet(data)
            self._problem_once(
                ("missing", repr(index)), data, f"output_index {index!r} was never added"
            )
            return None
        if item_type is not None and item.item.get("type") != item_type:
            self._wrong_target(data, f"a {item.item.get('type')!r} item")
            return None
        return item

    def _wrong_target(self, data: JSON, what: str) -> None:
        """An event for something its target cannot hold: say so, keep the event."""
        self._problem(data, f"output_index {data.get('output_index')} is {what}; event kept")
        self.unknown.append({"event": data.get("type"), "data": data})

    def _string(self, data: JSON, key: str) -> str | None:
        """The text an event carries under `key`; anything else is reported and kept."""
        value = data.get(key)
        if isinstance(value, str):
            return value
        self._problem(data, f"{key} is {type(value).__name__}, not text; event kept")
        self.unknown.append({"event": data.get("type"), "data": data})
        return None

    def _index(self, data: JSON, key: str) -> int | None:
        """A part or command index; anything else would break the order of the output."""
        index = data.get(key)
        if type(index) is int and index >= 0:
            return index
        self._problem(data, f"{key} {index!r} is not an index; event kept")
        self.unknown.append({"event": data.get("type"), "data": data})
        return None

    @staticmethod
    def _items_content(item: _Item) -> dict[int, _Part] | None:
        """Content parts of an item; messages and reasoning have them even if added without."""
        if item.content is None and item.item.get("type") in ("message", "reasoning"):
            item.content = {}
        return item.content

    @staticmethod
    def _items_summary(item: _Item) -> dict[int, _Part] | None:
        """Summary parts of an item; reasoning has them even if added without."""
        if item.summary is None and item.item.get("type") == "reasoning":
            item.summary = {}
        return item.summary

    def _part(
        self,
        data: JSON,
        parts_of: Callable[[_Item], dict[int, _Part] | None],
        part_type: str,
        index_key: str = "content_index",
    ) -> _Part | None:
        """The part a text event addresses; one the stream never announced is made and reported."""
        item = self._item(data)
        if item is None:
            return None
        parts = parts_of(item)
        if parts is None:
            self._wrong_target(data, f"a {item.item.get('type')!r} item, without such parts")
            return None
        index = self._index(data, index_key)
        if index is None:
            return None
        part = parts.get(index)
        if part is None:
            if part_type not in _PART_TYPES.get(item.item.get("type"), (part_type,)):
                self._wrong_target(data, f"a {item.item.get('type')!r} item")
                return None
            self._problem(
                data,
                f"{index_key} {index} of output_index {data.get('output_index')} was never added",
            )
            part = parts[index] = _Part({"type": part_type})
        elif part.type != part_type:
            self._wrong_target(data, f"holding a {part.type!r} part at {index_key} {index}")
            return None
        return part

    def _field_delta(self, data: JSON) -> None:
        """The first delta of a field starts it from the item's value (usually "")."""
        item_type, key = _FIELD_DELTAS[data["type"]]
        item = self._item(data, item_type)
        if item is None:
            return
        delta = self._string(data, "delta")
        if delta is None:
            return
        pieces = item.fields.get(key)
        if pieces is None:
            start = item.item.get(key)
            pieces = item.fields[key] = [start if isinstance(start, str) else ""]
        pieces.append(delta)

    def _field_done(self, data: JSON) -> None:
        item_type, key = _FIELD_DONES[data["type"]]
        item = self._item(data, item_type)
        if item is None:
            return
        text = self._string(data, key)
        if text is not None:
            item.fields[key] = [text]

    # -- shell tool ----------------------------------------------------------------------

    def _shell_command(self, data: JSON) -> None:
        item = self._item(data, "shell_call")
        if item is None:
            return
        index = self._index(data, "command_index")
        if index is None:
            return
        if data["type"].endswith(".delta"):
            self.content_started = True
            delta = self._string(data, "delta")
            if delta is not None:
                item.commands.setdefault(index, [""]).append(delta)
            return
        command = self._string(data, "command")
        if command is not None:
            item.commands[index] = [command]

    def _shell_output_delta(self, data: JSON) -> None:
        item = self._item(data, "shell_call_output")
        if item is None:
            return
        index = self._index(data, "command_index")
        if index is None:
            return
        delta = data.get("delta")
        if not isinstance(delta, dict):
            self._problem(data, "delta is not an object; event kept")
            self.unknown.append({"event": data.get("type"), "data": data})
            return
        entry = item.shell_output.setdefault(index, {})
        for stream in ("stdout", "stderr"):
            text = delta.get(stream)
            if isinstance(text, str) and text:
                pieces = entry.get(stream)
                if not isinstance(pieces, list):
                    pieces = entry[stream] = [""]
                pieces.append(text)

    def _shell_output_done(self, data: JSON) -> None:
        """The done event lists the command's output; one entry is that command's whole output."""
        item = self._item(data, "shell_call_output")
        if item is None:
            return
        index = self._index(data, "command_index")
        if index is None:
            return
        output = data.get("output")
        if isinstance(output, list) and len(output) == 1 and isinstance(output[0], dict):
            entry = dict(output[0])
            for stream in ("stdout", "stderr"):
                if isinstance(entry.get(stream), str):
                    entry[stream] = [entry[stream]]
            item.shell_output[index] = entry
        else:
            self.unknown.append({"event": data.get("type"), "data": data})
