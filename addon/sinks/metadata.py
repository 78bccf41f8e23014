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


SOCKET_KEY = "llm_rebuild_ws"
"""A WebSocket flow's records: `flow.metadata["llm_rebuild_ws"]` is
`{"records": [record JSON, one per response, by socket_index], "messages": [the socket's own
messages, those that belonged to no response], "messages_kept": bool}`, saved by -w; and
`"errors"` when the addon itself failed on the socket."""


def _socket(metadata: dict[Any, Any]) -> dict[str, Any]:
    socket = metadata.get(SOCKET_KEY)
    if not isinstance(socket, dict) or not isinstance(socket.get("records"), list):
        socket = metadata[SOCKET_KEY] = {"records": [], "messages": [], "messages_kept": True}
    return socket


def store_socket_record(metadata: dict[Any, Any], record: Record) -> None:
    """One response of a WebSocket flow, in its place; a stored one with the same index is
    replaced unless it holds more (a capture read again rebuilds what its live run stored)."""
    records: list[Any] = _socket(metadata)["records"]
    index = record.socket_index if isinstance(record.socket_index, int) else len(records)
    for at, data in enumerate(records):
        held = data.get("socket_index") if isinstance(data, dict) else None
        if held == index:
            if Record.from_json(data).rank <= record.rank:
                records[at] = record.to_json()
            return
        if isinstance(held, int) and held > index:
            records.insert(at, record.to_json())
            return
    records.append(record.to_json())


def store_socket_messages(
    metadata: dict[Any, Any], messages: list[Any], *, kept: bool | None = None
) -> None:
    """The socket's own messages (those of no response); `kept`: whether the flow still holds
    every WebSocket message (off with `llm_ws_keep_messages=false`)."""
    socket = _socket(metadata)
    socket["messages"] = list(messages)
    if kept is not None:
        socket["messages_kept"] = kept


def socket_records(metadata: dict[Any, Any]) -> list[Record] | None:
    """The records saved on a WebSocket flow, by socket_index; None when it has none."""
    socket = metadata.get(SOCKET_KEY)
    if not isinstance(socket, dict) or not isinstance(socket.get("records"), list):
        return None
    return [
        Record.from_json(data)
        for data in socket["records"]
        if isinstance(data, dict) and isinstance(data.get("provider"), str)
    ]


def socket_state(metadata: dict[Any, Any]) -> dict[str, Any] | None:
    """The whole saved socket entry (records, messages, messages_kept), if any."""
    socket = metadata.get(SOCKET_KEY)
    return socket if isinstance(socket, dict) else None


def note_socket_error(metadata: dict[Any, Any], message: str) -> None:
    """Our own failure on a WebSocket flow, kept where its records are."""
    _socket(metadata).setdefault("errors", []).append(message)
