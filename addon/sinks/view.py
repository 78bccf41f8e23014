"""The "LLM rebuilt" contentview: mitmweb and the console show the answer, not SSE fragments.

Registered by the addon; its priority makes it the view both pick by themselves for the responses
of routed LLM calls. It shows a short readable summary, then the API-exact object as JSON.
Only response-side data is shown, so no credential can appear.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mitmproxy import http
from mitmproxy.contentviews import Contentview, Metadata, SyntaxHighlight

from addon.capture import FlowCapture, rebuild_response
from addon.providers import PROVIDERS
from addon.record import JSON, rebuild
from addon.routing import Router
from addon.sinks import METADATA_KEY

PRIORITY = 3.0
"""Above every built-in view (JSON is 1, GraphQL 2), so it wins for the flows it takes."""

ProviderLookup = Callable[[http.HTTPFlow], "str | None"]


def default_provider_for(flow: http.HTTPFlow) -> str | None:
    """The built-in routes, for when the view is used without the addon's options."""
    request = flow.request
    return Router().provider_for(request.pretty_host, request.port, request.path)


class LLMResponseView(Contentview):
    """Summary and rebuilt object of an LLM response: from the flow's record, a running
    stream's snapshot, or a rebuild of the body on demand (captures made without the addon)."""

    def __init__(self, provider_for: ProviderLookup = default_provider_for) -> None:
        self.provider_for = provider_for

    @property
    def name(self) -> str:
        return "LLM rebuilt"

    @property
    def syntax_highlight(self) -> SyntaxHighlight:
        return "none"

    def render_priority(self, data: bytes, metadata: Metadata) -> float:
        flow = _response_flow(metadata)
        if flow is None:
            return -1
        if _live_capture(flow) is not None or isinstance(flow.metadata.get(METADATA_KEY), dict):
            return PRIORITY
        if not data or not _looks_like_llm_body(data, metadata.content_type):
            return -1
        return PRIORITY if self._provider(flow) is not None else -1

    def prettify(self, data: bytes, metadata: Metadata) -> str:
        flow = _response_flow(metadata)
        record, source = self._record(data, metadata, flow)
        if record is None:
            raise ValueError("not the response of a routed LLM API call")
        return render(record, source)

    def _provider(self, flow: http.HTTPFlow) -> str | None:
        try:
            return self.provider_for(flow)
        except Exception:  # a view must never break mitmweb; unknown means "not ours"
            return None

    def _record(
        self, data: bytes, metadata: Metadata, flow: http.HTTPFlow | None
    ) -> tuple[JSON | None, str]:
        if flow is None:
            return None, ""
        capture = _live_capture(flow)
        if capture is not None:
            return capture.stream.snapshot(), "live"
        stored = flow.metadata.get(METADATA_KEY)
        if isinstance(stored, dict):
            return stored, "stored"
        provider = self._provider(flow)
        if provider is None:
            return None, ""
        message = metadata.http_message
        status = flow.response.status_code if flow.response else None
        if isinstance(message, http.Response) and message.raw_content is not None:
            record = rebuild_response(provider, message)
        else:
            record = rebuild(provider, data, status_code=status)
        record["status_code"] = status
        return record, "rebuilt"


def _response_flow(metadata: Metadata) -> http.HTTPFlow | None:
    """The HTTP flow when the data is its response; requests and other protocols are not ours."""
    flow = metadata.flow
    if not isinstance(flow, http.HTTPFlow) or flow.response is None:
        return None
    message = metadata.http_message
    if message is not None and message is not flow.response:
        return None
    return flow


def _live_capture(flow: http.HTTPFlow) -> FlowCapture | None:
    stream = flow.response.stream if flow.response is not None else None
    return stream if isinstance(stream, FlowCapture) else None


def _looks_like_llm_body(data: bytes, content_type: str | None) -> bool:
    """SSE or JSON: an HTML error page from a gateway is better read in its own view."""
    content_type = (content_type or "").lower()
    if content_type.startswith("text/event-stream") or "json" in content_type:
        return True
    head = data.lstrip()[:6]
    return head.startswith((b"{", b"data:", b"event:", b":"))


SOURCES = {
    "stored": "record kept by the addon",
    "rebuilt": "rebuilt from the body now",
    "live": "stream still running: what has arrived so far",
}


def render(record: JSON, source: str = "stored") -> str:
    """Summary lines, each part of the answer in order, then the API-exact object as JSON."""
    provider = str(record.get("provider"))
    response = record.get("response")
    lines = [f"provider     {provider}  ({SOURCES.get(source, source)})"]
    summary = None
    summary_error = None
    if isinstance(response, dict) and provider in PROVIDERS:
        try:
            summary = PROVIDERS[provider].summarize(response)
        except Exception as exc:  # a strange object still gets its JSON shown below
            summary_error = f"summary unavailable: {exc!r}"
    failed = isinstance(record.get("status_code"), int) and record["status_code"] >= 400
    if summary is not None and not failed:
        lines.append(f"model        {summary.model or '?'}")
        lines.append(f"stop reason  {summary.stop_reason or '-'}")
        usage = _wrap([f"{k}={v}" for k, v in _flat(summary.usage)], "             ")
        lines.append(f"usage        {usage or '-'}")
    lines.append(f"status       {_status(record, source)}")
    streamed = record.get("streamed")
    events = record.get("events")
    lines.append(f"streamed     {f'yes, {events} events' if streamed else 'no (plain JSON)'}")
    timing = _timing(record.get("timing"))
    if timing:
        lines.append(f"timing       {timing}")
    errors = [str(e) for e in record.get("errors") or []]
    if summary_error:
        errors.append(summary_error)
    for title, items in (("errors", errors), ("warnings", record.get("warnings") or [])):
        if items:
            lines.append(f"{title}:")
            lines.extend(f"  - {_short(str(item))}" for item in items)
    unknown = record.get("unknown_events") or []
    if unknown:
        names = ", ".join(sorted({str(u.get("event")) for u in unknown if isinstance(u, dict)}))
        lines.append(f"unknown events: {len(unknown)} kept in the record ({names})")
    for part in summary.parts if summary is not None else ():
        title = part.kind.replace("_", " ")
        if part.name:
            title = f"{title}: {part.name}"
        lines.append("")
        lines.append(f"── {title} ──")
        lines.append(_pretty_input(part.text) if part.kind == "tool_call" else part.text)
    lines.append("")
    lines.append("── response object (API-exact) ──")
    if response is None:
        lines.append("(nothing rebuilt yet)")
    elif isinstance(response, str):
        lines.append(response)
    else:
        lines.append(json.dumps(response, indent=2, ensure_ascii=False))
    return "\n".join(lines) + "\n"


def _status(record: JSON, source: str) -> str:
    code = record.get("status_code")
    http_part = f"HTTP {code}, " if code is not None else ""
    if source == "live":
        return f"{http_part}streaming"
    return f"{http_part}{'complete' if record.get('complete') else 'INCOMPLETE'}"


def _timing(timing: Any) -> str:
    if not isinstance(timing, dict):
        return ""
    words = []
    for key, label in (
        ("time_to_first_token", "first token"),
        ("duration", "total"),
        ("tokens_per_second", "tokens/s"),
    ):
        value = timing.get(key)
        if value is not None:
            words.append(f"{label} {value}{'' if key == 'tokens_per_second' else 's'}")
    return ", ".join(words)


def _short(text: str, limit: int = 300) -> str:
    """One line per error in the summary; the whole text stays in the record."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _wrap(words: list[str], indent: str, width: int = 80) -> str:
    lines: list[str] = []
    for word in words:
        if lines and len(lines[-1]) + 1 + len(word) <= width - len(indent):
            lines[-1] += " " + word
        else:
            lines.append(word)
    return ("\n" + indent).join(lines)


def _flat(usage: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """Nested usage (`prompt_tokens_details.cached_tokens`) on one line; nulls left out."""
    if not isinstance(usage, dict):
        return []
    out: list[tuple[str, Any]] = []
    for key, value in usage.items():
        if isinstance(value, dict):
            out.extend(_flat(value, f"{prefix}{key}."))
        elif isinstance(value, list):
            out.append((f"{prefix}{key}", json.dumps(value, separators=(",", ":"))))
        elif value is not None:
            out.append((f"{prefix}{key}", value))
    return out


def _pretty_input(arguments: str) -> str:
    """Tool input as indented JSON; arguments the model left broken are shown as they are."""
    try:
        return json.dumps(json.loads(arguments), indent=2, ensure_ascii=False)
    except ValueError:
        return f"{arguments}\n(not valid JSON)"
