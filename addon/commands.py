"""The llm.* commands, for the console's command prompt and mitmweb's command bar.

    llm.dump @all ~/answers.jsonl     the records of the chosen flows, one JSON per line
    llm.rebuild @marked               rebuild again and keep the records on the flows

Records come from the rebuild addon (`rebuild_flow`), so a command builds them exactly as the
hooks do; this module only chooses flows and writes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import orjson
from mitmproxy import command, ctx, exceptions, flow, hooks, http, types

from addon.record import JSON
from addon.redact import Redactor
from addon.sinks import METADATA_KEY
from addon.sinks.dump import written_temporary

log = logging.getLogger(__name__)


class Rebuilder(Protocol):
    """What the commands need from the rebuild addon."""

    redactor: Redactor

    def rebuild_flow(self, flow: http.HTTPFlow) -> JSON | None: ...


class LLMCommands:
    def __init__(self, rebuilder: Rebuilder) -> None:
        self.rebuilder = rebuilder

    def record_of(self, chosen: flow.Flow) -> JSON | None:
        """The flow's record (rebuilt when it has none); None for flows that are not LLM calls."""
        if not isinstance(chosen, http.HTTPFlow):
            return None
        stored = chosen.metadata.get(METADATA_KEY)
        if isinstance(stored, dict):
            return redacted(stored, self.rebuilder.redactor)
        return self.rebuilder.rebuild_flow(chosen)

    @command.command("llm.dump")
    def dump(self, flows: Sequence[flow.Flow], path: types.Path) -> None:
        """Write the LLM records of the flows to a JSON Lines file (replaced if it exists)."""
        records = [r for r in map(self.record_of, flows) if r is not None]
        target = Path(path).expanduser()
        data = b"".join(
            orjson.dumps(r, option=orjson.OPT_NON_STR_KEYS, default=_plain) + b"\n" for r in records
        )
        try:
            _write_atomically(target, data)
        except OSError as exc:
            raise exceptions.CommandError(f"llm.dump: cannot write {target}: {exc}") from None
        skipped = len(flows) - len(records)
        note = f" ({skipped} flows were not LLM calls)" if skipped else ""
        log.info("llm.dump: wrote %d records to %s%s", len(records), target, note)

    @command.command("llm.rebuild")
    def rebuild(self, flows: Sequence[flow.Flow]) -> None:
        """Rebuild the LLM records of the flows from their bodies and keep them on the flows."""
        updated: list[flow.Flow] = []
        incomplete = 0
        for chosen in flows:
            if not isinstance(chosen, http.HTTPFlow):
                continue
            record = self.rebuilder.rebuild_flow(chosen)
            if record is None:
                continue
            chosen.metadata[METADATA_KEY] = record
            updated.append(chosen)
            incomplete += not record.get("complete")
        if updated:  # mitmweb and the console redraw these flows
            ctx.master.addons.trigger(hooks.UpdateHook(updated))
        log.info(
            "llm.rebuild: %d of %d flows are LLM calls, rebuilt (%d incomplete)",
            len(updated),
            len(flows),
            incomplete,
        )


def redacted(record: JSON, redactor: Redactor) -> JSON:
    """A stored record passes today's redaction again: it may come from a capture file made
    elsewhere, or before `llm_redact` named more secrets."""
    out = dict(record)
    request = out.get("request")
    if isinstance(request, dict):
        request = dict(request)
        if isinstance(request.get("headers"), dict):
            request["headers"] = redactor.header_items(request["headers"].items())
        if isinstance(request.get("url"), str):
            request["url"] = redactor.url(request["url"])
        if "body" in request:
            request["body"] = redactor.body(request["body"])
        out["request"] = request
    if isinstance(out.get("response_headers"), dict):
        out["response_headers"] = redactor.header_items(out["response_headers"].items())
    return out


def _plain(value: Any) -> Any:
    """Metadata restored from a file may hold bytes; JSON gets text."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def _write_atomically(target: Path, data: bytes) -> None:
    """A reader never sees half a file: write beside the target, then rename over it."""
    with written_temporary(os.fspath(target.parent), data, ".jsonl") as tmp:
        os.replace(tmp, target)
