"""The OpenTelemetry export: every finished record as one GenAI span, sent in the background.

    --set llm_otlp_endpoint=http://127.0.0.1:6006                       # Phoenix
    --set llm_otlp_endpoint=https://cloud.langfuse.com/api/public/otel \\
        --set llm_otlp_headers='Authorization=Basic <base64 of pk:sk>'   # Langfuse
    --set llm_otlp_content=true                                         # messages too

Spans are batched by the SDK's `BatchSpanProcessor` and sent over OTLP/HTTP (protobuf) from its
own thread: a record costs the proxy one span put on a queue. A backend that is down or refuses
the spans is one warning line (and one line when it takes spans again); records, dumps and the
flows never wait for it. Spans still queued are sent when mitmproxy shuts down (`done`).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

from mitmproxy import ctx, exceptions
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind, Status, StatusCode

from addon.proxy import options
from addon.proxy.hooks import LLMRebuild
from addon.record import Record
from addon.record.redact import Redactor
from addon.sinks.otlp import GenAISpan, span_of

log = logging.getLogger(__name__)

SERVICE = "llm-rebuild"
TRACES_PATH = "/v1/traces"
EXPORT_TIMEOUT = 5.0
"""Seconds one batch may take, retries included (the SDK's default is 10)."""
CLOSE_SECONDS = 10.0
"""At shutdown, how long queued spans may take to go out before they are given up."""
SDK_LOGGERS = (
    "opentelemetry.exporter.otlp.proto.http.trace_exporter",  # every retry, every failure
    "opentelemetry.sdk._shared_internal",  # "Queue full, dropping spans." once per span
)
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


class LLMOtlp:
    """Options and lifecycle of the exporter; subscribes to the rebuild addon's records."""

    def __init__(self, rebuilder: LLMRebuild) -> None:
        self.rebuilder = rebuilder
        self.export: SpanExport | None = None
        self.content = False
        self._running = False
        self._settings: tuple[str, dict[str, str]] = ("", {})
        rebuilder.listeners.append(self.on_record)

    def load(self, loader: Any) -> None:
        loader.add_option(
            "llm_otlp_endpoint",
            str,
            "",
            "OTLP/HTTP endpoint that gets one OpenTelemetry GenAI span per LLM call, e.g. "
            "http://127.0.0.1:4318 (/v1/traces is added). Empty: no export.",
        )
        loader.add_option(
            "llm_otlp_headers",
            Sequence[str],
            [],
            "Headers for the OTLP endpoint, NAME=VALUE or 'Name: value' (repeatable), e.g. "
            "Authorization=Basic ...; values are never logged.",
        )
        loader.add_option(
            "llm_otlp_content",
            bool,
            False,
            "Put the messages, system instructions and tool definitions on the spans "
            "(gen_ai.input.messages, ...), with credentials redacted as in dumps.",
        )
        options.reject_bad_booleans(("llm_otlp_content",))

    def running(self) -> None:
        self._running = True

    def configure(self, updated: set[str]) -> None:
        """A bad value is one sentence, as for the rebuild's own options."""
        if "llm_otlp_content" in updated:
            self.content = bool(ctx.options.llm_otlp_content)
        if not {"llm_otlp_endpoint", "llm_otlp_headers"} & updated:
            return
        try:
            endpoint = traces_url(ctx.options.llm_otlp_endpoint)
            headers = header_map(ctx.options.llm_otlp_headers)
        except ValueError as exc:
            if self._running:
                raise exceptions.OptionsError(str(exc)) from None  # type: ignore[no-untyped-call]
            log.error("llm-rebuild: %s", exc)
            return
        if (endpoint, headers) == self._settings:
            return  # e.g. mitmproxy putting the old value back after a refused one
        self.close()
        self._settings = (endpoint, headers)
        if endpoint:
            shown = self.rebuilder.settings.redactor.url(endpoint)
            self.export = SpanExport(endpoint, headers, shown)
            log.info("llm-rebuild: sending OpenTelemetry spans to %s", shown)

    def on_record(self, record: Record) -> None:
        export = self.export
        if export is not None:
            redactor = self.rebuilder.settings.redactor
            export.send(span_of(record, content=self.content, redactor=redactor))

    def done(self) -> None:
        self.close()

    def close(self) -> None:
        export, self.export = self.export, None
        self._settings = ("", {})
        if export is not None:
            export.close()


def traces_url(text: str) -> str:
    """The OTLP/HTTP traces URL for a base such as http://host:4318 ("" stays off)."""
    text = text.strip()
    if not text:
        return ""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or not _has_valid_port(parts):
        raise ValueError(
            f"llm_otlp_endpoint: {Redactor().url(text)!r} is not an http:// or https:// URL "
            "such as http://127.0.0.1:4318"
        )
    path = parts.path.rstrip("/")
    if not path.endswith(TRACES_PATH):
        path += TRACES_PATH
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def _has_valid_port(parts: SplitResult) -> bool:
    try:
        parts.port  # noqa: B018  (reading it checks it)
    except ValueError:
        return False
    return True


def header_map(specs: Sequence[str]) -> dict[str, str]:
    """`NAME=VALUE` (as in OTEL_EXPORTER_OTLP_HEADERS) or `Name: value`, whichever separator
    comes first. A mistake names the entry, never its value: it may be a key."""
    headers: dict[str, str] = {}
    for number, spec in enumerate(specs, 1):
        cuts = [i for i in (spec.find("="), spec.find(":")) if i > 0]
        name = spec[: min(cuts)].strip() if cuts else ""
        if not _TOKEN.match(name):
            raise ValueError(
                f"llm_otlp_headers: entry {number} is not NAME=VALUE or 'Name: value' "
                "(its text is not shown: it may hold a key)"
            )
        headers[name.lower()] = spec[min(cuts) + 1 :].strip()
    return headers


def resource() -> Resource:
    """`service.name` is llm-rebuild unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES say
    otherwise (they also carry a backend's project, e.g. `openinference.project.name`)."""
    detected = Resource.create()
    if str(detected.attributes.get("service.name", "")).startswith("unknown_service"):
        return detected.merge(Resource({"service.name": SERVICE}))
    return detected


def otlp_exporter(endpoint: str, headers: dict[str, str]) -> SpanExporter:
    """The SDK's OTLP/HTTP protobuf exporter, imported when an endpoint is set (it brings
    requests and protobuf: a tenth of a second at every start otherwise)."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=endpoint, headers=headers, timeout=EXPORT_TIMEOUT)


class SpanExport:
    """One tracer provider, its batch processor and the OTLP/HTTP exporter, for one endpoint."""

    def __init__(self, endpoint: str, headers: dict[str, str], shown: str) -> None:
        self.exporter = ReportingExporter(otlp_exporter(endpoint, headers), shown)
        self.provider = TracerProvider(resource=resource(), shutdown_on_exit=False)
        self.provider.add_span_processor(BatchSpanProcessor(self.exporter))
        self.tracer = self.provider.get_tracer("llm-rebuild")

    def send(self, span: GenAISpan) -> None:
        """A root span with the record's own times; the batch processor only queues it."""
        otel = self.tracer.start_span(
            span.name,
            context=Context(),
            kind=SpanKind.CLIENT,
            attributes=span.attributes,
            start_time=span.start_ns,
        )
        if span.error is not None:
            otel.set_status(Status(StatusCode.ERROR, span.error))
        otel.end(end_time=span.end_ns)

    def close(self) -> None:
        """Send what is queued, for at most CLOSE_SECONDS (a dead backend: at once)."""
        closing = threading.Thread(target=self.provider.shutdown, name="llm-otlp-close")
        closing.start()
        closing.join(1.0 if self.exporter.failing else CLOSE_SECONDS)
        if closing.is_alive():
            self.exporter.abandon()  # stops the exporter's retries: the last batch fails now
            closing.join(2.0)


class ReportingExporter(SpanExporter):
    """Wraps the OTLP exporter so a failing backend is one warning, not one per retry."""

    def __init__(self, inner: SpanExporter, shown: str) -> None:
        self.inner = inner
        self.shown = shown
        self.failing = False
        self.sent = 0
        self._closed = False
        self._messages = _Messages()
        for name in SDK_LOGGERS:
            sdk_log = logging.getLogger(name)
            sdk_log.propagate = False
            sdk_log.handlers = [self._messages]

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self._messages.start()
        try:
            result = self.inner.export(spans)
        except Exception as exc:
            result, self._messages.first = SpanExportResult.FAILURE, repr(exc)
        if result is SpanExportResult.SUCCESS:
            self.sent += len(spans)
            if self.failing:
                self.failing = False
                log.info("llm-rebuild: sending OpenTelemetry spans to %s again", self.shown)
        elif not self.failing:
            self.failing = True
            reason = _reason(self._messages.first)
            log.warning(
                "llm-rebuild: cannot send OpenTelemetry spans to %s (%s); they are dropped "
                "until it answers, records and dumps are not affected",
                self.shown,
                reason,
            )
        return result

    def abandon(self) -> None:
        self.failing = True
        self.shutdown()

    def shutdown(self) -> None:
        if not self._closed:
            self._closed = True
            self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def _reason(message: str | None) -> str:
    """The SDK's own words for a failure, without its retry talk, on one short line."""
    text = " ".join((message or "no reason given").split())
    text = text.removeprefix("Transient error ").split(" encountered while exporting")[0]
    return text if len(text) <= 300 else text[:299] + "…"


class _Messages(logging.Handler):
    """Keeps the first message the SDK logs during an export, from the exporting thread: the
    reason it failed (a "Queue full" from the proxy's thread meanwhile is not it)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.first: str | None = None
        self.thread: int | None = None

    def start(self) -> None:
        self.first, self.thread = None, threading.get_ident()

    def emit(self, record: logging.LogRecord) -> None:
        if self.first is None and record.thread == self.thread:
            try:
                self.first = record.getMessage()
            except Exception:
                self.first = str(record.msg)
