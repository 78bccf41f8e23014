"""The mitmproxy glue for Responses over a WebSocket: one record per response on the socket.

mitmproxy calls `websocket_start`, then `websocket_message` for every message (whole, with
permessage-deflate undone), then `websocket_end` — live, and again when a capture is read
(`mitmdump -nr`), so both give the same records. Which response a message belongs to is decided
by `addon.record.responses_socket`; each response is published by the rebuild addon the moment
it ends (insights, dump, log line, listeners) and kept in the flow's metadata (`SOCKET_KEY`).
The functions below the addon give the commands and the view a WebSocket flow's records.
"""

from __future__ import annotations

import functools
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import wsproto.frame_protocol
from mitmproxy import ctx, http
from mitmproxy.websocket import WebSocketMessage

from addon.providers import Provider
from addon.proxy.flows import facts_of, header_pairs
from addon.proxy.resolver import Settings
from addon.record import Record, rebuild_answer
from addon.record.flowside import FlowFacts, StreamTimes, fill
from addon.record.redact import redact_record
from addon.record.responses_socket import TERMINAL, ResponsesSocket, SocketResponse
from addon.sinks.metadata import (
    note_socket_error,
    socket_records,
    socket_state,
    store,
    store_socket_messages,
    store_socket_record,
)
from addon.wire.jsonvalue import dumps
from addon.wire.wsmessages import exact, read_message

if TYPE_CHECKING:
    from addon.proxy.hooks import LLMRebuild

log = logging.getLogger(__name__)
RESPONSES = "openai-responses"
KEEP_OPTION = "llm_ws_keep_messages"
Hook = Callable[["LLMWebSocket", http.HTTPFlow], None]


def contained(hook: Hook) -> Hook:
    """No exception of ours reaches mitmproxy: it is logged and noted on the flow (under
    `errors` of its socket entry), and the socket goes on."""

    @functools.wraps(hook)
    def wrapper(self: LLMWebSocket, flow: http.HTTPFlow) -> None:
        try:
            hook(self, flow)
        except Exception as exc:
            log.exception("llm-rebuild: %s hook failed for flow %s", hook.__name__, flow.id)
            try:
                note_socket_error(flow.metadata, f"llm-rebuild {hook.__name__}: {exc!r}")
            except Exception:
                log.exception("llm-rebuild: could not note the failure on flow %s", flow.id)

    return wrapper


class LLMWebSocket:
    """Rebuilds every response of a Responses WebSocket (`/v1/responses`, Codex's
    `/backend-api/codex/responses`, on any host, below any prefix, regular or reverse mode)."""

    def __init__(self, rebuild: LLMRebuild) -> None:
        self.rebuild = rebuild
        self.sockets: dict[str, ResponsesSocket] = {}
        """The running sockets' state, by flow id; dropped when a socket ends."""
        self.flows: dict[str, http.HTTPFlow] = {}
        """Their flows, to end them if the proxy stops first."""

    def load(self, loader: Any) -> None:
        loader.add_option(
            KEEP_OPTION,
            bool,
            True,
            "Keep every message of an LLM WebSocket on its flow (mitmproxy's way: mitmweb "
            "shows them, -w saves them, the capture can be rebuilt again). Off: each message "
            "is let go once it is read, so an hour-long Codex socket costs only its records.",
        )

    @contained
    def websocket_start(self, flow: http.HTTPFlow) -> None:
        if socket_provider(flow, self.rebuild.settings) is None:
            return
        saved = socket_state(flow.metadata)
        if not flow.live and saved is not None and saved.get("messages_kept") is False:
            return  # its messages were let go live: the records it carries are all there is
        self.sockets[flow.id] = self._new_socket(flow)
        self.flows[flow.id] = flow

    @contained
    def response(self, flow: http.HTTPFlow) -> None:
        """An upgrade to a Responses socket that the server refused (401, 426, …) is a call
        that failed: it gets the record of its HTTP error."""
        answer = flow.response
        is_upgrade = flow.request.headers.get("upgrade", "").lower() == "websocket"
        if flow.websocket is not None or answer is None or answer.status_code < 400:
            return
        provider = upgrade_provider(flow, self.rebuild.settings) if is_upgrade else None
        if provider is None or self.rebuild.resolver.provider(flow) is not None:
            return  # not ours, or (a capture read again) the rebuild addon took it by its record
        record = rebuild_answer(
            provider,
            answer.raw_content or b"",
            answer.headers.get("content-type", ""),
            answer.headers.get("content-encoding", ""),
            answer.status_code,
        )
        fill(record, facts_of(flow), self.rebuild.settings.redactor)
        self.rebuild.publish(record, flow.request.timestamp_start)
        store(flow.metadata, record)

    @contained
    def websocket_message(self, flow: http.HTTPFlow) -> None:
        assert flow.websocket is not None
        socket = self.sockets.get(flow.id)
        messages = flow.websocket.messages
        if socket is None:
            if not flow.live or socket_provider(flow, self.rebuild.settings) is None:
                return
            socket = self.sockets[flow.id] = self._new_socket(flow)
            self.flows[flow.id] = flow
            for earlier in messages[:-1]:  # loaded while the socket ran: catch up first
                self._read(flow, socket, earlier)
        self._read(flow, socket, messages[-1])
        if flow.live and not _option(KEEP_OPTION, True):
            del messages[:-1]  # mitmproxy sends the newest one after this hook: keep that

    @contained
    def websocket_end(self, flow: http.HTTPFlow) -> None:
        self._end(flow, close_problem(flow))

    def done(self) -> None:
        """The proxy stops with sockets still open: their running responses end here."""
        for flow in list(self.flows.values()):
            try:
                self._end(flow, "the proxy stopped")
            except Exception:
                log.exception("llm-rebuild: could not end the socket of flow %s", flow.id)

    def _end(self, flow: http.HTTPFlow, problem: str) -> None:
        socket = self.sockets.pop(flow.id, None)
        self.flows.pop(flow.id, None)
        if socket is None:
            return
        for finished in socket.close(_ended_at(flow), problem):
            self._publish(flow, finished)
        store_socket_messages(flow.metadata, socket.messages)

    def _new_socket(self, flow: http.HTTPFlow) -> ResponsesSocket:
        kept = not flow.live or bool(_option(KEEP_OPTION, True))
        store_socket_messages(flow.metadata, [], kept=kept)
        return ResponsesSocket(
            flow.request.timestamp_start, RESPONSES, self.rebuild.settings.redactor
        )

    def _read(
        self, flow: http.HTTPFlow, socket: ResponsesSocket, message: WebSocketMessage
    ) -> None:
        content = message.content
        for finished in socket.message(
            message.from_client, content, message.timestamp, is_text=message.is_text
        ):
            self._publish(flow, finished)

    def _publish(self, flow: http.HTTPFlow, finished: SocketResponse) -> None:
        """At once: the record is out before the socket's next message is read."""
        record = filled(flow, finished, self.rebuild.settings)
        self.rebuild.publish(record, finished.started)
        store_socket_record(flow.metadata, record)


# A WebSocket flow's records, for the hooks, the commands and the view ------------------------


def socket_provider(flow: http.HTTPFlow, settings: Settings) -> Provider | None:
    """The Responses API when the flow is a WebSocket on one of its paths (any host, any
    prefix, user routes first); None for every other flow."""
    return upgrade_provider(flow, settings) if flow.websocket is not None else None


def upgrade_provider(flow: http.HTTPFlow, settings: Settings) -> Provider | None:
    """The Responses API when the flow's request is on one of its paths (routed as a POST)."""
    request = flow.request
    provider = settings.router.provider_for(request.pretty_host, request.port, request.path)
    return provider if provider is not None and provider.id == RESPONSES else None


def filled(flow: http.HTTPFlow, finished: SocketResponse, settings: Settings) -> Record:
    """A response's record with what the proxy saw around it: the upgrade request's headers
    with the response.create as its body, the 101 and its headers, the response's own times."""
    request = flow.request
    upgrade = flow.response
    create = finished.create
    facts = FlowFacts(
        flow_id=flow.id,
        method=request.method,
        url=request.pretty_url,
        request_headers=header_pairs(request.headers),
        request_body=create.encode("utf-8", "surrogatepass") if create is not None else None,
        started=finished.started,
        request_body_note=None if create is not None else "the server began it by itself",
        status_code=upgrade.status_code if upgrade is not None else None,
        response_headers=header_pairs(upgrade.headers) if upgrade is not None else None,
        ended=finished.ended,
    )
    times = StreamTimes(finished.first_byte_at, finished.first_token_at)
    return fill(finished.record, facts, settings.redactor, times)


def close_problem(flow: http.HTTPFlow) -> str:
    """How the socket ended, in words (what a response cut by it says first)."""
    socket = flow.websocket
    if flow.error is not None:
        return f"flow error: {flow.error.msg}"
    if socket is None or socket.close_code is None:
        return "the socket ended"
    try:
        name = wsproto.frame_protocol.CloseReason(socket.close_code).name
    except ValueError:
        name = "unknown code"
    by = socket.closed_by_client
    who = "" if by is None else " by the client" if by else " by the server"
    reason = f": {socket.close_reason}" if socket.close_reason else ""
    if socket.close_code == 1006:
        return f"the connection was lost (code 1006 {name}{reason})"
    return f"the socket was closed{who} (code {socket.close_code} {name}{reason})"


def _ended_at(flow: http.HTTPFlow) -> float:
    socket = flow.websocket
    if socket is not None and socket.timestamp_end:
        return socket.timestamp_end
    if socket is not None and socket.messages:
        return socket.messages[-1].timestamp
    return time.time()


@dataclass
class RebuiltSocket:
    records: list[Record]
    """Every response, by index: the finished ones, and snapshots of those still running."""
    running: set[int]
    """The indices of the responses still running (a socket still open)."""
    messages: list[Any]
    """The socket's own messages."""


def rebuild_socket(flow: http.HTTPFlow, settings: Settings) -> RebuiltSocket:
    """Every response of a WebSocket flow again, from its messages: for captures made without
    the addon, `llm.rebuild`, and the view."""
    assert flow.websocket is not None
    socket = ResponsesSocket(flow.request.timestamp_start, RESPONSES, settings.redactor)
    finished: list[SocketResponse] = []
    for message in flow.websocket.messages:
        finished += socket.message(
            message.from_client, message.content, message.timestamp, is_text=message.is_text
        )
    running = socket.running() if flow.live else []
    if not flow.live:
        finished += socket.close(_ended_at(flow), close_problem(flow))
    every = sorted([*finished, *running], key=lambda f: f.index)
    return RebuiltSocket(
        [filled(flow, f, settings) for f in every], {f.index for f in running}, socket.messages
    )


def flow_socket_records(
    flow: http.HTTPFlow, settings: Settings, *, prefer_stored: bool
) -> list[Record] | None:
    """The records of a Responses WebSocket flow (None for other flows): those stored with it,
    or rebuilt from its messages (always when `prefer_stored` is off and it still has them)."""
    if socket_provider(flow, settings) is None:
        return None
    stored = socket_records(flow.metadata)
    saved = socket_state(flow.metadata) or {}
    if stored is not None and (prefer_stored or saved.get("messages_kept") is False):
        # A capture made elsewhere, or before `llm_redact` named more: today's redaction.
        return [Record.from_json(redact_record(r.to_json(), settings.redactor)) for r in stored]
    return rebuild_socket(flow, settings).records


class SocketMessages:
    """The view's part for WebSocket messages: the rebuilt response where its socket message
    is (the message that ended it, and the response.create that asked for it)."""

    CACHED_FLOWS = 8

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._rebuilt: OrderedDict[tuple[str, int], RebuiltSocket] = OrderedDict()

    def shows(self, flow: Any, message: WebSocketMessage) -> bool:
        """A response.create, or the message that ended a response, on a Responses socket."""
        if not isinstance(flow, http.HTTPFlow) or socket_provider(flow, self.settings) is None:
            return False
        kind = read_message(message.content, is_text=message.is_text).kind
        if message.from_client:
            return kind == "response.create"
        return kind in TERMINAL or kind == "error"

    def text(
        self, flow: http.HTTPFlow, message: WebSocketMessage, render: Callable[[Record, str], str]
    ) -> str:
        """`render` is the record's text (`addon.sinks.view.render`)."""
        read = read_message(message.content, is_text=message.is_text)
        pretty = dumps(exact(read), indent=True).decode("utf-8", "replace")
        found = self._record_at(flow, message) if self.shows(flow, message) else None
        if found is None:
            return f"{read.kind or 'message'}\n\n{pretty}\n"
        record, source = found
        beside = record.extras.get("websocket") or {}
        title = f"response #{record.socket_index} of this socket"
        if beside.get("lane"):
            title += f", lane {beside['lane']}"
        if message.from_client:
            span = beside.get("span") or [None, None]
            where = "is still running" if source == "live" else f"ends at message {span[1]}"
            head = f"{title}: asked for here; it {where}"
        else:
            head = f"{title}: it ended here"
        side = [str(m.get("type")) for m in beside.get("messages") or () if isinstance(m, dict)]
        if side:
            head += f"\nbeside it: {', '.join(side)} (in extras.websocket.messages)"
        if not message.from_client:
            return f"{head}\n\n{render(record, source)}"
        return f"{head}\n\n{render(record, source)}\n── response.create ──\n{pretty}\n"

    def _record_at(
        self, flow: http.HTTPFlow, message: WebSocketMessage
    ) -> tuple[Record, str] | None:
        """The record whose first or last message this is: the stored one, else rebuilt."""
        assert flow.websocket is not None
        position = next((i for i, m in enumerate(flow.websocket.messages) if m is message), None)
        if position is None:
            return None
        for record in socket_records(flow.metadata) or ():
            if position in ((record.extras.get("websocket") or {}).get("span") or ()):
                return record, "stored"
        rebuilt = self._rebuild(flow)
        for record in rebuilt.records:
            if position in ((record.extras.get("websocket") or {}).get("span") or ()):
                return record, "live" if record.socket_index in rebuilt.running else "rebuilt"
        return None

    def _rebuild(self, flow: http.HTTPFlow) -> RebuiltSocket:
        """Once per flow and message count: mitmweb asks for every message in turn."""
        assert flow.websocket is not None
        key = (flow.id, len(flow.websocket.messages))
        rebuilt = self._rebuilt.get(key)
        if rebuilt is None:
            rebuilt = self._rebuilt[key] = rebuild_socket(flow, self.settings)
            if len(self._rebuilt) > self.CACHED_FLOWS:
                self._rebuilt.popitem(last=False)
        return rebuilt


def _option(name: str, default: Any) -> Any:
    return getattr(ctx.options, name) if name in ctx.options else default
