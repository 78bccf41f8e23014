"""The record of a flow, decided in one place for the hooks, the commands and the view.

Sources, in order: the answer as it ended (a finished live capture), a running capture's
snapshot, or a rebuild of the body on the flow; then one rule for a flow that errored; then a
stored record (from a live run, kept in the capture) wins over anything that holds less — a
body that was over `llm_max_body`, for one, is not on the flow, but its live record is.
"""

from __future__ import annotations

from dataclasses import dataclass

from mitmproxy import http

from addon.providers import PROVIDERS, Provider
from addon.proxy.capture import FlowCapture
from addon.proxy.flows import facts_of, live_capture, provider_of, rebuild_response
from addon.record import Record
from addon.record.flowside import StreamTimes, apply_flow_error, fill
from addon.record.redact import Redactor, redact_record
from addon.record.routing import Router
from addon.sinks.metadata import stored

LIVE = "live"
STORED = "stored"
REBUILT = "rebuilt"


@dataclass
class Settings:
    """What the options decide, shared by the addon, the resolver and the view."""

    router: Router
    redactor: Redactor


class Resolver:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def provider(self, flow: http.HTTPFlow) -> Provider | None:
        """By route; a flow routed by an earlier run (other `llm_routes`) keeps its API."""
        provider = provider_of(flow, self.settings.router)
        if provider is None:
            record = stored(flow.metadata)
            provider = PROVIDERS.get(record.provider) if record is not None else None
        return provider

    def resolve(
        self,
        flow: http.HTTPFlow,
        *,
        ended: FlowCapture | None = None,
        prefer_stored: bool = False,
    ) -> tuple[Record, str] | None:
        """The flow's record and where it came from; None when the flow is not an LLM call.

        `ended`: the flow's live capture, just finished by the hooks. `prefer_stored`: a record
        already on the flow is taken as it is (the view, `llm.dump`) rather than rebuilt.
        """
        provider = ended.answer.provider if ended is not None else self.provider(flow)
        if provider is None:
            return None
        earlier = stored(flow.metadata)
        running = live_capture(flow) if ended is None else None
        if running is not None:
            return self._fill(flow, running.snapshot(), running.times, earlier), LIVE
        if prefer_stored and earlier is not None:
            return self._redacted(earlier), STORED
        if ended is not None:
            record: Record | None = ended.finish()
            times = ended.times
        else:
            record, times = rebuild_response(flow, provider), StreamTimes()
        if record is None:
            if earlier is not None:
                return self._redacted(earlier), STORED
            record = Record(provider=provider.id)
            if flow.response is not None:
                record.fail("the response body is not on the flow")
        apply_flow_error(record, flow.error.msg if flow.error is not None else None)
        self._fill(flow, record, times, earlier)
        if earlier is not None and earlier.rank > record.rank:
            return self._redacted(earlier), STORED
        return record, REBUILT

    def _fill(
        self, flow: http.HTTPFlow, record: Record, times: StreamTimes, earlier: Record | None
    ) -> Record:
        return fill(
            record,
            facts_of(flow),
            self.settings.redactor,
            times,
            earlier.timing if earlier is not None else None,
        )

    def _redacted(self, record: Record) -> Record:
        return Record.from_json(redact_record(record.to_json(), self.settings.redactor))
