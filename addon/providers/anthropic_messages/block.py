"""A Messages content block being streamed: its fragments, joined once, and its tool input."""

from __future__ import annotations

from typing import Any

import pydantic_core

from addon.providers.base import JSON

TOOL_USE_TYPES = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})
"""Blocks whose `input` the SDK builds from `input_json_delta` (here: any block with `input`)."""

KNOWN_DELTA_TYPES = frozenset(
    {
        "text_delta",
        "input_json_delta",
        "citations_delta",
        "thinking_delta",
        "signature_delta",
        "compaction_delta",
    }
)

_STOP_FIELDS = ("stop_reason", "stop_sequence", "stop_details")
_EVENT_LEVEL_FIELDS = ("context_management", "input_transformations")


class _Block:
    """A started content block and the fragments not yet joined into it."""

    __slots__ = (
        "block",
        "delta_key",
        "delta_type",
        "dropped",
        "fast_type",
        "input_problem",
        "json_text",
        "parts",
        "type",
    )

    def __init__(self, block: JSON) -> None:
        self.block = block
        self.type: Any = block.get("type")
        # The one delta type that grows this block, and the delta key holding the fragment.
        self.delta_type: str | None = None
        self.delta_key = ""
        self.fast_type: str | None = None
        """`delta_type` once the first delta came (by the slow path, which notes first content)."""
        if self.type == "text":
            self.delta_type, self.delta_key = "text_delta", "text"
        elif self.type == "thinking":
            self.delta_type, self.delta_key = "thinking_delta", "thinking"
        elif self.type in TOOL_USE_TYPES or "input" in block:
            self.delta_type, self.delta_key = "input_json_delta", "partial_json"
        self.parts: list[Any] = []
        self.json_text = ""
        """All tool-input JSON so far; input is parsed from the whole text, like the SDK."""
        self.input_problem: str | None = None
        """Why `input` is not the whole JSON text (from the latest parse)."""
        self.dropped = 0
        """Fragments that were not text and so could not be joined."""

    @property
    def problem(self) -> str | None:
        """What went wrong with this block's content, for `errors` when the block ends."""
        notes = [self.input_problem] if self.input_problem else []
        if self.dropped:
            notes.insert(0, f"{self.dropped} non-text {self.delta_key!r} fragments were left out")
        return "; ".join(notes) or None

    def materialize(self) -> None:
        """Join pending fragments into the block (once per call, never per delta)."""
        parts = self.parts
        if not parts:
            return
        try:
            joined = "".join(parts)
        except TypeError:
            texts = [p for p in parts if isinstance(p, str)]
            self.dropped += len(parts) - len(texts)
            joined = "".join(texts)
        parts.clear()
        block = self.block
        if self.delta_key == "partial_json":
            self.json_text += joined
            if self.json_text:  # the SDK leaves `input` alone while the JSON is still empty
                self._parse_input()
            return
        base = block.get(self.delta_key)
        block[self.delta_key] = base + joined if isinstance(base, str) else joined

    def _parse_input(self) -> None:
        text = self.json_text
        # pydantic-core parses with jiter, as the SDK does: orjson would turn integers wider
        # than 64 bits into floats.
        try:
            self.block["input"] = pydantic_core.from_json(text)
            self.input_problem = None
            return
        except ValueError:
            pass
        try:
            self.block["input"] = pydantic_core.from_json(text, allow_partial=True)
            self.input_problem = (
                "input JSON is incomplete; input keeps the values that are complete "
                f"(as the SDK's partial parse); raw JSON: {text}"
            )
        except ValueError as exc:
            self.input_problem = (
                f"input JSON does not parse ({exc}); input keeps its earlier value; "
                f"raw JSON: {text}"
            )
