"""The flow's own copy of its record: `flow.metadata["llm_rebuild"]`, saved with the flow by -w."""

from __future__ import annotations

from typing import Any

from addon.record import Record

METADATA_KEY = "llm_rebuild"


def store(metadata: dict[Any, Any], record: Record) -> None:
    metadata[METADATA_KEY] = record.to_json()


def stored(metadata: dict[Any, Any]) -> Record | None:
    """The record saved on a flow (by this or an earlier run), if it is one."""
    data = metadata.get(METADATA_KEY)
    if not isinstance(data, dict) or not isinstance(data.get("provider"), str):
        return None
    return Record.from_json(data)
