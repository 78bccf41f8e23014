"""The ceiling: how much one mitmdump carries with llm-rebuild, against one without it.

    uv run python -m benchmarks.ceiling            # about 4-6 minutes
    uv run python -m benchmarks.ceiling --quick    # one round, smaller levels (about 1 minute)

The processes of `benchmarks/live.py`, all on 127.0.0.1: the upstream (`benchmarks/upstream.py`,
one asyncio process), the plain mitmdump and the one with `-s addon/llm_rebuild.py` (both load
`passthrough.py`), and this client (one asyncio process; per chunk it only notes the bytes and
the time, everything else is done after a phase). The proxies take turns, never both at once,
and the order alternates, so on a 2-core machine a proxy shares the cores only with the
upstream and the client; their CPU is measured (from /proc) and reported beside the proxy's.

- Paced streams (the delay): N streams at once (64, 256, 1,000), each a generated chat,
  Anthropic or Responses answer (text, thinking or tool; `benchmarks/streams.py`, 100 deltas)
  sent a chunk of 1-4 events every 50 ms. That is 20-80 events a second per stream, the rate
  a model generates tokens at (one event is about one token), so 1,000 streams are 1,000 users
  watching an answer being written. Each worker runs three streams back to back, the workers'
  starts spread over one stream's length, and only chunks sent while all N ran count. Per
  chunk: when the upstream wrote it (its side file) to when its last byte reached the client;
  p50/p99 per proxy, and the difference is what the addon adds. A proxy carries N streams
  when all of them arrive whole and its p99 delay is under one pace gap (it keeps up).
- Throughput (the ceiling): C clients at once each fetch 2k-delta streams as fast as the
  upstream sends them, C = 1, 2, 4, ... until the plain mitmdump uses a whole core and its MB/s
  stops rising; the MB/s each proxy carries at its best level, and the ratio.

`run_ceiling(plan)` returns the rows and the target verdicts (for `python -m benchmarks`); raw
numbers go to benchmarks/.cache/ceiling.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks import streams
from benchmarks.live import (
    API_PATHS,
    Dechunker,
    Proxy,
    Rig,
    chunk_delays,
    cpu_seconds,
    percentile,
    request,
    rig,
)
from benchmarks.streams import APIS, KINDS, SHORT_API
from benchmarks.upstream import event_chunks

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
PACE_MS = 50
PACED_DELTAS = 100
BLAST_DELTAS = 2_000
END = b"0\r\n\r\n"
"""The last chunk of a chunked body (no SSE body ends so: its events end in blank lines)."""


@dataclass
class Plan:
    levels: tuple[int, ...] = (64, 256, 1000)
    """Concurrent paced streams."""
    pace_ms: int = PACE_MS
    rounds: int = 2
    """Paced rounds per level and proxy (the proxies alternate who goes first)."""
    per_worker: int = 3
    """Paced streams each worker runs back to back."""
    blast_levels: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64)
    blast_seconds: float = 4.0
    log: Callable[[str], None] = field(default=lambda message: None, repr=False)


# --- the client --------------------------------------------------------------------------


class _Fetch(asyncio.Protocol):
    """One request through the proxy; per arrival only the bytes and the time are kept."""

    def __init__(self, request: bytes, done: asyncio.Future[None]) -> None:
        self.request = request
        self.done = done
        self.pieces: list[bytes] = []
        self.times: list[int] = []
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.pieces.append(data)
        self.times.append(time.monotonic_ns())
        if data.endswith(END) and self.transport is not None:
            self.transport.close()
            if not self.done.done():
                self.done.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)  # the body check says whether it was whole


@dataclass
class Fetched:
    file: int
    request_id: int
    pieces: list[bytes]
    times: list[int]
    started: int
    ended: int


async def fetch(
    proxy: Proxy, up_port: int, file: int, mode: str, provider: str, rid: int
) -> Fetched:
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    message = request(up_port, f"/s/{file}/{mode}/{rid}/{API_PATHS[provider]}")
    started = time.monotonic_ns()
    transport, protocol = await loop.create_connection(
        lambda: _Fetch(message, done), "127.0.0.1", proxy.port
    )
    try:
        await done
    finally:
        transport.close()
    return Fetched(file, rid, protocol.pieces, protocol.times, started, time.monotonic_ns())


def body_arrivals(fetched: Fetched) -> tuple[int, list[tuple[int, int]]]:
    """(body size, [(body bytes so far, when)]) of a fetched answer; raises if it is not a
    whole 200 chunked answer."""
    raw = b"".join(fetched.pieces)
    head_end = raw.find(b"\r\n\r\n") + 4
    if not raw.startswith(b"HTTP/1.1 200") or head_end < 4:
        raise RuntimeError(f"proxy answered {raw[:200]!r}")
    dechunker = Dechunker()
    arrivals = []
    size = at = 0
    for piece, when in zip(fetched.pieces, fetched.times, strict=True):
        start = max(0, head_end - at)
        at += len(piece)
        if start < len(piece):
            size += len(dechunker.feed(piece[start:]))
        arrivals.append((size, when))
    if not dechunker.done:
        raise RuntimeError(f"request {fetched.request_id}: the answer ended early ({size} B)")
    return size, arrivals


# --- phases --------------------------------------------------------------------------------


@dataclass
class Jobs:
    files: list[Path]
    providers: list[str]
    sizes: list[int]
    chunks: list[int]
    paced: list[int]
    """Indices of the paced streams in `files`."""
    blast: list[int]


def make_jobs() -> Jobs:
    """The generated streams, written once to benchmarks/.cache (same bytes every run)."""
    folder = CACHE / "ceiling-streams"
    folder.mkdir(parents=True, exist_ok=True)
    jobs = Jobs([], [], [], [], [], [])
    for deltas, kept in ((PACED_DELTAS, jobs.paced), (BLAST_DELTAS, jobs.blast)):
        for provider in APIS:
            for kind in KINDS:
                path = folder / f"{SHORT_API[provider]}-{kind}-{deltas}.sse"
                stream = streams.generated(provider, kind, deltas)
                if not path.exists() or path.read_bytes() != stream.bodies[0]:
                    path.write_bytes(stream.bodies[0])
                kept.append(len(jobs.files))
                jobs.files.append(path)
                jobs.providers.append(provider)
                jobs.sizes.append(len(stream.bodies[0]))
                jobs.chunks.append(len(event_chunks(stream.bodies[0], len(jobs.files) - 1)))
    return jobs


def waited_seconds(pid: int) -> float:
    """How long the process's threads were ready to run but had no core (schedstat's run-queue
    wait): on a shared machine, the delay that is the machine's, not the proxy's."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError, IndexError, ValueError):  # a thread that just ended
            total += int((task / "schedstat").read_text().split()[1])
    return total / 1e9


@dataclass
class Usage:
    """CPU seconds of each process over one phase, its wall time, and the proxy's wait."""

    wall: float
    proxy: float
    upstream: float
    client: float
    proxy_waited: float

    def cores(self) -> dict[str, float]:
        w = self.wall or float("nan")
        return {
            "proxy": self.proxy / w,
            "upstream": self.upstream / w,
            "client": self.client / w,
            "proxy_waited": self.proxy_waited / w,
        }


class Meter:
    def __init__(self, setup: Rig, proxy: Proxy) -> None:
        self.pids = (proxy.process.pid, setup.upstream.pid, os.getpid())
        self.start = time.monotonic()
        self.cpu = [cpu_seconds(p) for p in self.pids]
        self.waited = waited_seconds(self.pids[0])

    def stop(self) -> Usage:
        proxy, upstream, client = (
            cpu_seconds(p) - c for p, c in zip(self.pids, self.cpu, strict=True)
        )
        waited = waited_seconds(self.pids[0]) - self.waited
        return Usage(time.monotonic() - self.start, proxy, upstream, client, waited)


_request_ids = iter(range(1 << 40))


async def _paced(
    setup: Rig, proxy: Proxy, jobs: Jobs, n: int, plan: Plan
) -> tuple[list[Fetched], int, int]:
    """The fetched streams, and the window (monotonic ns) in which all N workers ran."""
    length = statistics.mean(jobs.chunks[i] for i in jobs.paced) * plan.pace_ms / 1000
    mode = f"paced{plan.pace_ms}"
    out: list[Fetched] = []

    async def worker(w: int) -> tuple[int, int]:
        await asyncio.sleep(length * w / n)
        mine = []
        for k in range(plan.per_worker):
            file = jobs.paced[(w + k) % len(jobs.paced)]
            rid = next(_request_ids)
            mine.append(
                await fetch(proxy, setup.upstream_port, file, mode, jobs.providers[file], rid)
            )
        out.extend(mine)
        return mine[0].started, mine[-1].ended

    bound = 20 * length * plan.per_worker + 60  # a stalled proxy fails the run, never hangs it
    spans = await asyncio.wait_for(asyncio.gather(*(worker(w) for w in range(n))), bound)
    return out, max(a for a, _ in spans), min(b for _, b in spans)


def paced_phase(setup: Rig, proxy: Proxy, jobs: Jobs, n: int, plan: Plan) -> dict[str, Any]:
    """N paced streams at once through one proxy: per-chunk delays while all N ran."""
    meter = Meter(setup, proxy)
    fetched, full_from, full_to = asyncio.run(_paced(setup, proxy, jobs, n, plan))
    usage = meter.stop()
    delays: list[int] = []
    whole = sent_chunks = 0
    for f in fetched:
        size, arrivals = body_arrivals(f)
        if size != jobs.sizes[f.file]:
            raise RuntimeError(f"{proxy.name}: {size} bytes, expected {jobs.sizes[f.file]}")
        whole += 1
        log = setup.sent_logs / f"{f.request_id}.json"
        sent = json.loads(log.read_text())
        log.unlink()
        sent_chunks += len(sent)
        delays += chunk_delays(sent, arrivals, (full_from, full_to))
    return {
        "usage": usage,
        "delays": delays,
        "streams": len(fetched),
        "whole": whole,
        "sent_chunks": sent_chunks,
    }


async def _blast(setup: Rig, proxy: Proxy, jobs: Jobs, c: int, seconds: float) -> list[int]:
    deadline = time.monotonic() + seconds
    sizes: list[int] = []

    async def worker(w: int) -> None:
        k = w
        while time.monotonic() < deadline:
            file = jobs.blast[k % len(jobs.blast)]
            k += 1
            f = await fetch(
                proxy, setup.upstream_port, file, "blast", jobs.providers[file], next(_request_ids)
            )
            size, _ = body_arrivals(f)
            if size != jobs.sizes[file]:
                raise RuntimeError(f"{proxy.name}: {size} bytes, expected {jobs.sizes[file]}")
            sizes.append(size)

    await asyncio.wait_for(asyncio.gather(*(worker(w) for w in range(c))), seconds + 120)
    return sizes


def warm_up(setup: Rig, proxy: Proxy, jobs: Jobs) -> None:
    """Every stream once, unmeasured: the first flows of a provider pay for imports and
    caches (hundreds of ms), which no steady-state chunk should be charged."""

    async def run() -> None:
        for file in range(len(jobs.files)):
            f = await fetch(
                proxy, setup.upstream_port, file, "blast", jobs.providers[file], next(_request_ids)
            )
            body_arrivals(f)

    asyncio.run(run())
    for log in setup.sent_logs.glob("*.json"):
        log.unlink()


def blast_phase(setup: Rig, proxy: Proxy, jobs: Jobs, c: int, plan: Plan) -> dict[str, Any]:
    meter = Meter(setup, proxy)
    sizes = asyncio.run(_blast(setup, proxy, jobs, c, plan.blast_seconds))
    usage = meter.stop()
    for log in setup.sent_logs.glob("*.json"):
        log.unlink()
    mb = sum(sizes) / 1e6
    return {
        "usage": usage,
        "mb_s": mb / usage.wall,
        "mb_per_cpu_s": mb / usage.proxy if usage.proxy else float("nan"),
        "streams": len(sizes),
    }


# --- the run -------------------------------------------------------------------------------


def raise_open_files(needed: int) -> int:
    """Sockets: each stream is two per proxy, one in the upstream and one here."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed if hard == resource.RLIM_INFINITY else min(hard, needed)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        soft = want
    return soft


def _ms(ns: float) -> float:
    return ns / 1e6


def run_ceiling(plan: Plan) -> dict[str, Any]:
    """Both measurements; returns {"paced": rows, "blast": rows, "targets": lines, ...}."""
    log = plan.log
    limit = raise_open_files(4 * max(plan.levels) + 1024)
    if limit < 2 * max(plan.levels) + 256:
        raise RuntimeError(f"only {limit} open files allowed; {max(plan.levels)} streams need more")
    jobs = make_jobs()
    started = time.monotonic()
    load_start = os.getloadavg()
    paced_rows: list[dict[str, Any]] = []
    blast_rows: list[dict[str, Any]] = []
    with (
        tempfile.TemporaryDirectory(prefix="llm-rebuild-ceiling-") as tmp,
        rig(jobs.files, Path(tmp)) as setup,
    ):
        plain, addon = setup.proxies
        for proxy in setup.proxies:
            warm_up(setup, proxy, jobs)
        for n in plan.levels:
            per: dict[str, dict[str, Any]] = {
                p.name: {"delays": [], "usage": [], "chunks": 0} for p in (plain, addon)
            }
            streams_seen = {p.name: 0 for p in (plain, addon)}
            for r in range(plan.rounds):
                order = (plain, addon) if r % 2 == 0 else (addon, plain)
                for proxy in order:
                    result = paced_phase(setup, proxy, jobs, n, plan)
                    per[proxy.name]["delays"] += result["delays"]
                    per[proxy.name]["usage"].append(result["usage"])
                    per[proxy.name]["chunks"] += result["sent_chunks"]
                    streams_seen[proxy.name] += result["whole"]
            row: dict[str, Any] = {"streams": n, "pace_ms": plan.pace_ms}
            for proxy, key in ((plain, "plain"), (addon, "addon")):
                delays = per[proxy.name]["delays"]
                usages: list[Usage] = per[proxy.name]["usage"]
                wall = sum(u.wall for u in usages)
                row[key] = {
                    "chunks": len(delays),
                    "whole_streams": streams_seen[proxy.name],
                    "p50_ms": _ms(percentile(delays, 0.50)),
                    "p99_ms": _ms(percentile(delays, 0.99)),
                    "max_ms": _ms(max(delays)) if delays else float("nan"),
                    "proxy_cores": sum(u.proxy for u in usages) / wall,
                    "upstream_cores": sum(u.upstream for u in usages) / wall,
                    "client_cores": sum(u.client for u in usages) / wall,
                    "proxy_waited": sum(u.proxy_waited for u in usages) / wall,
                }
                cpu = sum(u.proxy for u in usages)
                # one core's worth of this proxy's CPU per chunk, at this stream's chunk rate
                row[key]["streams_per_core"] = (
                    per[proxy.name]["chunks"] / cpu / (1000 / plan.pace_ms) if cpu else 0.0
                )
                row[key]["carried"] = row[key]["p99_ms"] <= plan.pace_ms
            row["added_p50_ms"] = row["addon"]["p50_ms"] - row["plain"]["p50_ms"]
            row["added_p99_ms"] = row["addon"]["p99_ms"] - row["plain"]["p99_ms"]
            paced_rows.append(row)
            log(
                f"paced {n}: p99 plain {row['plain']['p99_ms']:.2f} ms, addon "
                f"{row['addon']['p99_ms']:.2f} ms; proxy cores {row['plain']['proxy_cores']:.2f} / "
                f"{row['addon']['proxy_cores']:.2f}"
            )
        previous = 0.0
        for i, c in enumerate(plan.blast_levels):
            order = (plain, addon) if i % 2 == 0 else (addon, plain)
            row = {"clients": c}
            for proxy in order:
                result = blast_phase(setup, proxy, jobs, c, plan)
                key = "plain" if proxy is plain else "addon"
                row[key] = {
                    "mb_s": result["mb_s"],
                    "mb_per_cpu_s": result["mb_per_cpu_s"],
                    "streams": result["streams"],
                    **result["usage"].cores(),
                }
            blast_rows.append(row)
            log(
                f"blast {c}: plain {row['plain']['mb_s']:.1f} MB/s "
                f"({row['plain']['proxy']:.2f} cores), addon {row['addon']['mb_s']:.1f} MB/s "
                f"({row['addon']['proxy']:.2f} cores)"
            )
            saturated = row["plain"]["proxy"] >= 0.9
            if saturated and row["plain"]["mb_s"] < previous * 1.05:
                break
            previous = max(previous, row["plain"]["mb_s"])
        time.sleep(0.5)  # the last flow's response hook and dump
        dumps = addon.dump_dir
        records = [json.loads(p.read_text()) for p in dumps.glob("**/*.json")] if dumps else []
    result = {
        "plan": {k: v for k, v in plan.__dict__.items() if k != "log"},
        "paced": paced_rows,
        "blast": blast_rows,
        "records": len(records),
        "complete_records": sum(1 for r in records if r.get("complete")),
        "load": {"start": load_start, "end": os.getloadavg()},
        "seconds": round(time.monotonic() - started, 1),
        "open_files": limit,
    }
    result["targets"] = targets(result)
    result["lines"] = tables(result)
    return result


def _verdict(ratio: float) -> str:
    return f"{ratio:.2f} — target ≥ 0.9: {'met' if ratio >= 0.9 else 'NOT met'}"


def targets(result: dict[str, Any]) -> list[str]:
    """The verdicts: measured where the plain proxy used a whole core, else projected from
    CPU per MB / per chunk (what one core would carry) and said so."""
    out = []
    blast = result["blast"]
    if blast:
        plain = max(r["plain"]["mb_s"] for r in blast)
        addon = max(r["addon"]["mb_s"] for r in blast)
        saturated = max(r["plain"]["proxy"] for r in blast) >= 0.9
        busy = max(max(r["plain"]["proxy_waited"], r["addon"]["proxy_waited"]) for r in blast)
        out.append(
            f"- ceiling MB/s, with ÷ without the addon (measured): {addon:.1f} ÷ {plain:.1f} "
            f"MB/s = {_verdict(addon / plain)}"
            + ("" if saturated else " (the plain mitmdump never had a whole core: not a ceiling")
            + ("" if saturated else f"; a proxy waited for a core up to {busy:.0%} of the time)")
        )
        per_core = {k: max(r[k]["mb_per_cpu_s"] for r in blast) for k in ("plain", "addon")}
        out.append(
            f"- MB one core carries (MB per proxy CPU second, best level): {per_core['addon']:.1f}"
            f" ÷ {per_core['plain']:.1f} = {_verdict(per_core['addon'] / per_core['plain'])}"
        )
    paced = result["paced"]
    if paced:
        carried = {
            key: max((r["streams"] for r in paced if r[key]["carried"]), default=0)
            for key in ("plain", "addon")
        }
        top = max(r["streams"] for r in paced)
        if carried["plain"]:
            note = f" (the most tested: {top})" if carried["plain"] == top else ""
            out.append(
                f"- concurrent paced streams carried (p99 delay ≤ one gap), with ÷ without: "
                f"{carried['addon']} ÷ {carried['plain']}{note} = "
                f"{_verdict(carried['addon'] / carried['plain'])}"
            )
        else:
            out.append(
                "- concurrent paced streams carried (p99 delay ≤ one gap): none of the levels, "
                "by either proxy (see cores and waited: a busy machine, or past the ceiling)"
            )
        # Per chunk, where the proxy keeps up (past it, reads take several chunks at once and
        # the cost per chunk falls): the most streams both carried, else the fewest tested.
        kept_up = [r for r in paced if r["plain"]["carried"] and r["addon"]["carried"]]
        basis = kept_up[-1] if kept_up else min(paced, key=lambda r: r["streams"])
        per_core = {key: basis[key]["streams_per_core"] for key in ("plain", "addon")}
        out.append(
            f"- paced streams one core carries (projected from proxy CPU per chunk at "
            f"{basis['streams']:,} streams): {per_core['addon']:,.0f} ÷ {per_core['plain']:,.0f} = "
            f"{_verdict(per_core['addon'] / per_core['plain'])}"
        )
        for r in paced:
            verdict = "met" if r["added_p99_ms"] <= 1 else "NOT met"
            if not r["plain"]["carried"] and not r["addon"]["carried"]:
                verdict = "no verdict: neither proxy kept up, so the difference is not the addon's"
            elif not r["plain"]["carried"]:
                verdict = "no verdict: the plain mitmdump did not keep up"
            busy = max(r["plain"]["proxy_waited"], r["addon"]["proxy_waited"])
            note = f" (a proxy waited for a core {busy:.0%} of the time)" if busy > 0.1 else ""
            out.append(
                f"- added delay per chunk at {r['streams']:,} streams: p50 "
                f"{r['added_p50_ms']:+.3f} ms, p99 {r['added_p99_ms']:+.3f} ms — target ≤ 1 ms "
                f"p99: {verdict}{note}"
            )
    return out


def tables(result: dict[str, Any]) -> list[str]:
    lines = [
        f"Paced streams (a chunk of 1-4 events every {result['plan']['pace_ms']} ms per stream; "
        "delay from the upstream's write to the client; cores = CPU s ÷ wall s; waited = the "
        "proxy ready to run but without a core, ÷ wall s):",
        "",
        "| streams | proxy | chunks | p50 ms | p99 ms | max ms | carried | proxy cores "
        "| waited | streams per core | upstream cores | client cores |",
        "|--:|---|--:|--:|--:|--:|---|--:|--:|--:|--:|--:|",
    ]
    for r in result["paced"]:
        for key, name in (("plain", "mitmdump"), ("addon", "+ llm-rebuild")):
            p = r[key]
            lines.append(
                f"| {r['streams']:,} | {name} | {p['chunks']:,} | {p['p50_ms']:.2f} "
                f"| {p['p99_ms']:.2f} | {p['max_ms']:.1f} | {'yes' if p['carried'] else 'no'} "
                f"| {p['proxy_cores']:.2f} | {p['proxy_waited']:.2f} "
                f"| {p['streams_per_core']:,.0f} | {p['upstream_cores']:.2f} "
                f"| {p['client_cores']:.2f} |"
            )
    lines += [
        "",
        "Throughput (2k-delta streams back to back, C clients at once):",
        "",
        "| clients | plain MB/s | + llm-rebuild MB/s | ratio | plain MB per CPU s "
        "| addon MB per CPU s | plain proxy cores | addon proxy cores | waited (plain, addon) "
        "| upstream cores | client cores |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in result["blast"]:
        p, a = r["plain"], r["addon"]
        lines.append(
            f"| {r['clients']} | {p['mb_s']:.1f} | {a['mb_s']:.1f} | {a['mb_s'] / p['mb_s']:.2f} "
            f"| {p['mb_per_cpu_s']:.1f} | {a['mb_per_cpu_s']:.1f} "
            f"| {p['proxy']:.2f} | {a['proxy']:.2f} "
            f"| {p['proxy_waited']:.2f}, {a['proxy_waited']:.2f} "
            f"| {max(p['upstream'], a['upstream']):.2f} | {max(p['client'], a['client']):.2f} |"
        )
    return lines


def parse_args(argv: list[str] | None) -> Plan:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.ceiling",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick", action="store_true", help="one round, 16/64 streams, short blasts"
    )
    parser.add_argument(
        "--levels", help="paced stream counts, comma-separated (default 64,256,1000)"
    )
    parser.add_argument("--pace-ms", type=int, help=f"ms between chunks (default {PACE_MS})")
    parser.add_argument("--rounds", type=int, help="paced rounds per level and proxy (default 2)")
    args = parser.parse_args(argv)
    plan = Plan()
    if args.quick:
        plan = Plan(
            levels=(16, 64), rounds=1, per_worker=2, blast_levels=(1, 4, 16), blast_seconds=2.0
        )
    if args.levels:
        plan.levels = tuple(int(x) for x in args.levels.split(","))
    if args.pace_ms:
        plan.pace_ms = args.pace_ms
    if args.rounds:
        plan.rounds = args.rounds
    return plan


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # a SIGTERM stops the processes as Ctrl-C does


def main(argv: list[str] | None = None) -> None:
    plan = parse_args(argv)
    plan.log = lambda message: print(message, file=sys.stderr, flush=True)
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even where it was ignored
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        result = run_ceiling(plan)
    except KeyboardInterrupt:
        plan.log("interrupted: the upstream and both mitmdumps are stopped")
        sys.exit(130)
    load = result["load"]
    print(
        f"Load average at start {load['start'][0]:.2f}, at end {load['end'][0]:.2f}; "
        f"{result['seconds']} s; records written {result['records']}, complete "
        f"{result['complete_records']}.\n"
    )
    print("\n".join([*result["lines"], "", "Targets:", "", *result["targets"]]))
    CACHE.mkdir(exist_ok=True)
    out = CACHE / "ceiling.json"
    raw = {k: v for k, v in result.items() if k != "lines"}
    out.write_text(json.dumps(raw, indent=1, default=str))
    plan.log(f"raw numbers: {out.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
