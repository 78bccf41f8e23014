"""mitmproxy addon: rebuild complete LLM responses from their streams, beside the traffic.

    mitmdump -s addon/llm_rebuild.py                      # live (also mitmproxy, mitmweb)
    mitmdump -nr flows/x.flow -s addon/llm_rebuild.py     # offline, over a saved capture

Thin glue: hooks, options, routing and error containment. The work is done in `addon.record`
(bytes to record), `addon.capture` (one flow) and `addon.sinks` (where records go).
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

try:
    import addon  # noqa: F401  (installed with the project: `uv run mitmdump ...`)
except ImportError:  # a checkout used with another mitmdump: import from the repo itself
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mitmproxy import contentviews, ctx, exceptions, http
from mitmproxy.utils import human

from addon.capture import FlowCapture, is_event_stream, rebuild_response, request_info, timing
from addon.commands import LLMCommands
from addon.providers import PROVIDERS, Summary
from addon.record import JSON, new_record
from addon.redact import Redactor
from addon.routing import ROUTE_SYNTAX, Router, parse_route
from addon.sinks import METADATA_KEY
from addon.sinks.dump import DumpWriter
from addon.sinks.view import LLMResponseView

log = logging.getLogger(__name__)

DEFAULT_DUMP_DIR = "llm-dumps"


def contained(hook: Callable[[LLMRebuild, http.HTTPFlow], None]):
    """No exception of ours ever reaches mitmproxy: log it once and record it on the flow."""

    @functools.wraps(hook)
    def wrapper(self: LLMRebuild, flow: http.HTTPFlow) -> None:
        try:
            hook(self, flow)
        except Exception as exc:
            log.exception("llm-rebuild: %s hook failed for flow %s", hook.__name__, flow.id)
            try:
                ended = hook.__name__ != "responseheaders"
                self.record_failure(flow, f"llm-rebuild {hook.__name__}: {exc!r}", ended)
            except Exception:
                log.exception("llm-rebuild: could not record the failure on flow %s", flow.id)

    return wrapper


def _mitmproxy_keeps_streamed_bodies() -> bool:
    """mitmproxy stores streamed bodies itself when asked to: then we keep no second copy."""
    options = ctx.options
    return "store_streamed_bodies" in options and bool(options.store_streamed_bodies)


class LLMRebuild:
    """Watches every flow; for LLM API calls it rebuilds the response, stores and dumps it."""

    def __init__(self) -> None:
        self.router = Router()
        self.redactor = Redactor()
        self.dumps: DumpWriter | None = None
        self.max_body = 0
        self.live: dict[str, FlowCapture] = {}
        self._dump_failing = False

    def load(self, loader: Any) -> None:
        loader.add_option(
            "llm_dump_dir",
            str,
            DEFAULT_DUMP_DIR,
            "Folder for one JSON record per LLM flow (created when needed). Empty: no dump files.",
        )
        loader.add_option(
            "llm_routes",
            Sequence[str],
            [],
            f"Extra routes to LLM APIs, checked before the built-in ones: {ROUTE_SYNTAX}. "
            f"Providers: {', '.join(sorted(PROVIDERS))}.",
        )
        loader.add_option(
            "llm_max_body",
            str,
            "64m",
            "Largest streamed body kept to put back on the flow (for -w, mitmweb and replay), "
            "e.g. 64m. 0: no limit. The rebuild itself never needs the body kept.",
        )
        loader.add_option(
            "llm_redact",
            Sequence[str],
            [],
            "More header, query and JSON body field names whose values are credentials "
            "(authorization, x-api-key, cookie, key=, api_key, ... are always masked).",
        )
        loader.add_option("llm_summary", bool, True, "Log a one-line summary of every LLM flow.")
        # Re-adding a view under the same name replaces it, so script reloads are harmless.
        contentviews.add(LLMResponseView(self.provider_for))

    def configure(self, updated: set[str]) -> None:
        if "llm_routes" in updated:
            try:
                routes = tuple(parse_route(spec) for spec in ctx.options.llm_routes)
            except ValueError as exc:
                raise exceptions.OptionsError(f"llm_routes: {exc}") from None
            self.router = Router(routes)
        if "llm_max_body" in updated:
            try:
                self.max_body = human.parse_size(ctx.options.llm_max_body) or 0
            except ValueError:
                raise exceptions.OptionsError(
                    f"llm_max_body: {ctx.options.llm_max_body!r} is not a size such as 64m or 0"
                ) from None
        if "llm_redact" in updated:
            self.redactor = Redactor(ctx.options.llm_redact)
        if "llm_dump_dir" in updated:
            folder = ctx.options.llm_dump_dir
            if folder and Path(folder).exists() and not Path(folder).is_dir():
                raise exceptions.OptionsError(f"llm_dump_dir: {folder!r} is not a folder")
            self.dumps = DumpWriter(folder) if folder else None

    def record_failure(self, flow: http.HTTPFlow, message: str, ended: bool = True) -> None:
        """Our own bug still leaves a trace on an LLM flow: a record marked incomplete.

        When the flow has ended, its per-flow state is dropped and the streamed body put back.
        """
        if ended:
            self._end_stream(flow)
        record = flow.metadata.get(METADATA_KEY)
        if not isinstance(record, dict):
            provider = self.provider_for(flow)
            if provider is None:
                return
            record = new_record(provider)
            record["flow_id"] = flow.id
            flow.metadata[METADATA_KEY] = record
        record.setdefault("errors", []).append(message)
        record["complete"] = False

    def provider_for(self, flow: http.HTTPFlow) -> str | None:
        request = flow.request
        return self.router.provider_for(request.pretty_host, request.port, request.path)

    @contained
    def responseheaders(self, flow: http.HTTPFlow) -> None:
        """Live event streams: pass every chunk on at once and rebuild beside it."""
        response = flow.response
        if response is None or not flow.live or not is_event_stream(response):
            return
        if response.raw_content is not None:
            # The body is there already (an addon answered, e.g. --server-replay): mitmproxy
            # sends it whole and never calls a stream hook; `response` rebuilds it.
            return
        provider = self.provider_for(flow)
        if provider is None:
            return
        earlier = response.stream
        capture = FlowCapture(
            provider,
            response.headers.get("content-encoding", ""),
            keep_body=not _mitmproxy_keeps_streamed_bodies(),
            max_body=self.max_body,
            chain=earlier if callable(earlier) else None,
        )
        self.live[flow.id] = capture
        response.stream = capture
        # mitmproxy keeps no body while streaming, and mitmweb and the console then show
        # "Content is missing" without asking any view. An empty body lets them ask ours,
        # which shows the live snapshot; `_restore_body` puts the real body in at the end.
        response.raw_content = b""

    @contained
    def response(self, flow: http.HTTPFlow) -> None:
        if flow.error is not None and not flow.live:
            # A loaded flow that failed (cut, client gone) gets `error` after `response`
            # offline (eventsequence), but live only `error`: one record, made there.
            return
        capture = self._end_stream(flow)
        provider = capture.stream.provider if capture else self.provider_for(flow)
        if provider is None or flow.response is None:
            return
        if capture is not None:
            record = capture.finish()
        else:
            record = rebuild_response(provider, flow.response)
        self._finish(flow, provider, record, capture)

    @contained
    def error(self, flow: http.HTTPFlow) -> None:
        """Client gone or upstream cut: keep what arrived, marked incomplete unless it was whole."""
        capture = self._end_stream(flow)
        provider = capture.stream.provider if capture else self.provider_for(flow)
        if provider is None:
            return
        if capture is not None:
            record = capture.finish()
        elif flow.response is not None and flow.response.raw_content is not None:
            record = rebuild_response(provider, flow.response)
        else:
            record = new_record(provider)
        message = flow.error.msg if flow.error else "unknown error"
        if record["complete"]:
            # The answer's terminal event had arrived: nothing was lost. The openai SDK, for
            # one, closes the connection at `[DONE]`, often before the body's last framing.
            record["warnings"].append(f"flow error after the answer was complete: {message}")
        else:
            record["errors"].insert(0, f"flow error: {message}")
        self._finish(flow, provider, record, capture)

    def _end_stream(self, flow: http.HTTPFlow) -> FlowCapture | None:
        """The flow's live capture, if any, with its per-flow state dropped and the streamed
        body put back at once: -w, mitmweb and replay see the whole body whatever happens next."""
        capture = self.live.pop(flow.id, None)
        if capture is not None and flow.response is not None:
            self._restore_body(flow, capture)
        return capture

    def _restore_body(self, flow: http.HTTPFlow, capture: FlowCapture) -> None:
        assert flow.response is not None
        if capture.keep_body:  # else mitmproxy stored it itself (store_streamed_bodies)
            flow.response.raw_content = capture.body  # None when over llm_max_body
        flow.response.stream = True  # release the capture; the stream is over

    def rebuild_flow(self, flow: http.HTTPFlow) -> JSON | None:
        """A fresh record from what the flow holds now (for the llm.* commands); not stored.

        A running stream gives its snapshot; None when the flow is not an LLM call.
        """
        capture = self.live.get(flow.id)
        earlier = flow.metadata.get(METADATA_KEY)
        provider = capture.stream.provider if capture else self.provider_for(flow)
        if provider is None and isinstance(earlier, dict):
            provider = earlier.get("provider")
        if provider not in PROVIDERS:
            return None
        if capture is not None:
            record = capture.stream.snapshot()
        elif flow.response is not None and flow.response.raw_content is not None:
            record = rebuild_response(provider, flow.response)
        elif isinstance(earlier, dict):  # body not kept (llm_max_body): the record is all there is
            return earlier
        else:
            record = new_record(provider)
        if flow.error is not None:
            record["errors"].insert(0, f"flow error: {flow.error.msg}")
            record["complete"] = False
        return self.complete_record(flow, provider, record, capture)

    def _finish(
        self, flow: http.HTTPFlow, provider: str, record: JSON, capture: FlowCapture | None
    ) -> None:
        summary = summarize(provider, record["response"])
        self.complete_record(flow, provider, record, capture, summary)
        flow.metadata[METADATA_KEY] = record
        dump_file = self._dump(record, flow.request.timestamp_start)
        if ctx.options.llm_summary:
            log.info(summary_line(record, summary, dump_file))

    def complete_record(
        self,
        flow: http.HTTPFlow,
        provider: str,
        record: JSON,
        capture: FlowCapture | None = None,
        summary: Summary | None = None,
    ) -> JSON:
        """The flow's side around a rebuild: id, redacted request, status, timing, headers."""
        if summary is None:
            summary = summarize(provider, record["response"])
        earlier = flow.metadata.get(METADATA_KEY)
        record["flow_id"] = flow.id
        record["request"] = request_info(flow.request, self.redactor)
        record["status_code"] = flow.response.status_code if flow.response else None
        record["timing"] = timing(
            flow,
            capture.stream if capture else None,
            summary.usage,
            earlier.get("timing") if isinstance(earlier, dict) else None,
        )
        if flow.response is not None:
            record["response_headers"] = self.redactor.header_items(
                flow.response.headers.items(multi=True)
            )
        return record

    def _dump(self, record: JSON, timestamp: float) -> str | None:
        if self.dumps is None:
            return None
        try:
            path = self.dumps.write(record, timestamp)
        except OSError as exc:
            if not self._dump_failing:  # one clear line, not one per flow
                log.error("llm-rebuild: cannot write dumps to %s: %s", self.dumps.directory, exc)
            self._dump_failing = True
            return None
        if self._dump_failing:
            log.info("llm-rebuild: writing dumps to %s again", self.dumps.directory)
            self._dump_failing = False
        return str(path)


def summarize(provider: str, response: Any) -> Summary:
    """The readable gist of a record's response (empty for a missing or non-object one)."""
    if isinstance(response, dict):
        return PROVIDERS[provider].summarize(response)
    return Summary()


def summary_line(record: JSON, summary: Summary, dump_file: str | None) -> str:
    """provider model stop tools usage ttft duration, then what went wrong, then the file."""
    words = [f"llm {record['provider']}"]
    if isinstance(record["response"], dict) and record["status_code"] in (None, 200):
        words.append(summary.model or "?")
        words.append(f"stop={summary.stop_reason}")
        if summary.tool_calls:
            words.append("tools=" + ",".join(summary.tool_calls))
        usage = summary.usage
        tokens_in = usage.get("input_tokens", usage.get("prompt_tokens"))
        tokens_out = usage.get("output_tokens", usage.get("completion_tokens"))
        if tokens_in is not None or tokens_out is not None:
            words.append(f"tokens={tokens_in}/{tokens_out}")
    else:
        words.append(f"HTTP {record['status_code']}")
    t = record["timing"]
    if t.get("time_to_first_token") is not None:
        words.append(f"ttft={t['time_to_first_token']:.2f}s")
    if t.get("duration") is not None:
        words.append(f"{t['duration']:.2f}s")
    if record["complete"]:
        words.append("complete")
    else:
        first = record["errors"][0] if record["errors"] else "no terminal event"
        words.append(f"INCOMPLETE ({first})")
    if dump_file:
        words.append(f"-> {dump_file}")
    return " ".join(words)


rebuilder = LLMRebuild()
addons = [rebuilder, LLMCommands(rebuilder)]
