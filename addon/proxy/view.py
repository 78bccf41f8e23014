"""The "LLM rebuilt" contentview: mitmweb and the console show the answer, not its fragments.

Registered by the addon; its priority makes it the view both pick by themselves for the
responses of routed LLM calls. The record comes from the resolver (a running stream's
snapshot, the stored record, or a rebuild of the body for captures made without the addon);
the text from `addon.sinks.view`.
"""

from __future__ import annotations

from mitmproxy import http
from mitmproxy.contentviews import Contentview, Metadata, SyntaxHighlight

from addon.proxy.flows import live_capture
from addon.proxy.resolver import Resolver, Settings
from addon.proxy.websocket import SocketMessages
from addon.record.redact import Redactor
from addon.record.routing import Router
from addon.sinks.metadata import METADATA_KEY
from addon.sinks.view import render

PRIORITY = 3.0
"""Above every built-in view (JSON is 1, GraphQL 2), so it wins for the flows it takes."""


class LLMResponseView(Contentview):
    def __init__(self, resolver: Resolver | None = None) -> None:
        """Without the addon's resolver, the built-in routes and redaction are used."""
        self.resolver = resolver or Resolver(Settings(Router(), Redactor()))
        self.sockets = SocketMessages(self.resolver.settings)

    @property
    def name(self) -> str:
        return "LLM rebuilt"

    @property
    def syntax_highlight(self) -> SyntaxHighlight:
        return "none"

    def render_priority(self, data: bytes, metadata: Metadata) -> float:
        if metadata.websocket_message is not None:  # a message of a Responses WebSocket
            try:
                shown = self.sockets.shows(metadata.flow, metadata.websocket_message)
            except Exception:  # as below: never break mitmweb
                return -1
            return PRIORITY if shown else -1
        flow = _response_flow(metadata)
        if flow is None:
            return -1
        if live_capture(flow) is not None or isinstance(flow.metadata.get(METADATA_KEY), dict):
            return PRIORITY
        if not data or not _looks_like_llm_body(data, metadata.content_type):
            return -1
        try:
            routed = self.resolver.provider(flow) is not None
        except Exception:  # a view must never break mitmweb; unknown means "not ours"
            return -1
        return PRIORITY if routed else -1

    def prettify(self, data: bytes, metadata: Metadata) -> str:
        message = metadata.websocket_message
        if message is not None and isinstance(metadata.flow, http.HTTPFlow):
            return self.sockets.text(metadata.flow, message, render)
        flow = _response_flow(metadata)
        resolved = self.resolver.resolve(flow, prefer_stored=True) if flow else None
        if resolved is None:
            raise ValueError("not the response of a routed LLM API call")
        return render(*resolved)


def _response_flow(metadata: Metadata) -> http.HTTPFlow | None:
    """The HTTP flow when the data is its response; requests and other protocols are not ours."""
    flow = metadata.flow
    if not isinstance(flow, http.HTTPFlow) or flow.response is None:
        return None
    message = metadata.http_message
    if message is not None and message is not flow.response:
        return None
    return flow


def _looks_like_llm_body(data: bytes, content_type: str | None) -> bool:
    """A stream or JSON: an HTML error page from a gateway is better read in its own view."""
    content_type = (content_type or "").lower()
    if content_type.startswith(("text/event-stream", "application/vnd.amazon.eventstream")):
        return True
    if "json" in content_type:
        return True
    head = data.lstrip()[:6]
    return head.startswith((b"{", b"[", b"data:", b"event:", b":"))
