"""Responses stream state: event tables and the items and parts being built.

Shared by the fold (`fold.py`) and the summary (`summary.py`).
"""

from __future__ import annotations

from typing import Any

from addon.providers.base import JSON

# The string that a part's deltas extend, by part type (looked up with whatever `type` came).
_TEXT_KEY: dict[Any, str] = {
    "output_text": "text",
    "refusal": "refusal",
    "reasoning_text": "text",
    "summary_text": "text",
}

# Item-level progress events: (item type they belong to, the item `status` they mean or None).
# Their `output_item.done` carries the finished item; the status only matters for a cut stream.
_PROGRESS_EVENTS: dict[str, tuple[str, str | None]] = {
    "response.web_search_call.in_progress": ("web_search_call", "in_progress"),
    "response.web_search_call.searching": ("web_search_call", "searching"),
    "response.web_search_call.completed": ("web_search_call", "completed"),
    "response.file_search_call.in_progress": ("file_search_call", "in_progress"),
    "response.file_search_call.searching": ("file_search_call", "searching"),
    "response.file_search_call.completed": ("file_search_call", "completed"),
    "response.code_interpreter_call.in_progress": ("code_interpreter_call", "in_progress"),
    "response.code_interpreter_call.interpreting": ("code_interpreter_call", "interpreting"),
    "response.code_interpreter_call.completed": ("code_interpreter_call", "completed"),
    "response.image_generation_call.in_progress": ("image_generation_call", "in_progress"),
    "response.image_generation_call.generating": ("image_generation_call", "generating"),
    "response.image_generation_call.completed": ("image_generation_call", "completed"),
    "response.image_generation_call.partial_image": ("image_generation_call", None),
    "response.mcp_call.in_progress": ("mcp_call", "in_progress"),
    "response.mcp_call.completed": ("mcp_call", "completed"),
    "response.mcp_call.failed": ("mcp_call", "failed"),
    "response.mcp_list_tools.in_progress": ("mcp_list_tools", None),
    "response.mcp_list_tools.completed": ("mcp_list_tools", None),
    "response.mcp_list_tools.failed": ("mcp_list_tools", None),
    "response.compaction.compacting": ("compaction", None),
}

# Top-level string fields of an item that grow by deltas: event -> (item type, field).
_FIELD_DELTAS: dict[str, tuple[str, str]] = {
    "response.function_call_arguments.delta": ("function_call", "arguments"),
    "response.custom_tool_call_input.delta": ("custom_tool_call", "input"),
    "response.mcp_call_arguments.delta": ("mcp_call", "arguments"),
    "response.code_interpreter_call_code.delta": ("code_interpreter_call", "code"),
}
_FIELD_DONES = {kind.replace(".delta", ".done"): field for kind, field in _FIELD_DELTAS.items()}

# Handled in `_feed` itself rather than through the handler table, for speed.
_INLINED = frozenset({"response.output_text.delta", *_FIELD_DELTAS})

# Part types a known item can hold; a text event for a part never announced makes one of these.
_PART_TYPES: dict[Any, tuple[str, ...]] = {
    "message": ("output_text", "refusal"),
    "reasoning": ("reasoning_text", "summary_text"),
}

# Items whose identity is their call id (the SDK's `_output_identity`).
_CALL_ID_ITEMS = frozenset({"function_call", "custom_tool_call", "shell_call", "shell_call_output"})

# Audio has no place in the Response object (the non-streamed answer has none either).
_AUDIO_EVENTS = frozenset(
    {
        "response.audio.delta",
        "response.audio.done",
        "response.audio.transcript.delta",
        "response.audio.transcript.done",
    }
)


def _joined(pieces: list[str]) -> str:
    """Join once; later calls (a live view called again) find a single piece."""
    if len(pieces) == 1:
        return pieces[0]
    text = "".join(pieces)
    pieces[:] = [text]
    return text


def _identity(item: JSON) -> tuple[Any, Any, Any]:
    kind = item.get("type")
    if kind in _CALL_ID_ITEMS:
        return kind, None, item.get("call_id")
    return kind, item.get("id"), item.get("call_id")


def _error_text(error: Any) -> str:
    """'code: message' from a Response `error` or a flat `error` event."""
    if isinstance(error, dict):
        text = ": ".join(str(error[k]) for k in ("code", "message") if error.get(k))
        if error.get("param"):
            text += f" (param {error['param']})"
        return text or "no details given"
    return str(error) if error else "no details given"


class _Part:
    """One content or summary part: its dict as announced, plus the text pieces since."""

    __slots__ = ("key", "logprobs", "part", "pieces", "type")

    def __init__(self, part: JSON) -> None:
        self.part = part
        self.type: Any = part.get("type")
        self.key = _TEXT_KEY.get(self.type)
        text = part.get(self.key) if self.key else None
        self.pieces: list[str] = [text] if isinstance(text, str) else [""]
        logprobs = part.get("logprobs")
        self.logprobs: list[Any] | None = list(logprobs) if isinstance(logprobs, list) else None

    def build(self) -> JSON:
        part = dict(self.part)
        if self.key is not None:
            part[self.key] = _joined(self.pieces)
        if self.logprobs is not None:
            part["logprobs"] = list(self.logprobs)
        annotations = part.get("annotations")
        if isinstance(annotations, list):
            part["annotations"] = list(annotations)
        return part


def _parts(value: Any) -> dict[int, _Part] | None:
    """Parts an item arrived with, by index; None when it has no list of part objects."""
    if isinstance(value, list) and all(isinstance(p, dict) for p in value):
        return {i: _Part(p) for i, p in enumerate(value)}
    return None


class _Item:
    """An output item being streamed: the item dict as added, plus what deltas built since."""

    __slots__ = ("commands", "content", "fields", "item", "shell_output", "summary")

    def __init__(self, item: JSON) -> None:
        self.item = item
        self.content = _parts(item.get("content"))
        self.summary = _parts(item.get("summary"))
        self.fields: dict[str, list[str]] = {}
        self.commands: dict[int, list[str]] = {}
        self.shell_output: dict[int, JSON] = {}

    def build(self) -> JSON:
        item = dict(self.item)
        if self.content is not None:
            item["content"] = [self.content[i].build() for i in sorted(self.content)]
        if self.summary is not None:
            item["summary"] = [self.summary[i].build() for i in sorted(self.summary)]
        for key, pieces in self.fields.items():
            item[key] = _joined(pieces)
        if self.commands:
            action = item.get("action")
            action = dict(action) if isinstance(action, dict) else {}
            commands = action.get("commands")
            commands = list(commands) if isinstance(commands, list) else []
            for i in sorted(self.commands):
                commands.extend([""] * (i + 1 - len(commands)))
                commands[i] = _joined(self.commands[i])
            action["commands"] = commands
            item["action"] = action
        if self.shell_output:
            outputs = item.get("output")
            outputs = list(outputs) if isinstance(outputs, list) else []
            for i in sorted(self.shell_output):
                entry = dict(self.shell_output[i])
                for stream in ("stdout", "stderr"):
                    if isinstance(entry.get(stream), list):
                        entry[stream] = _joined(entry[stream])
                outputs.extend([{}] * (i + 1 - len(outputs)))
                before = outputs[i] if isinstance(outputs[i], dict) else {}
                outputs[i] = {**before, **entry}
            item["output"] = outputs
        return item


# Which part type each text event writes to.
_DELTA_PART_TYPE = {
    "response.refusal.delta": "refusal",
    "response.refusal.done": "refusal",
    "response.reasoning_text.delta": "reasoning_text",
    "response.reasoning_text.done": "reasoning_text",
    "response.output_text.done": "output_text",
}
