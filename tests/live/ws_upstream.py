"""A fake Responses WebSocket server on 127.0.0.1, with permessage-deflate, for live tests.

Each `response.create` is answered with a recorded Responses stream (`tests/socket_streams`):
one text message per event, a short pause between them, on the create's lane (every event
echoes its `stream_id`); lanes run at once, each lane's creates one after the other. A
`generate: false` create gets an empty completed response (a prewarm). A plan, picked by the
path `/p/<key>/...`, says which answers to give in order, whether to send Codex's
`codex.rate_limits` first, and when to cut the connection; it records what the client sent.
The 101 carries the headers Codex reads. Plain (`ws://`) and TLS (`wss://`) ports share plans.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import threading
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Request, Response

from tests.live.upstream import LoopThread, self_signed_cert
from tests.socket_streams import on_lane, payloads, prewarm_answer, rate_limits

UPGRADE_HEADERS = {
    "openai-model": "gpt-5-codex",
    "x-codex-turn-state": "ts-fake-1",
    "x-models-etag": 'W/"models-1"',
    "x-reasoning-included": "true",
}


@dataclass
class SocketPlan:
    answers: list[str]
    """Corpus streams, one per (generating) `response.create`, in the order creates come."""
    rate_limits: bool = False
    pause: float = 0.002
    cut_after: tuple[int, int] | None = None
    """(answer number, events): drop the connection after that many events of that answer."""
    key: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    received: list[Any] = field(default_factory=list)
    """Every client message, parsed."""
    extensions: str | None = None
    """The Sec-WebSocket-Extensions the server agreed to."""
    sent: dict[int, list[str]] = field(default_factory=dict)
    """Per answer number: the messages that went out."""
    closed: threading.Event = field(default_factory=threading.Event)
    _next: int = 0

    def next_answer(self) -> tuple[int, str]:
        number = self._next
        self._next += 1
        return number, self.answers[number]


class SocketUpstream(LoopThread):
    def __init__(self, cert_dir: Path) -> None:
        super().__init__(cert_dir, "fake-ws-upstream")
        self.plans: dict[str, SocketPlan] = {}
        self.servers: list[Server] = []

    async def _start(self) -> None:
        cert, key = self_signed_cert(self.cert_dir)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        options: dict[str, Any] = {
            "process_request": self._http,
            "process_response": self._upgrade,
            "compression": "deflate",
            "max_size": None,
        }
        plain = await serve(self._serve, "127.0.0.1", 0, **options)
        tls = await serve(self._serve, "127.0.0.1", 0, ssl=context, **options)
        self.servers = [plain, tls]
        self.port = plain.sockets[0].getsockname()[1]  # type: ignore[index]
        self.tls_port = tls.sockets[0].getsockname()[1]  # type: ignore[index]

    async def _stop(self) -> None:
        for server in self.servers:
            server.close()
        for server in self.servers:
            await server.wait_closed()

    def add(self, plan: SocketPlan) -> SocketPlan:
        self.plans[plan.key] = plan
        return plan

    def base(self, plan: SocketPlan, *, tls: bool = False) -> str:
        """The plan's prefix as an HTTP base URL (clients add `/v1/responses`)."""
        scheme, port = ("https", self.tls_port) if tls else ("http", self.port)
        return f"{scheme}://127.0.0.1:{port}/p/{plan.key}"

    def _plan(self, path: str) -> SocketPlan | None:
        parts = path.split("/")
        return self.plans.get(parts[2]) if len(parts) > 2 and parts[1] == "p" else None

    def _http(self, connection: ServerConnection, request: Request) -> Response | None:
        """Plain HTTP on the same port: a model list (what Codex may ask for), else 404."""
        if request.headers.get("upgrade", "").lower() == "websocket":
            return None
        if request.path.split("?")[0].endswith("/models"):
            body = json.dumps({"object": "list", "data": [], "models": []}).encode()
            headers = Headers({"content-type": "application/json"})
            return Response(200, "OK", headers, body)
        return connection.respond(HTTPStatus.NOT_FOUND, "no such path\n")

    def _upgrade(
        self, connection: ServerConnection, request: Request, response: Response
    ) -> Response:
        if response.status_code == 101:
            for name, value in UPGRADE_HEADERS.items():
                response.headers[name] = value
        return response

    async def _serve(self, connection: ServerConnection) -> None:
        plan = self._plan(connection.request.path if connection.request else "")
        if plan is None:
            await connection.close(1008, "no plan")
            return
        response = connection.response
        plan.extensions = response.headers.get("sec-websocket-extensions") if response else None
        lanes: dict[str | None, asyncio.Queue[dict[str, Any]]] = defaultdict(asyncio.Queue)
        workers: dict[str | None, asyncio.Task[None]] = {}
        try:
            async for message in connection:
                data = json.loads(message)
                plan.received.append(data)
                if data.get("type") != "response.create":
                    continue
                lane = data.get("stream_id")
                if lane not in workers:
                    workers[lane] = asyncio.create_task(self._lane(connection, plan, lanes[lane]))
                await lanes[lane].put(data)
        except Exception:  # the client went away: nothing more to send
            pass
        finally:
            for task in workers.values():
                task.cancel()
            await asyncio.gather(*workers.values(), return_exceptions=True)
            plan.closed.set()

    async def _lane(
        self, connection: ServerConnection, plan: SocketPlan, queue: asyncio.Queue[dict[str, Any]]
    ) -> None:
        while True:
            create = await queue.get()
            lane = create.get("stream_id")
            if create.get("generate") is False:
                model = str(create.get("model"))
                number, texts = -1, prewarm_answer(f"resp_warm_{uuid.uuid4().hex[:8]}", model)
            else:
                number, name = plan.next_answer()
                texts = payloads(name)
            if plan.rate_limits:
                texts = [rate_limits(), *texts]
            out = plan.sent.setdefault(number, [])
            for count, text in enumerate(on_lane(texts, lane)):
                if plan.cut_after == (number, count):
                    connection.transport.abort()  # no close frame: a broken connection
                    return
                await connection.send(text)
                out.append(text)
                await asyncio.sleep(plan.pause)
