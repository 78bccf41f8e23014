"""The addon's hooks: which flows to tee, when a record is finished, where it goes."""

from __future__ import annotations

import functools
import gc
import logging
from collections.abc import Callable
from typing import Any

from mitmproxy import contentviews, ctx, exceptions, hooks, http

from addon.insights.pipeline import Insights
from addon.proxy import options
from addon.proxy.capture import BodyTee, FlowCapture
from addon.proxy.resolver import Resolver, Settings
from addon.proxy.view import LLMResponseView
from addon.record import AnswerRebuild, Record
from addon.record.routing import Router
from addon.sinks.dump import DumpWriter
from addon.sinks.logline import summary_line
from addon.sinks.metadata import store, stored

log = logging.getLogger(__name__)
Hook = Callable[["LLMRebuild", http.HTTPFlow], None]


def contained(hook: Hook) -> Hook:
    """No exception of ours ever reaches mitmproxy: log it once, and the flow goes on."""

    @functools.wraps(hook)
    def wrapper(self: LLMRebuild, flow: http.HTTPFlow) -> None:
        try:
            hook(self, flow)
        except Exception as exc:
            log.exception("llm-rebuild: %s hook failed for flow %s", hook.__name__, flow.id)
            self.captures.pop(flow.id, None)
            self.record_failure(flow, f"llm-rebuild {hook.__name__}: {exc!r}")

    return wrapper


class LLMRebuild:
    """Watches every flow; for LLM API calls it rebuilds the response, stores and dumps it."""

    def __init__(self) -> None:
        self.settings = Settings(Router(), options.redactor(()))
        self.resolver = Resolver(self.settings)
        self.dumps: DumpWriter | None = None
        self.max_body = 0
        self.captures: dict[str, FlowCapture] = {}
        self.insights = Insights()
        self.listeners: list[Callable[[Record], None]] = []
        """Called with every finished record (after its dump), e.g. by the OTLP export."""
        self._running = False
        self._dump_failing = False

    def load(self, loader: Any) -> None:
        options.declare(loader)
        options.reject_bad_booleans()
        # Re-adding a view under the same name replaces it, so script reloads are harmless.
        contentviews.add(LLMResponseView(self.resolver))
        _settle_heap()

    def running(self) -> None:
        self._running = True

    def configure(self, updated: set[str]) -> None:
        """A bad value is one sentence: an error at start-up (mitmproxy then stops, with no
        traceback of ours), an `OptionsError` later (mitmproxy keeps the old value)."""
        try:
            self._configure(updated)
        except ValueError as exc:
            if self._running:
                raise exceptions.OptionsError(str(exc)) from None  # type: ignore[no-untyped-call]
            log.error("llm-rebuild: %s", exc)

    def _configure(self, updated: set[str]) -> None:
        o = ctx.options
        if "llm_routes" in updated:
            self.settings.router = options.router(o.llm_routes)
        if "llm_max_body" in updated:
            self.max_body = options.max_body(o.llm_max_body)
        if "llm_redact" in updated:
            self.settings.redactor = options.redactor(o.llm_redact)
        if "llm_dump_dir" in updated:
            self.dumps = options.dump_writer(o.llm_dump_dir)

    @contained
    def requestheaders(self, flow: http.HTTPFlow) -> None:
        """With `stream_large_bodies`, keep the request body that mitmproxy would not."""
        if flow.live and _streams_large_bodies() and self.resolver.provider(flow) is not None:
            flow.request.stream = BodyTee(self.max_body)

    @contained
    def request(self, flow: http.HTTPFlow) -> None:
        tee = flow.request.stream
        if isinstance(tee, BodyTee):
            flow.request.stream = False
            if flow.request.raw_content is None and not tee.dropped:
                flow.request.raw_content = tee.body

    @contained
    def responseheaders(self, flow: http.HTTPFlow) -> None:
        """Live answers: pass every chunk on at once and rebuild beside it."""
        response = flow.response
        if response is None or not flow.live or response.raw_content is not None:
            # No body to wait for: an addon answered (e.g. --server-replay) and mitmproxy
            # sends it whole without calling a stream hook; `response` rebuilds it.
            return
        provider = self.resolver.provider(flow)
        if provider is None:
            return
        content_type = response.headers.get("content-type", "")
        streamed = provider.framing_for(content_type, flow.request.path) is not None
        if not streamed and not response.stream and not _streams_large_bodies():
            return  # mitmproxy buffers the whole body; `response` rebuilds it
        answer = AnswerRebuild(
            provider,
            content_type,
            response.headers.get("content-encoding", ""),
            response.status_code,
            flow.request.path,
        )
        earlier = response.stream
        capture = FlowCapture(
            answer,
            keep_body=not (_option("store_streamed_bodies")),
            max_body=self.max_body,
            chain=earlier if callable(earlier) else None,
        )
        self.captures[flow.id] = capture
        response.stream = capture
        # mitmproxy keeps no body while streaming: mitmweb and the console then show "Content
        # is missing", or "No content" for an empty one, without asking any view. So the body
        # so far is put on the flow as it grows (where a UI shows it), and our view shows the
        # live snapshot beside it; `_end_capture` puts the whole body in at the end.
        response.raw_content = b""
        if capture.keep_body and _has_ui():
            capture.on_progress = functools.partial(_show_progress, flow, capture)

    @contained
    def response(self, flow: http.HTTPFlow) -> None:
        if flow.error is not None and not flow.live:
            return  # a loaded flow that failed gets `error` next (live: only `error`)
        self._finish(flow)

    @contained
    def error(self, flow: http.HTTPFlow) -> None:
        self._finish(flow)

    def _finish(self, flow: http.HTTPFlow) -> None:
        capture = self._end_capture(flow)
        resolved = self.resolver.resolve(flow, ended=capture)
        if resolved is not None:
            self.publish(resolved[0], flow.request.timestamp_start)
            store(flow.metadata, resolved[0])

    def _end_capture(self, flow: http.HTTPFlow) -> FlowCapture | None:
        """Drop the per-flow state and put the streamed body back on the flow at once, so
        -w, mitmweb and replay see the whole body whatever happens next."""
        capture = self.captures.pop(flow.id, None)
        if capture is not None and flow.response is not None:
            if capture.keep_body:  # else mitmproxy stored it itself (store_streamed_bodies)
                flow.response.raw_content = capture.body  # None when over llm_max_body
            flow.response.stream = True  # release the capture; the stream is over
        return capture

    def publish(self, record: Record, started: float) -> None:
        """A finished record to every sink: insights first, then dump, log line, listeners.

        The caller then stores it on its flow. Listeners (the OpenTelemetry export, …) get
        the finished record; one that fails is logged and the others still run.
        """
        self.insights.add(record)
        dump_file = self._dump(record, started)
        if ctx.options.llm_summary:
            log.info(summary_line(record, dump_file))
        for listener in self.listeners:
            try:
                listener(record)
            except Exception:
                log.exception("llm-rebuild: %r failed on a record", listener)

    def record_failure(self, flow: http.HTTPFlow, message: str) -> None:
        """Our own bug still leaves a trace on an LLM flow: its record, marked incomplete."""
        try:
            record = stored(flow.metadata)
            if record is None:
                provider = self.resolver.provider(flow)
                if provider is None:
                    return
                record = Record(provider=provider.id, flow_id=flow.id)
            record.fail(message)
            store(flow.metadata, record)
        except Exception:
            log.exception("llm-rebuild: could not record the failure on flow %s", flow.id)

    def _dump(self, record: Record, timestamp: float) -> str | None:
        if self.dumps is None:
            return None
        try:
            path = self.dumps.write(record, timestamp)
        except OSError as exc:
            if not self._dump_failing:  # one clear line, not one per flow; never fatal
                log.warning("llm-rebuild: cannot write dumps to %s: %s", self.dumps.folder, exc)
            self._dump_failing = True
            return None
        if self._dump_failing:
            log.info("llm-rebuild: writing dumps to %s again", self.dumps.folder)
            self._dump_failing = False
        return path


@functools.cache
def _settle_heap() -> None:
    """Once per process, when the script loads: load the prices, then move
    everything loaded so far out of the collector's sight.

    Loaded lazily, the prices cost the first LLM call's hook half a second (every stream
    through the proxy waits) and, soon after, a full collection over the whole heap (0.1-0.2 s
    more). Frozen at start-up, mitmproxy's, our and the price tables' objects are never
    traversed again: a full collection then walks only what flows left behind.
    """
    from addon.insights.cost import preload

    try:
        preload()
    except Exception:  # prices are an insight; the first priced record reports the fault
        log.debug("llm-rebuild: could not load the prices", exc_info=True)
    gc.collect()
    gc.freeze()


def _show_progress(flow: http.HTTPFlow, capture: FlowCapture) -> None:
    """The body so far on the flow, and mitmweb and the console told to redraw it."""
    try:
        if flow.response is not None and not capture.dropped:
            flow.response.raw_content = capture.body
            ctx.master.addons.trigger(hooks.UpdateHook([flow]))
    except Exception:  # a display nicety must never cost the stream
        log.debug("llm-rebuild: could not show the running stream", exc_info=True)


def _has_ui() -> bool:
    """mitmweb and the console keep a flow view; mitmdump has none."""
    return "view" in ctx.master.addons.lookup


def _option(name: str) -> Any:
    return getattr(ctx.options, name, None) if name in ctx.options else None


def _streams_large_bodies() -> bool:
    return bool(_option("stream_large_bodies"))
