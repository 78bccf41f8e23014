"""A fake LLM API on 127.0.0.1 that replays recorded SSE bodies the way a real one sends them.

Each answer is a `Plan`: the plain SSE body is cut into small random pieces, each piece is
content-encoded on its own with a flush (as real servers do per event, so compressed streams
still arrive piece by piece), and sent as one HTTP/1.1 chunk or HTTP/2 DATA frame with a short
random pause. The plan records exactly which bytes went out and when, so tests can compare
them with what the client got. A plan is picked by the request path `/p/<key>/...`, which lets
SDK clients use it as part of their `base_url`.

The servers run on their own event loop in a background thread; `stop()` ends everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import random
import ssl
import threading
import time
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import brotli
import h2.config
import h2.connection
import h2.events
import h2.exceptions

try:
    from compression import zstd  # Python 3.14+
except ImportError:  # pragma: no cover - depends on the Python version
    from backports import zstd  # type: ignore[no-redef]

ENCODINGS = ("gzip", "deflate", "br", "zstd")


def _zlib_pieces(pieces: list[bytes], wbits: int) -> list[bytes]:
    compressor = zlib.compressobj(wbits=wbits)
    out = [compressor.compress(p) + compressor.flush(zlib.Z_SYNC_FLUSH) for p in pieces]
    out[-1] += compressor.flush(zlib.Z_FINISH)
    return out


def _brotli_pieces(pieces: list[bytes]) -> list[bytes]:
    compressor = brotli.Compressor()
    out = [compressor.process(p) + compressor.flush() for p in pieces]
    out[-1] += compressor.finish()
    return out


def _zstd_pieces(pieces: list[bytes]) -> list[bytes]:
    compressor = zstd.ZstdCompressor()
    out = [compressor.compress(p, zstd.ZstdCompressor.FLUSH_BLOCK) for p in pieces]
    out[-1] += compressor.flush(zstd.ZstdCompressor.FLUSH_FRAME)
    return out


def encode_pieces(pieces: list[bytes], encoding: str) -> list[bytes]:
    """Content-encode piece by piece with a flush after each, so every piece decodes on arrival."""
    if not encoding:
        return list(pieces)
    if encoding == "gzip":
        return _zlib_pieces(pieces, 16 + zlib.MAX_WBITS)
    if encoding == "deflate":  # HTTP's 'deflate' is the zlib format
        return _zlib_pieces(pieces, zlib.MAX_WBITS)
    if encoding == "deflate-raw":  # ... but some servers send raw deflate under that name
        return _zlib_pieces(pieces, -zlib.MAX_WBITS)
    if encoding == "br":
        return _brotli_pieces(pieces)
    if encoding == "zstd":
        return _zstd_pieces(pieces)
    raise ValueError(f"unknown encoding {encoding!r}")


def split_randomly(body: bytes, rng: random.Random, max_piece: int) -> list[bytes]:
    pieces = []
    at = 0
    while at < len(body):
        size = rng.randint(1, max_piece)
        pieces.append(body[at : at + size])
        at += size
    return pieces


@dataclass
class Plan:
    """One answer to serve, and a record of how it went out."""

    body: bytes
    encoding: str = ""
    seed: int = 0
    max_piece: int = 96
    min_pause: float = 0.0
    max_pause: float = 0.002
    # Before sending the last piece, wait until this is set (the client saw its first event).
    gate: threading.Event | None = None
    gate_timeout: float = 5.0
    # Send this many pieces, then drop the connection without ending the body.
    cut_after: int | None = None
    # After this many pieces, wait for the client to go away (and give up after stall_timeout).
    stall_after: int | None = None
    stall_timeout: float = 5.0
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)

    key: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    pieces: list[bytes] = field(init=False)
    sent: list[tuple[float, bytes]] = field(default_factory=list)  # (monotonic time, bytes)
    request: dict[str, Any] | None = None
    http_version: str | None = None
    gate_was_set: bool | None = None
    outcome: str | None = None  # "complete", "cut", "client gone"
    finished: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        plain = split_randomly(self.body, rng, self.max_piece)
        self.pieces = [p for p in encode_pieces(plain, self.encoding) if p]
        self.pauses = [rng.uniform(self.min_pause, self.max_pause) for _ in self.pieces]

    @property
    def wire_body(self) -> bytes:
        """The body bytes as they went out (still content-encoded), without transfer framing."""
        return b"".join(chunk for _, chunk in self.sent)

    @property
    def full_wire_body(self) -> bytes:
        """What the whole body would have been, had every piece gone out."""
        return b"".join(self.pieces)

    def response_headers(self) -> list[tuple[str, str]]:
        headers = {"content-type": "text/event-stream", "cache-control": "no-cache"}
        if self.encoding:
            headers["content-encoding"] = self.encoding.removesuffix("-raw")
        headers.update(self.headers)
        return list(headers.items())

    async def pause(self, index: int) -> None:
        await asyncio.sleep(self.pauses[index])

    async def before_piece(self, index: int) -> None:
        """Hold the last piece until the client has seen its first event (if asked to)."""
        if self.gate is not None and index == len(self.pieces) - 1:
            self.gate_was_set = await asyncio.to_thread(self.gate.wait, self.gate_timeout)

    def done(self, outcome: str) -> None:
        self.outcome = outcome
        self.finished.set()


NOT_FOUND = b'{"error": {"type": "not_found_error", "message": "no plan for this path"}}'


class LoopThread:
    """Servers on an event loop of their own, in a background thread: `start` opens them (a
    subclass's `_start`), `stop` closes them (`_stop`) and ends the loop and the thread."""

    def __init__(self, cert_dir: Path, name: str) -> None:
        self.cert_dir = cert_dir
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.port = 0
        self.tls_port = 0

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def start(self) -> Self:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    def stop(self) -> None:
        if not self.thread.is_alive():
            return
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    async def _start(self) -> None:
        raise NotImplementedError

    async def _stop(self) -> None:
        raise NotImplementedError


class Upstream(LoopThread):
    """HTTP/1.1 (plain) and HTTPS (HTTP/2 or HTTP/1.1 by ALPN) servers sharing one set of plans."""

    def __init__(self, cert_dir: Path) -> None:
        super().__init__(cert_dir, "fake-llm-upstream")
        self.plans: dict[str, Plan] = {}
        self.servers: list[asyncio.Server] = []
        self.tasks: set[asyncio.Task] = set()
        self.writers: set[asyncio.StreamWriter] = set()

    async def _start(self) -> None:
        plain = await asyncio.start_server(self._serve_http1, "127.0.0.1", 0)
        tls = await asyncio.start_server(
            self._serve_tls, "127.0.0.1", 0, ssl=tls_context(self.cert_dir)
        )
        self.servers = [plain, tls]
        self.port = plain.sockets[0].getsockname()[1]
        self.tls_port = tls.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        for server in self.servers:
            server.close()
        for writer in list(self.writers):
            writer.transport.abort()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def add(self, plan: Plan) -> Plan:
        self.plans[plan.key] = plan
        return plan

    def base(self, plan: Plan, tls: bool = False) -> str:
        """URL prefix of the plan on this server (without the API path)."""
        if tls:
            return f"https://127.0.0.1:{self.tls_port}/p/{plan.key}"
        return f"http://127.0.0.1:{self.port}/p/{plan.key}"

    def plan_for(self, path: str) -> Plan | None:
        parts = path.split("/")
        if len(parts) > 2 and parts[1] == "p":
            return self.plans.get(parts[2])
        return None

    def _track(self) -> Callable[[], None]:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        return lambda: self.tasks.discard(task)

    # HTTP/1.1 -----------------------------------------------------------------------------

    async def _serve_http1(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        untrack = self._track()
        self.writers.add(writer)
        try:
            while await self._one_http1_exchange(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self.writers.discard(writer)
            writer.transport.abort()
            untrack()

    async def _one_http1_exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Serve one request; False when the connection is over."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        plan = self.plan_for(target)
        if plan is None:
            writer.write(
                b"HTTP/1.1 404 Not Found\r\ncontent-type: application/json\r\n"
                + f"content-length: {len(NOT_FOUND)}\r\n\r\n".encode()
                + NOT_FOUND
            )
            await writer.drain()
            return True
        plan.request = {"method": method, "path": target, "headers": headers, "body": body}
        plan.http_version = "HTTP/1.1"
        head_lines = [f"HTTP/1.1 {plan.status} OK", "transfer-encoding: chunked"]
        head_lines += [f"{k}: {v}" for k, v in plan.response_headers()]
        writer.write(("\r\n".join(head_lines) + "\r\n\r\n").encode())
        try:
            await writer.drain()
            for index, piece in enumerate(plan.pieces):
                if plan.cut_after is not None and index == plan.cut_after:
                    plan.done("cut")
                    return False
                if plan.stall_after is not None and index == plan.stall_after:
                    await self._wait_until_gone(reader, plan)
                    return False
                await plan.before_piece(index)
                plan.sent.append((time.monotonic(), piece))
                writer.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                await writer.drain()
                await plan.pause(index)
            writer.write(b"0\r\n\r\n")
            await writer.drain()
        except ConnectionError:
            plan.done("client gone")
            return False
        plan.done("complete")
        return True

    async def _wait_until_gone(self, reader: asyncio.StreamReader, plan: Plan) -> None:
        """Send nothing more; the peer closing the connection ends the wait."""
        try:
            await asyncio.wait_for(reader.read(), plan.stall_timeout)
        except (TimeoutError, ConnectionError):
            plan.done("stalled, peer still there")
            return
        plan.done("client gone")

    # HTTPS: HTTP/2 when the client offers it, as real APIs do, else HTTP/1.1 ----------------

    async def _serve_tls(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        tls = writer.get_extra_info("ssl_object")
        if tls is not None and tls.selected_alpn_protocol() == "h2":
            await self._serve_http2(reader, writer)
        else:
            await self._serve_http1(reader, writer)

    async def _serve_http2(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        untrack = self._track()
        self.writers.add(writer)
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
        conn.initiate_connection()
        writer.write(conn.data_to_send())
        window_opened = asyncio.Event()
        streams: dict[int, dict[str, Any]] = {}
        try:
            while data := await reader.read(65536):
                for event in conn.receive_data(data):
                    if isinstance(event, h2.events.RequestReceived):
                        headers = {k.decode(): v.decode() for k, v in event.headers}
                        streams[event.stream_id] = {"headers": headers, "body": b""}
                    elif isinstance(event, h2.events.DataReceived):
                        streams[event.stream_id]["body"] += event.data
                        conn.acknowledge_received_data(
                            event.flow_controlled_length, event.stream_id
                        )
                    elif isinstance(event, h2.events.StreamEnded):
                        answer = self._answer_http2(
                            conn,
                            writer,
                            event.stream_id,
                            streams.pop(event.stream_id),
                            window_opened,
                        )
                        task = asyncio.create_task(answer)
                        self.tasks.add(task)
                        task.add_done_callback(self.tasks.discard)
                    elif isinstance(event, h2.events.WindowUpdated):
                        window_opened.set()
                writer.write(conn.data_to_send())
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            self.writers.discard(writer)
            writer.transport.abort()
            untrack()

    async def _answer_http2(
        self,
        conn: h2.connection.H2Connection,
        writer: asyncio.StreamWriter,
        stream_id: int,
        request: dict[str, Any],
        window_opened: asyncio.Event,
    ) -> None:
        headers = request["headers"]
        plan = self.plan_for(headers.get(":path", ""))
        if plan is None:
            conn.send_headers(stream_id, [(":status", "404")], end_stream=True)
            writer.write(conn.data_to_send())
            return
        plan.request = {
            "method": headers.get(":method"),
            "path": headers.get(":path"),
            "headers": headers,
            "body": request["body"],
        }
        plan.http_version = "HTTP/2"
        conn.send_headers(stream_id, [(":status", str(plan.status)), *plan.response_headers()])
        writer.write(conn.data_to_send())
        try:
            for index, piece in enumerate(plan.pieces):
                if plan.cut_after is not None and index == plan.cut_after:
                    conn.reset_stream(stream_id)
                    writer.write(conn.data_to_send())
                    plan.done("cut")
                    return
                await plan.before_piece(index)
                while conn.local_flow_control_window(stream_id) < len(piece):
                    window_opened.clear()
                    await asyncio.wait_for(window_opened.wait(), 5)
                plan.sent.append((time.monotonic(), piece))
                conn.send_data(stream_id, piece)
                writer.write(conn.data_to_send())
                await writer.drain()
                await plan.pause(index)
            conn.end_stream(stream_id)
            writer.write(conn.data_to_send())
            await writer.drain()
        except (ConnectionError, h2.exceptions.StreamClosedError):
            plan.done("client gone")
            return
        plan.done("complete")


def tls_context(cert_dir: Path) -> ssl.SSLContext:
    """A server context for 127.0.0.1 with a throw-away self-signed certificate; ALPN prefers
    h2 (HTTP/2 servers speak first, so offering only h2 would make mitmproxy see raw TCP)."""
    cert, key = self_signed_cert(cert_dir)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.set_alpn_protocols(["h2", "http/1.1"])
    return context


def self_signed_cert(cert_dir: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "fake-llm-upstream")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path = cert_dir / "upstream-cert.pem"
    key_path = cert_dir / "upstream-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
