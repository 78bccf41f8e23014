"""Live overhead: the same streams through a real mitmdump, with and without llm-rebuild.

Three local processes, all on 127.0.0.1: the upstream (`benchmarks/upstream.py`), two
mitmdumps (one plain, one with `-s addon/llm_rebuild.py`), and this client. Both mitmdumps
load `passthrough.py`, which streams event streams as any SSE user of mitmproxy must (without
it mitmproxy buffers the whole answer), so the only difference between them is the addon.
Requests alternate between the two proxies, round by round, so drift hits both alike.

- CPU: mitmdump's own utime+stime (from /proc) over a blast of streams sent as fast as the
  upstream can, per MB of body.
- Delay: streams paced like a model (a chunk of 1-4 events every 2 ms). The upstream logs
  when it wrote each chunk and at which body offset the chunk ends (a side file: the bytes on
  the wire are the recorded body, unchanged); the client notes when each offset arrived.
  p50/p99 per proxy; the difference is what the addon adds.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
API_PATHS = {
    "anthropic-messages": "v1/messages",
    "openai-chat": "v1/chat/completions",
    "openai-responses": "v1/responses",
}
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, process: subprocess.Popen[Any], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process {process.args!r} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the benchmark dies, even by SIGKILL (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def stop_process(process: subprocess.Popen[Any]) -> None:
    """Terminate, then kill after 10 s; waits, so its ports are free afterwards."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc/<pid>/stat."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICK


@dataclass
class Proxy:
    name: str
    port: int
    process: subprocess.Popen[Any]
    dump_dir: Path | None
    cpu: float = 0.0
    bytes: int = 0
    paced_cpu: float = 0.0
    paced_bytes: int = 0
    delays_ns: list[int] = field(default_factory=list)

    def stop(self) -> None:
        stop_process(self.process)


def start_mitmdump(name: str, with_addon: bool, workdir: Path) -> Proxy:
    port = free_port()
    mitmdump = Path(sys.executable).parent / "mitmdump"
    scripts = ["-s", str(Path(__file__).parent / "passthrough.py")]
    dump_dir = None
    if with_addon:
        dump_dir = workdir / "dumps"
        scripts += [
            "-s",
            str(ROOT / "addon" / "llm_rebuild.py"),
            "--set",
            f"llm_dump_dir={dump_dir}",
        ]
    log = (workdir / f"{name.replace(' ', '_')}.log").open("wb")
    process = subprocess.Popen(
        [str(mitmdump), "--listen-host", "127.0.0.1", "--listen-port", str(port), *scripts],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        cwd=workdir,
        preexec_fn=_die_with_parent,
    )
    try:
        wait_port(port, process)
    except BaseException:
        stop_process(process)
        raise
    return Proxy(name, port, process, dump_dir)


@dataclass
class Rig:
    """The upstream and the two proxies, all on 127.0.0.1."""

    workdir: Path
    upstream: subprocess.Popen[Any]
    upstream_port: int
    sent_logs: Path
    """Where the upstream writes each request's send times (`<request id>.json`)."""
    proxies: list[Proxy]
    """The plain mitmdump, then the one with llm-rebuild."""


@contextmanager
def rig(files: list[Path], workdir: Path) -> Iterator[Rig]:
    """Starts the upstream serving `files` and both mitmdumps; stops all of them on the way
    out, however it is left (an error, Ctrl-C), so no process or port is left behind."""
    manifest = workdir / "upstream.json"
    manifest.write_text(json.dumps([str(p) for p in files]))
    sent_logs = workdir / "sent"
    sent_logs.mkdir(exist_ok=True)
    up_port = free_port()
    upstream = subprocess.Popen(
        [sys.executable, "-m", "benchmarks.upstream", str(up_port), str(manifest), str(sent_logs)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=ROOT,
        preexec_fn=_die_with_parent,
    )
    proxies: list[Proxy] = []
    try:
        assert upstream.stdout is not None
        upstream.stdout.readline()
        proxies.append(start_mitmdump("mitmdump", False, workdir))
        proxies.append(start_mitmdump("mitmdump + llm-rebuild", True, workdir))
        yield Rig(workdir, upstream, up_port, sent_logs, proxies)
    finally:
        for proxy in proxies:
            proxy.stop()
        if upstream.stdin is not None:
            upstream.stdin.close()  # it exits when its stdin closes
        stop_process(upstream)


class Dechunker:
    """HTTP/1.1 chunked transfer decoding, fed as bytes arrive."""

    def __init__(self) -> None:
        self.buf = bytearray()
        self.remaining = 0
        self.need_crlf = False
        self.done = False

    def feed(self, data: bytes) -> bytes:
        self.buf += data
        out = bytearray()
        while not self.done:
            if self.remaining:
                take = min(self.remaining, len(self.buf))
                out += self.buf[:take]
                del self.buf[:take]
                self.remaining -= take
                if self.remaining:
                    break
                self.need_crlf = True
            if self.need_crlf:
                if len(self.buf) < 2:
                    break
                del self.buf[:2]
                self.need_crlf = False
            end = self.buf.find(b"\r\n")
            if end < 0:
                break
            size = int(bytes(self.buf[:end]).split(b";")[0], 16)
            del self.buf[: end + 2]
            if size == 0:
                self.done = True
            self.remaining = size
        return bytes(out)


async def fetch(
    proxy_port: int, upstream_port: int, target: str, log: Path
) -> tuple[int, list[int]]:
    """One streamed request through the proxy: (body bytes received, per-chunk delays in ns)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy_port)
    writer.write(request(upstream_port, target))
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200"):
        raise RuntimeError(f"proxy answered {head[:200]!r}")
    chunked = b"chunked" in head.lower()
    dechunker = Dechunker()
    arrivals: list[tuple[int, int]] = []  # (body bytes so far, when)
    size = 0
    while True:
        data = await reader.read(1 << 18)
        now = time.monotonic_ns()
        if not data:
            break
        size += len(dechunker.feed(data) if chunked else data)
        arrivals.append((size, now))
        if chunked and dechunker.done:
            break
    writer.close()
    return size, chunk_delays(json.loads(log.read_text()), arrivals)


def request(upstream_port: int, target: str) -> bytes:
    """A streamed POST to the upstream, in the absolute form a proxy is sent."""
    body = b'{"model":"bench","stream":true,"messages":[]}'
    return (
        f"POST http://127.0.0.1:{upstream_port}{target} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{upstream_port}\r\ncontent-type: application/json\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode() + body


def chunk_delays(
    sent: list[list[int]],
    arrivals: list[tuple[int, int]],
    window: tuple[int, int] | None = None,
) -> list[int]:
    """Per chunk the upstream sent ([body offset where it ends, when]), how long until the
    client had that many body bytes (arrivals: [(body bytes so far, when)]), in ns; only the
    chunks sent within `window` when one is given."""
    delays = []
    at = 0
    for end, sent_at in sent:
        while arrivals[at][0] < end:
            at += 1
        if window is None or window[0] <= sent_at <= window[1]:
            delays.append(arrivals[at][1] - sent_at)
    return delays


def percentile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


WARM_UP_FLOWS = 3
"""Flows each proxy carries before the measured rounds."""


def run_live(
    blast: list[tuple[Path, str]],
    paced: list[tuple[Path, str]],
    rounds: int = 2,
    log: Any = print,
) -> dict[str, Any]:
    """Times the workloads through both proxies; returns CPU/MB and delay percentiles."""
    files = [path for path, _ in blast] + [path for path, _ in paced]
    with (
        tempfile.TemporaryDirectory(prefix="llm-rebuild-live-") as tmp,
        rig(files, Path(tmp)) as processes,
    ):
        proxies, up_port = processes.proxies, processes.upstream_port
        sent_logs = processes.sent_logs
        sizes = [p.stat().st_size for p in files]
        requests = iter(range(1 << 30))

        async def workload(proxy: Proxy, mode: str, limit: int | None = None) -> None:
            jobs = blast if mode == "blast" else paced
            offset = 0 if mode == "blast" else len(blast)
            for n, (_path, provider) in enumerate(jobs[:limit], start=offset):
                request_id = next(requests)
                target = f"/s/{n}/{mode}/{request_id}/{API_PATHS[provider]}"
                log = sent_logs / f"{request_id}.json"
                size, delays = await fetch(proxy.port, up_port, target, log)
                if size != sizes[n]:
                    raise RuntimeError(
                        f"{proxy.name}: stream {n} gave {size} bytes, expected {sizes[n]}"
                    )
                if mode == "blast":
                    proxy.bytes += size
                else:
                    proxy.paced_bytes += size
                    proxy.delays_ns.extend(delays)

        # Warm-up, not counted: mitmproxy opens its port before it loads the scripts, and
        # the first flows pay one-time costs (imports on first use, the first dump folder),
        # which are start-up, not the cost per MB the rounds measure.
        for proxy in proxies:
            asyncio.run(workload(proxy, "blast", WARM_UP_FLOWS))
            proxy.bytes = 0
        for r in range(rounds):
            order = proxies if r % 2 == 0 else proxies[::-1]
            for proxy in order:
                before = cpu_seconds(proxy.process.pid)
                asyncio.run(workload(proxy, "blast"))
                proxy.cpu += cpu_seconds(proxy.process.pid) - before
            for proxy in order[::-1]:
                before = cpu_seconds(proxy.process.pid)
                asyncio.run(workload(proxy, "paced"))
                proxy.paced_cpu += cpu_seconds(proxy.process.pid) - before
            log(f"  live round {r + 1}/{rounds} done")
        time.sleep(0.5)  # the last flow's response hook and dump
        result: dict[str, Any] = {"proxies": {}}
        for proxy in proxies:
            mb = proxy.bytes / 1e6
            result["proxies"][proxy.name] = {
                "cpu_seconds": proxy.cpu,
                "mb": mb,
                "cpu_s_per_mb": proxy.cpu / mb if mb else float("nan"),
                "paced_cpu_seconds": proxy.paced_cpu,
                "paced_mb": proxy.paced_bytes / 1e6,
                "paced_cpu_s_per_mb": proxy.paced_cpu / (proxy.paced_bytes / 1e6),
                "chunks": len(proxy.delays_ns),
                "delay_p50_ms": percentile(proxy.delays_ns, 0.50) / 1e6,
                "delay_p99_ms": percentile(proxy.delays_ns, 0.99) / 1e6,
            }
        dumps = proxies[1].dump_dir
        records = [json.loads(p.read_text()) for p in dumps.glob("**/*.json")] if dumps else []
        result["records"] = len(records)
        result["complete_records"] = sum(1 for r in records if r.get("complete"))
        result["flows"] = rounds * (len(blast) + len(paced))
        result["warm_up_flows"] = min(WARM_UP_FLOWS, len(blast))
        return result
