"""The llm.* commands, for the console's command prompt and mitmweb's command bar.

    llm.dump @all ~/answers.jsonl     the records of the chosen flows, one JSON per line
    llm.rebuild @marked               rebuild again and keep the records on the flows

Records come from the resolver, so a command gets exactly what the hooks and the view get.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from mitmproxy import command, ctx, exceptions, flow, hooks, http, types

from addon.insights.pipeline import price_of
from addon.proxy.resolver import REBUILT, Resolver
from addon.proxy.websocket import flow_socket_records, rebuild_socket, socket_provider
from addon.record import Record
from addon.sinks.jsonl import write_jsonl
from addon.sinks.metadata import (
    socket_records,
    socket_state,
    store,
    store_socket_messages,
    store_socket_record,
    stored,
)

log = logging.getLogger(__name__)


class LLMCommands:
    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver

    def records(self, flows: Sequence[flow.Flow], *, prefer_stored: bool) -> list[Record]:
        out = []
        settings = self.resolver.settings
        for chosen in flows:
            if isinstance(chosen, http.HTTPFlow) and chosen.websocket is not None:
                out += flow_socket_records(chosen, settings, prefer_stored=prefer_stored) or []
            elif isinstance(chosen, http.HTTPFlow):
                resolved = self.resolver.resolve(chosen, prefer_stored=prefer_stored)
                if resolved is not None:
                    out.append(resolved[0])
        return out

    @command.command("llm.dump")  # type: ignore[untyped-decorator]  # mitmproxy is untyped here
    def dump(self, flows: Sequence[flow.Flow], path: types.Path) -> None:
        """Write the LLM records of the flows to a JSON Lines file (replaced if it exists)."""
        records = self.records(flows, prefer_stored=True)
        target = os.path.expanduser(path)
        try:
            write_jsonl(target, records)
        except OSError as exc:
            raise exceptions.CommandError(f"llm.dump: cannot write {target}: {exc}") from None
        skipped = len(flows) - len(records)
        note = f" ({skipped} flows were not LLM calls)" if skipped else ""
        log.info("llm.dump: wrote %d records to %s%s", len(records), target, note)

    @command.command("llm.dump.session")  # type: ignore[untyped-decorator]  # mitmproxy is untyped here
    def dump_session(self, flows: Sequence[flow.Flow], session: str, path: types.Path) -> None:
        """Write the LLM records of one agent session (its `session.id`) as JSON Lines."""
        records = [
            r
            for r in self.records(flows, prefer_stored=True)
            if isinstance(r.session, dict) and r.session.get("id") == session
        ]
        target = os.path.expanduser(path)
        try:
            write_jsonl(target, records)
        except OSError as exc:
            raise exceptions.CommandError(
                f"llm.dump.session: cannot write {target}: {exc}"
            ) from None
        log.info(
            "llm.dump.session: wrote %d records of session %s to %s", len(records), session, target
        )

    @command.command("llm.rebuild")  # type: ignore[untyped-decorator]  # mitmproxy is untyped here
    def rebuild(self, flows: Sequence[flow.Flow]) -> None:
        """Rebuild the LLM records of the flows from their bodies and keep them on the flows."""
        updated: list[flow.Flow] = []
        llm_flows = rebuilt = incomplete = 0
        for chosen in flows:
            if not isinstance(chosen, http.HTTPFlow):
                continue
            if chosen.websocket is not None:
                records = self.rebuild_socket(chosen)
                if records is not None:
                    updated.append(chosen)
                    llm_flows += 1
                    rebuilt += len(records)
                    incomplete += sum(not r.complete for r in records)
                continue
            resolved = self.resolver.resolve(chosen)
            if resolved is None:
                continue
            record, source = resolved
            if source == REBUILT:  # else the stored record holds more: it stays as it is
                keep_insights(record, stored(chosen.metadata))
                store(chosen.metadata, record)
                updated.append(chosen)
            llm_flows += 1
            rebuilt += 1
            incomplete += not record.complete
        if updated:  # mitmweb and the console redraw these flows
            ctx.master.addons.trigger(hooks.UpdateHook(updated))
        log.info(
            "llm.rebuild: %d of %d flows are LLM calls, %d records rebuilt (%d incomplete)",
            llm_flows,
            len(flows),
            rebuilt,
            incomplete,
        )

    def rebuild_socket(self, flow: http.HTTPFlow) -> list[Record] | None:
        """A Responses WebSocket flow's records from its messages, stored on the flow; None
        for other flows, and for one whose messages were let go (its records stay)."""
        settings = self.resolver.settings
        saved = socket_state(flow.metadata) or {}
        if socket_provider(flow, settings) is None or saved.get("messages_kept") is False:
            return None
        rebuilt = rebuild_socket(flow, settings)
        earlier = {r.socket_index: r for r in socket_records(flow.metadata) or ()}
        for record in rebuilt.records:
            keep_insights(record, earlier.get(record.socket_index))
            store_socket_record(flow.metadata, record)
        store_socket_messages(flow.metadata, rebuilt.messages)
        return rebuilt.records


def keep_insights(record: Record, earlier: Record | None) -> None:
    """A rebuilt record is priced again; its session and cache explanation were found in the
    order the calls came, so the earlier record's are kept."""
    price_of(record)
    if earlier is not None:
        record.session = earlier.session
        record.cache = earlier.cache
