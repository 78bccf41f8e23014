"""Captures → records in request order, as the proxy makes them: each flow's record from the
resolver (rebuilt from its bodies, else the one a live run stored; a Responses WebSocket gives
one per response), redacted, with the insights (cost, session, cache explanation) a live run
gave it or would have given it, in request order.

A `.flow` file is read twice, so that a capture of any size is never held in memory: once for
each flow's start time and place in the file, then flow by flow in request order (`-w` writes
flows as they end, not as they start). A HAR is JSON, read whole by mitmproxy. A dump folder
(`llm_dump_dir`) or a JSON Lines file (`llm.dump`) holds records already; they are redacted again.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

from mitmproxy import exceptions, http, io

from addon.insights.pipeline import Insights
from addon.proxy.commands import keep_insights
from addon.proxy.resolver import REBUILT, Resolver, Settings
from addon.proxy.websocket import flow_socket_records
from addon.record import Record
from addon.record.redact import Redactor, redact_record
from addon.sinks.metadata import socket_records, stored
from addon.wire.jsonvalue import loads_exact

Tick = Callable[[str, int, int], None]
"""Progress: (stage, done, total)."""


class CaptureError(Exception):
    """The capture cannot be read; the message is one sentence for the user."""


def _no_tick(stage: str, done: int, total: int) -> None:
    pass


def needs_insights(record: Record) -> bool:
    """A record that no live run priced or placed in a session (rebuilt from a body now)."""
    return (
        record.cost is None
        and record.cost_reason is None
        and record.session is None
        and record.cache is None
    )


def records_of_flows(
    flows: Iterable[http.HTTPFlow], resolver: Resolver, insights: Insights | None = None
) -> Iterator[Record]:
    """The records of flows given in request order (non-LLM flows give none).

    Each is rebuilt from the flow's bodies where they are there, keeping the session and cache
    explanation a live run stored (found in the order the calls came): a record read back from
    a capture file has every object's keys in reverse order (mitmproxy's tnetstring writes them
    so), and the page shows the request and response exactly as sent."""
    insights = insights or Insights()
    for flow in flows:
        if flow.websocket is not None:
            for record in socket_records_of(flow, resolver.settings):
                if needs_insights(record):
                    insights.add(record)
                yield record
            continue
        resolved = resolver.resolve(flow)
        if resolved is None:
            continue
        record, source = resolved
        earlier = stored(flow.metadata)
        if source == REBUILT and earlier is not None and not needs_insights(earlier):
            keep_insights(record, earlier)
        elif needs_insights(record):
            insights.add(record)
        yield record


def socket_records_of(flow: http.HTTPFlow, settings: Settings) -> list[Record]:
    """Every response of a Responses WebSocket flow (Codex), in the order they came, rebuilt
    from its messages where it kept them, with the insights a live run stored for each."""
    records = flow_socket_records(flow, settings, prefer_stored=False) or []
    earlier = {r.socket_index: r for r in socket_records(flow.metadata) or ()}
    for record in records:
        before = earlier.get(record.socket_index)
        if before is not None and before is not record and not needs_insights(before):
            keep_insights(record, before)
    return records


def in_request_order(flows: Iterable[object]) -> list[http.HTTPFlow]:
    chosen = [f for f in flows if isinstance(f, http.HTTPFlow)]
    return sorted(chosen, key=lambda f: f.request.timestamp_start)


def read_capture(path: Path, resolver: Resolver, tick: Tick = _no_tick) -> Iterator[Record]:
    """The records of a `.flow` file, a HAR, a dump folder or a JSON Lines file of records."""
    if path.is_dir():
        yield from _dump_folder(path, resolver.settings.redactor, tick)
        return
    try:
        file = path.open("rb")
    except OSError as exc:
        raise CaptureError(f"cannot read {path}: {exc.strerror or exc}") from None
    with file:
        head = file.read(64).lstrip(b"\xef\xbb\xbf \t\r\n")
        file.seek(0)
        if path.suffix == ".jsonl" or (head.startswith(b"{") and b'"provider"' in head):
            yield from _json_lines(file, path, resolver.settings.redactor, tick)
        elif head.startswith(b"{"):
            yield from _har(file, path, resolver, tick)
        else:
            yield from _flow_file(file, path, resolver, tick)


def _flow_file(file: BinaryIO, path: Path, resolver: Resolver, tick: Tick) -> Iterator[Record]:
    size = os.fstat(file.fileno()).st_size
    places: list[tuple[float, int]] = []
    offset = 0
    try:
        for flow in io.FlowReader(file).stream():
            if isinstance(flow, http.HTTPFlow):
                places.append((flow.request.timestamp_start, offset))
            offset = file.tell()
            tick("reading", offset, size)
    except exceptions.FlowReadException as exc:
        if not places:
            raise CaptureError(f"{path} is not a mitmproxy capture or HAR: {exc}") from None
        # A capture cut short (a proxy killed mid-write): report what is there.
    places.sort()

    def flows() -> Iterator[http.HTTPFlow]:
        for number, (_, place) in enumerate(places, 1):
            file.seek(place)
            flow = next(iter(io.FlowReader(file).stream()))
            assert isinstance(flow, http.HTTPFlow)
            yield flow
            tick("building", number, len(places))

    yield from records_of_flows(flows(), resolver)


def _har(file: BinaryIO, path: Path, resolver: Resolver, tick: Tick) -> Iterator[Record]:
    tick("reading", 0, 1)
    try:
        flows = in_request_order(io.FlowReader(file).stream())
    except exceptions.FlowReadException as exc:
        raise CaptureError(f"{path}: {exc}") from None
    tick("reading", 1, 1)

    def ticking() -> Iterator[http.HTTPFlow]:
        for number, flow in enumerate(flows, 1):
            yield flow
            tick("building", number, len(flows))

    yield from records_of_flows(ticking(), resolver)


def _stored(data: object, redactor: Redactor) -> Record | None:
    if not isinstance(data, dict) or not isinstance(data.get("provider"), str):
        return None
    return Record.from_json(redact_record(data, redactor))


def _started(record: Record) -> float:
    started = record.timing.get("started") if isinstance(record.timing, dict) else None
    return started if isinstance(started, int | float) else 0.0


def _with_insights(records: list[Record], tick: Tick) -> Iterator[Record]:
    records.sort(key=_started)
    insights = Insights()
    for number, record in enumerate(records, 1):
        if needs_insights(record):
            insights.add(record)
        yield record
        tick("building", number, len(records))


def _dump_folder(folder: Path, redactor: Redactor, tick: Tick) -> Iterator[Record]:
    """Dump files are named by request time, so they are read in request order one by one."""
    files = sorted(p for p in folder.glob("*.json") if not p.name.startswith("."))
    if not files:
        raise CaptureError(f"{folder} holds no record files (*.json)")
    insights = Insights()
    for number, file in enumerate(files, 1):
        try:
            record = _stored(loads_exact(file.read_bytes()), redactor)
        except (OSError, ValueError):
            record = None
        if record is not None:
            if needs_insights(record):
                insights.add(record)
            yield record
        tick("reading", number, len(files))


def _json_lines(file: BinaryIO, path: Path, redactor: Redactor, tick: Tick) -> Iterator[Record]:
    records = []
    for line in file:
        if line.strip():
            try:
                record = _stored(loads_exact(line), redactor)
            except ValueError:
                raise CaptureError(f"{path} holds a line that is not JSON") from None
            if record is not None:
                records.append(record)
    yield from _with_insights(records, tick)
