"""The benchmark: every contender on the same streams, interleaved, then the report.

    uv run python -m benchmarks            # everything (about 12-15 minutes on 2 cores)
    uv run python -m benchmarks --quick    # fewer rounds, no 200k streams, no mitmdump
    uv run python -m benchmarks.framings   # only the other framings: Bedrock, Gemini, Ollama, WS
    uv run python -m benchmarks.ceiling    # only the proxy's ceiling

The full run is the SSE APIs against their floor, the SDK helpers and ccproxy; then the other
framings (`benchmarks/framings.py`); then the live part through two mitmdumps
(`benchmarks/live.py`) and the ceiling (`benchmarks/ceiling.py`); then every target's verdict.

See docs/benchmarks.md for what is measured and the latest results.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import platform
import shutil
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from benchmarks import streams
from benchmarks.contenders import IN_PROCESS, OverBudget, SDKHelpers, budget
from benchmarks.streams import APIS, KINDS, SHORT_API, Stream

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
FAST = tuple(IN_PROCESS)  # floor, rebuild, feed, capture
SLOW = ("sdk", "ccproxy")
SMALL, BIG = 2_000, 200_000


@dataclass
class Plan:
    rounds: int = 5  # fast contenders on the corpus and 2k streams
    slow_rounds: int = 3  # SDK helpers and ccproxy on the corpus and 2k streams
    big_rounds: int = 2  # fast contenders on 200k streams
    big_slow_budget: float = 5.0  # one try of a slow contender on a 200k stream, seconds
    big_slow_kinds: tuple[str, ...] = ("text",)
    sizes: tuple[int, ...] = (SMALL, BIG)
    ccproxy: bool = True
    sdk: bool = True
    live: bool = True
    live_rounds: int = 3
    live_only: bool = False
    framings: bool = True
    ceiling: bool = True


@dataclass
class Timing:
    seconds: list[float] = field(default_factory=list)
    over_budget: float | None = None  # stopped after this many seconds
    error: str | None = None

    @property
    def best(self) -> float | None:
        return min(self.seconds) if self.seconds else None

    @property
    def median(self) -> float | None:
        return statistics.median(self.seconds) if self.seconds else None


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_info() -> dict[str, Any]:
    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "os": f"{platform.system()} {platform.release()}",
        "orjson": version("orjson"),
        "mitmproxy": version("mitmproxy"),
        "anthropic": version("anthropic"),
        "openai": version("openai"),
        "load_at_start": os.getloadavg(),
    }


# --- streams -----------------------------------------------------------------------------


def generated_streams(sizes: tuple[int, ...]) -> list[Stream]:
    """Generated streams, cached on disk by the generator's source (bit-identical runs)."""
    source = (HERE / "streams.py").read_bytes()
    folder = CACHE / ("streams-" + hashlib.sha1(source).hexdigest()[:12])
    for stale in CACHE.glob("streams-*"):  # made by an older generator
        if stale != folder:
            shutil.rmtree(stale)
    out = []
    for provider in APIS:
        for kind in KINDS:
            for deltas in sizes:
                name = f"{SHORT_API[provider]}-{kind}-{deltas}"
                path = folder / f"{name}.sse"
                meta = folder / f"{name}.json"
                if path.exists() and meta.exists():
                    body = path.read_bytes()
                    info = json.loads(meta.read_text())
                    label = f"{deltas // 1000}k"
                    stream = Stream(
                        f"{SHORT_API[provider]} {kind} {label}",
                        provider,
                        kind,
                        deltas,
                        [body],
                        info["events"],
                    )
                else:
                    stream = streams.generated(provider, kind, deltas)
                    folder.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(stream.bodies[0])
                    meta.write_text(json.dumps({"events": stream.events}))
                stream.paths = [path]
                out.append(stream)
    return out


def corpus_streams(sdk: SDKHelpers | None) -> tuple[list[Stream], dict[str, list[str]]]:
    """One stream per API: all its recorded answers, timed back to back. Answers the SDK
    helper cannot take (see tests/corpus/README.md) are left out for every contender."""
    out = []
    left_out: dict[str, list[str]] = {}
    for provider in APIS:
        kept: list[tuple[str, bytes]] = []
        for name, body in streams.corpus_bodies(provider):
            if sdk is not None:
                try:
                    sdk(body, [], provider)
                except Exception as exc:
                    left_out.setdefault(provider, []).append(f"{name}: {type(exc).__name__}")
                    continue
            kept.append((name, body))
        bodies = [body for _, body in kept]
        stream = Stream(
            f"{SHORT_API[provider]} corpus ({len(bodies)})",
            provider,
            "corpus",
            0,
            bodies,
            sum(streams.count_events(b) for b in bodies),
        )
        stream.paths = [streams.CORPUS / name for name, _ in kept]
        out.append(stream)
    return out, left_out


# --- checks ------------------------------------------------------------------------------


def check_same_as_sdk(stream: Stream, sdk: SDKHelpers) -> str:
    """Our record against the SDK helper's object, as the oracle tests compare them."""
    from addon.record import rebuild
    from tests.oracles import strip_nulls

    record = rebuild(stream.provider, stream.bodies[0], streamed=True)
    sdk.body = stream.bodies[0]
    theirs = strip_nulls(sdk.run[stream.provider]().model_dump(mode="json"))
    ours = strip_nulls(record["response"])
    if not record["complete"]:
        return "incomplete: " + "; ".join(record["errors"][:2])
    return "yes" if ours == theirs else "DIFFERS"


# --- timing ------------------------------------------------------------------------------


def time_once(run: Callable[[], None], limit: float | None) -> tuple[float | None, str | None]:
    """CPU seconds of one run (None if over `limit` wall seconds, or the error).

    CPU time of this process, not wall time: on a machine shared with other work, wall time
    also counts the moments another process had the core, which no contender is to blame for.
    """
    gc.collect()
    start = time.process_time()
    try:
        with budget(limit):
            run()
    except OverBudget:
        return None, None
    except Exception as exc:
        return None, repr(exc)
    return time.process_time() - start, None


def run_rounds(
    all_streams: list[Stream], plan: Plan, sdk: SDKHelpers | None, ccproxy: Any
) -> dict[str, dict[str, Timing]]:
    results: dict[str, dict[str, Timing]] = {s.name: {} for s in all_streams}
    names = list(FAST) + [c for c in SLOW if (c == "sdk" and sdk) or (c == "ccproxy" and ccproxy)]

    def rounds_for(stream: Stream, contender: str) -> int:
        big = stream.deltas >= BIG
        if contender in FAST:
            return plan.big_rounds if big else plan.rounds
        if big:
            return 1 if stream.kind in plan.big_slow_kinds else 0
        return plan.slow_rounds

    total = max(plan.rounds, plan.slow_rounds, plan.big_rounds)
    for r in range(total):
        started = time.perf_counter()
        for stream in all_streams:
            shift = r % len(names)
            for contender in names[shift:] + names[:shift]:  # no contender always goes first
                timing = results[stream.name].setdefault(contender, Timing())
                if r >= rounds_for(stream, contender) or timing.over_budget or timing.error:
                    continue
                limit = plan.big_slow_budget if stream.deltas >= BIG else None
                if contender == "ccproxy":
                    answer = ccproxy.time(stream.name, limit)
                    seconds = None if answer["over_budget"] else answer["seconds"]
                    error = answer["error"]
                else:
                    fn = sdk if contender == "sdk" else IN_PROCESS[contender]
                    chunks = stream.chunks

                    def run(fn: Any = fn, stream: Stream = stream, chunks: Any = chunks) -> None:
                        for body, pieces in zip(stream.bodies, chunks, strict=True):
                            fn(body, pieces, stream.provider)

                    seconds, error = time_once(run, limit)
                if error:
                    timing.error = error
                elif seconds is None:
                    timing.over_budget = limit
                else:
                    timing.seconds.append(seconds)
        log(f"round {r + 1}/{total} done in {time.perf_counter() - started:.1f} s")
    return results


# --- report ------------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 1, suffix: str = "") -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}{suffix}"


def _ratio(slow: Timing | None, fast: Timing | None) -> str:
    """How many times slower `slow` is than `fast` (best of each): 'x23.4' or '> x9.1'."""
    if slow is None or fast is None or fast.best is None:
        return "—"
    if slow.error:
        return "error"
    if slow.over_budget:
        return f"> {slow.over_budget / fast.best:,.0f}x"
    if slow.best is None:
        return "—"
    return f"{slow.best / fast.best:,.1f}x"


def main_table(all_streams: list[Stream], results: dict[str, dict[str, Timing]]) -> list[str]:
    lines = [
        "| stream | MB | events | floor MB/s | rebuild MB/s | rebuild events/s "
        "| rebuild ÷ floor | feed ÷ floor | capture ÷ floor | SDK ÷ rebuild | ccproxy ÷ rebuild |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for s in all_streams:
        r = results[s.name]
        mb = s.size / 1e6
        floor, rebuild = r.get("floor"), r.get("rebuild")
        fb = floor.best if floor else None
        rb = rebuild.best if rebuild else None
        lines.append(
            f"| {s.name} | {mb:.2f} | {s.events:,} "
            f"| {_fmt(mb / fb if fb else None, 0)} | {_fmt(mb / rb if rb else None, 0)} "
            f"| {_fmt(s.events / rb if rb else None, 0)} "
            f"| {_ratio(rebuild, floor)} | {_ratio(r.get('feed'), floor)} "
            f"| {_ratio(r.get('capture'), floor)} "
            f"| {_ratio(r.get('sdk'), rebuild)} | {_ratio(r.get('ccproxy'), rebuild)} |"
        )
    return lines


def scaling_table(all_streams: list[Stream], results: dict[str, dict[str, Timing]]) -> list[str]:
    by_key = {(s.provider, s.kind, s.deltas): s for s in all_streams}
    lines = [
        "| API | content | floor µs/event 2k | 200k | ratio | rebuild µs/event 2k | 200k "
        "| ratio | feed ratio | capture ratio |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for provider in APIS:
        for kind in KINDS:
            small, big = by_key.get((provider, kind, SMALL)), by_key.get((provider, kind, BIG))
            if small is None or big is None:
                continue

            def per_event(stream: Stream, contender: str) -> float | None:
                best = results[stream.name].get(contender, Timing()).best
                return best / stream.events * 1e6 if best is not None else None

            cells = [SHORT_API[provider], kind]
            for contender in ("floor", "rebuild"):
                a, b = per_event(small, contender), per_event(big, contender)
                cells += [_fmt(a, 2), _fmt(b, 2), _fmt(b / a if a and b else None, 2, "x")]
            for contender in ("feed", "capture"):
                a, b = per_event(small, contender), per_event(big, contender)
                cells.append(_fmt(b / a if a and b else None, 2, "x"))
            lines.append("| " + " | ".join(cells) + " |")
    return lines


def live_table(live: dict[str, Any]) -> list[str]:
    lines = [
        "| proxy | blast: CPU s per MB | paced: CPU s per MB | chunk delay p50 | p99 |",
        "|---|--:|--:|--:|--:|",
    ]
    for name, p in live["proxies"].items():
        lines.append(
            f"| {name} | {p['cpu_s_per_mb']:.4f} | {p['paced_cpu_s_per_mb']:.4f} "
            f"| {p['delay_p50_ms']:.3f} ms | {p['delay_p99_ms']:.3f} ms |"
        )
    return lines


def targets(
    all_streams: list[Stream], results: dict[str, dict[str, Timing]], live: dict[str, Any] | None
) -> list[str]:
    out = []

    def best(name: str, contender: str) -> float | None:
        t = results[name].get(contender)
        return t.best if t else None

    long = [s for s in all_streams if s.deltas >= BIG]
    ratios = [
        (best(s.name, "rebuild") / best(s.name, "floor"), s.name)  # type: ignore[operator]
        for s in long
        if best(s.name, "rebuild") and best(s.name, "floor")
    ]
    if ratios:
        worst = max(ratios)
        out.append(
            f"- rebuild() ÷ floor on 200k-delta streams: median "
            f"{statistics.median(r for r, _ in ratios):.2f}x, worst {worst[0]:.2f}x ({worst[1]}) "
            f"— target ≤ 1.5x: {'met' if worst[0] <= 1.5 else 'NOT met'}"
        )
    speedups = []
    for s in all_streams:
        sdk, rb = results[s.name].get("sdk"), best(s.name, "rebuild")
        if sdk and sdk.best and rb:
            speedups.append((sdk.best / rb, s.name))
    if speedups:
        low = min(speedups)
        out.append(
            f"- SDK helpers ÷ rebuild() (measured to the end): median "
            f"{statistics.median(x for x, _ in speedups):.0f}x, lowest {low[0]:.1f}x ({low[1]}) "
            f"— target ≥ 20x: {'met' if low[0] >= 20 else 'NOT met'}"
        )
    by_key = {(s.provider, s.kind, s.deltas): s for s in all_streams}
    scale = []
    for provider in APIS:
        for kind in KINDS:
            small, big = by_key.get((provider, kind, SMALL)), by_key.get((provider, kind, BIG))
            if small and big and best(small.name, "rebuild") and best(big.name, "rebuild"):
                a = best(small.name, "rebuild") / small.events  # type: ignore[operator]
                b = best(big.name, "rebuild") / big.events  # type: ignore[operator]
                scale.append((b / a, f"{SHORT_API[provider]} {kind}"))
    if scale:
        worst = max(scale)
        out.append(
            f"- rebuild() time per event, 200k ÷ 2k deltas: worst {worst[0]:.2f}x ({worst[1]}) "
            f"— target ≤ 1.2x: {'met' if worst[0] <= 1.2 else 'NOT met'}"
        )
    if live:
        plain = live["proxies"]["mitmdump"]
        addon = live["proxies"]["mitmdump + llm-rebuild"]
        added_p99 = addon["delay_p99_ms"] - plain["delay_p99_ms"]
        added_p50 = addon["delay_p50_ms"] - plain["delay_p50_ms"]
        out.append(
            f"- live delay added per chunk: p50 {added_p50:+.3f} ms, p99 {added_p99:+.3f} ms "
            f"— target ≤ 1 ms p99: {'met' if added_p99 <= 1 else 'NOT met'}"
        )
        for mode, key in (("paced", "paced_cpu_s_per_mb"), ("blast", "cpu_s_per_mb")):
            extra = addon[key] / plain[key] - 1
            out.append(
                f"- live CPU, {mode}: +{extra:.0%} over plain mitmdump "
                f"— target ≤ +10%: {'met' if extra <= 0.10 else 'NOT met'}"
            )
    return out


def run_framings(plan: Plan) -> list[dict[str, Any]]:
    """The framings that are not plain SSE, each against its own floor."""
    from benchmarks import framings

    log("other framings: event-stream, SSE with CRLF, JSON array, NDJSON, WebSocket ...")
    fplan = framings.Plan(sizes=plan.sizes)
    if BIG not in plan.sizes:
        fplan.rounds = 5
    all_streams = framings.make_streams(fplan.sizes)
    framings.run_rounds(all_streams, fplan)
    return framings.summary(all_streams)


def framing_targets(rows: list[dict[str, Any]]) -> list[str]:
    out = []
    for key, limit, what in (
        ("rebuild_over_floor", 1.5, "rebuild ÷ floor"),
        ("rebuild_linearity", 1.2, "time per event, 200k ÷ 2k"),
    ):
        values = [(row[key], row["stream"]) for row in rows if row[key] is not None]
        if not values:
            continue
        missed = [f"{name} {value:.2f}x" for value, name in values if value > limit]
        worst = max(values)
        out.append(
            f"- other framings, {what}: worst {worst[0]:.2f}x ({worst[1]}) — target ≤ {limit}x: "
            + ("met on all" if not missed else f"NOT met on {len(missed)}: {', '.join(missed)}")
        )
    return out


# --- main --------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> Plan:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="2k streams and the corpus only, fewer rounds, no live part",
    )
    parser.add_argument("--no-ccproxy", action="store_true", help="skip ccproxy (no venv made)")
    parser.add_argument("--no-sdk", action="store_true", help="skip the official SDK helpers")
    parser.add_argument("--no-live", action="store_true", help="skip the mitmdump part")
    parser.add_argument(
        "--live-only", action="store_true", help="only the mitmdump part (CPU and delay)"
    )
    parser.add_argument("--live-rounds", type=int, help="rounds of the mitmdump part (default 3)")
    parser.add_argument(
        "--no-framings", action="store_true", help="skip the other framings (benchmarks.framings)"
    )
    parser.add_argument(
        "--no-ceiling", action="store_true", help="skip the proxy's ceiling (benchmarks.ceiling)"
    )
    parser.add_argument("--rounds", type=int, help="rounds for fast contenders (default 5)")
    parser.add_argument("--big-rounds", type=int, help="rounds on 200k streams (default 2)")
    parser.add_argument(
        "--all-big-slow",
        action="store_true",
        help="also try the SDK helpers and ccproxy on every 200k stream",
    )
    args = parser.parse_args(argv)
    plan = Plan()
    if args.quick:
        plan = Plan(rounds=3, slow_rounds=2, sizes=(SMALL,), live=False, ceiling=False)
    plan.ccproxy = not args.no_ccproxy
    plan.sdk = not args.no_sdk
    plan.live = plan.live and not args.no_live
    if args.live_only:
        plan.live, plan.live_only, plan.sdk, plan.ccproxy = True, True, False, False
        plan.sizes = (SMALL,)
        args.no_framings = args.no_ceiling = True
    if args.live_rounds:
        plan.live_rounds = args.live_rounds
    plan.framings = not args.no_framings
    plan.ceiling = plan.ceiling and not args.no_ceiling
    if args.rounds:
        plan.rounds = args.rounds
    if args.big_rounds:
        plan.big_rounds = args.big_rounds
    if args.all_big_slow:
        plan.big_slow_kinds = KINDS
    return plan


def run_live_part(plan: Plan, corpus: list[Stream], generated: list[Stream]) -> dict[str, Any]:
    from benchmarks.live import run_live

    log("live: mitmdump with and without the addon ...")
    by_name = {s.name: s for s in generated}
    blast = [(p, s.provider) for s in generated if s.deltas == SMALL for p in s.paths]
    blast += [(p, s.provider) for s in corpus for p in s.paths]
    paced = [(by_name[f"{SHORT_API[p]} text 2k"].paths[0], p) for p in APIS]
    live = run_live(blast, paced, rounds=plan.live_rounds, log=log)
    from addon.record import rebuild

    jobs = blast + paced
    complete = sum(bool(rebuild(p, path.read_bytes())["complete"]) for path, p in jobs)
    warm = blast[: live["warm_up_flows"]]
    warm_complete = sum(bool(rebuild(p, path.read_bytes())["complete"]) for path, p in warm)
    live["expected_complete"] = plan.live_rounds * complete + warm_complete
    return live


def main(argv: list[str] | None = None) -> None:
    plan = parse_args(argv)
    started = time.perf_counter()
    info = machine_info()
    log(f"machine: {info['cpu']}, {info['cores']} cores, Python {info['python']}")

    sdk = SDKHelpers() if plan.sdk else None
    log("loading streams ...")
    corpus, left_out = corpus_streams(sdk)
    generated = generated_streams(plan.sizes)
    all_streams = [*corpus, *generated]
    for stream in all_streams:
        streams.with_chunks(stream)

    same: dict[str, str] = {}
    if sdk is not None:
        for stream in generated:
            if stream.deltas == SMALL:
                same[stream.name] = check_same_as_sdk(stream, sdk)
        log("same result as the SDK helper: " + ", ".join(f"{k}: {v}" for k, v in same.items()))

    if plan.live_only:
        live = run_live_part(plan, corpus, generated)
        print("\n".join(["", *live_table(live), "", *targets([], {}, live)]))
        print(f"load average at start {info['load_at_start']}, at end {os.getloadavg()}")
        return

    ccproxy = None
    if plan.ccproxy:
        from benchmarks.ccproxy_env import CCProxyWorker

        manifest = {
            s.name: {"provider": s.provider, "files": [str(p) for p in s.paths]}
            for s in all_streams
        }
        CACHE.mkdir(exist_ok=True)
        ccproxy = CCProxyWorker(manifest, CACHE / "ccproxy-manifest.json")
    try:
        results = run_rounds(all_streams, plan, sdk, ccproxy)
    finally:
        if ccproxy is not None:
            ccproxy.close()

    live = run_live_part(plan, corpus, generated) if plan.live else None

    framing_rows = run_framings(plan) if plan.framings else None
    ceiling = None
    if plan.ceiling:
        from benchmarks.ceiling import Plan as CeilingPlan
        from benchmarks.ceiling import run_ceiling

        log("ceiling: concurrent streams through mitmdump with and without the addon ...")
        ceiling = run_ceiling(CeilingPlan(log=log))

    info["load_at_end"] = os.getloadavg()
    info["seconds"] = round(time.perf_counter() - started, 1)
    lines = [
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['os']}; "
        f"Python {info['python']}; orjson {info['orjson']}, anthropic {info['anthropic']}, "
        f"openai {info['openai']}, mitmproxy {info['mitmproxy']}, ccproxy-api 0.2.10. "
        f"Load average at start {info['load_at_start'][0]:.2f}, at end "
        f"{info['load_at_end'][0]:.2f}; run took {info['seconds']} s.",
        "",
        "Throughput (best of the rounds; ÷ columns are time ratios, higher = slower than the "
        "reference):",
        "",
        *main_table(all_streams, results),
    ]
    if any(s.deltas >= BIG for s in all_streams):
        lines += ["", "Scaling (time per event):", "", *scaling_table(all_streams, results)]
    if live:
        lines += [
            "",
            f"Live, through mitmdump ({live['flows']} flows per proxy after "
            f"{live['warm_up_flows']} warm-up flows; records written "
            f"{live['records']}, complete {live['complete_records']}, as offline "
            f"{live['expected_complete']}):",
            "",
            *live_table(live),
        ]
    if framing_rows is not None:
        from benchmarks import framings

        lines += ["", "Other framings:", "", *framings.table(framing_rows)]
    if ceiling is not None:
        lines += ["", "Ceiling:", "", *ceiling["lines"]]
    lines += ["", "Targets:", "", *targets(all_streams, results, live)]
    if framing_rows is not None:
        lines += framing_targets(framing_rows)
    if ceiling is not None:
        lines += ceiling["targets"]
    if same:
        lines += [
            "",
            "Same object as the SDK helper on the 2k streams: "
            + ", ".join(f"{k}: {v}" for k, v in same.items()),
        ]
    if left_out:
        lines += [
            "",
            "Corpus answers left out (the SDK helper raises on them): "
            + "; ".join(f"{SHORT_API[p]}: {len(v)}" for p, v in left_out.items()),
        ]
    print("\n".join(lines))
    dump = {
        "machine": info,
        "plan": plan.__dict__,
        "streams": {s.name: {"bytes": s.size, "events": s.events} for s in all_streams},
        "results": {name: {c: t.__dict__ for c, t in per.items()} for name, per in results.items()},
        "live": live,
        "framings": framing_rows,
        "ceiling": {k: v for k, v in ceiling.items() if k != "lines"} if ceiling else None,
        "same_as_sdk": same,
        "left_out": left_out,
    }
    CACHE.mkdir(exist_ok=True)
    (CACHE / "latest.json").write_text(json.dumps(dump, indent=1, default=str))
    log(f"raw numbers: {(CACHE / 'latest.json').relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
