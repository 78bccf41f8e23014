"""The session report on a big capture: the page is written in time linear in the capture, and
is interactive in Chromium in under 2 s and stays responsive.

    uv run python -m benchmarks.report                 # 2,000 calls, about 300 MB of bodies
    uv run python -m benchmarks.report --sessions 5    # smaller, for a quick look

The capture is made up, shaped like agent traffic: each session re-sends its whole growing
context every turn (Claude Code style: system, tools, messages with tool results and a moving
`cache_control` breakpoint) and gets a streamed answer with a tool call; the last turns of a
session answer at length. The capture is written once for half and once for all sessions, so
the report's time per MB can be compared (linear: about the same). The page is then opened from
disk in Debian's chromium (every request but the page refused) and timed: until the page says
it is ready, scrolling the calls list, opening calls, a search, and the longest task seen.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from mitmproxy import http, io
from mitmproxy.test import tflow

CHROMIUM = "/usr/bin/chromium"
WORDS = [
    *("parser", "date", "token", "stream", "cache", "proxy", "answer", "tool", "shell", "file"),
    *("line", "test", "fixture", "error", "value", "session", "model", "input", "output"),
    *("request", "response", "header", "body", "event", "block", "delta", "context"),
]
T0 = 1764046800.0


def sse(events: list[dict[str, Any]]) -> bytes:
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events).encode()


def answer(
    session: int, turn: int, text: str, tool: dict[str, Any] | None, usage: dict[str, int]
) -> bytes:
    events: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {
                "id": f"msg_bench_{session}_{turn}",
                "type": "message",
                "role": "assistant",
                "model": "claude-sonnet-4-5-20250929",
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {**usage, "output_tokens": 1},
            },
        },
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
    ]
    events += [
        {
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": text[i : i + 12]},
        }
        for i in range(0, len(text), 12)
    ]
    events.append({"type": "content_block_stop", "index": 0})
    if tool is not None:
        start = {"type": "tool_use", "id": tool["id"], "name": tool["name"], "input": {}}
        events.append({"type": "content_block_start", "index": 1, "content_block": start})
        partial = json.dumps(tool["input"])
        events += [
            {
                "type": "content_block_delta",
                "index": 1,
                "delta": {"type": "input_json_delta", "partial_json": partial[i : i + 10]},
            }
            for i in range(0, len(partial), 10)
        ]
        events.append({"type": "content_block_stop", "index": 1})
    stop = "tool_use" if tool else "end_turn"
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": stop, "stop_sequence": None},
            "usage": {"output_tokens": len(text) // 4 + 20},
        }
    )
    events.append({"type": "message_stop"})
    return sse(events)


def prose(rng: random.Random, size: int) -> str:
    out: list[str] = []
    length = 0
    while length < size:
        line = " ".join(rng.choice(WORDS) for _ in range(rng.randint(6, 14)))
        out.append(line)
        length += len(line) + 1
    return "\n".join(out)


def session_flows(session: int, turns: int, result_size: int) -> list[http.HTTPFlow]:
    rng = random.Random(session)
    system = [
        {
            "type": "text",
            "text": "You are Claude Code, Anthropic's official CLI for Claude.\n"
            + prose(rng, 6000),
        },
        {
            "type": "text",
            "text": f"Session {session}. Today's date: 2025-11-25",
            "cache_control": {"type": "ephemeral"},
        },
    ]
    tools = [
        {
            "name": name,
            "description": prose(rng, 900),
            "input_schema": {"type": "object", "properties": {"arg": {"type": "string"}}},
        }
        for name in ("Bash", "Read", "Edit", "Grep", "Glob", "Write", "WebFetch", "TodoWrite")
    ]
    messages: list[dict[str, Any]] = [
        {
            "role": "user",
            "content": [{"type": "text", "text": f"Session {session}: fix the failing tests."}],
        }
    ]
    flows = []
    cached = 0
    for turn in range(1, turns + 1):
        sent = json.loads(json.dumps(messages))
        sent[-1]["content"][-1]["cache_control"] = {"type": "ephemeral"}
        body = {
            "model": "claude-sonnet-4-5-20250929",
            "max_tokens": 32000,
            "system": system,
            "tools": tools,
            "messages": sent,
            "metadata": {"user_id": f"user_x_account_y_session_bench-{session:04d}"},
            "stream": True,
        }
        content = json.dumps(body).encode()
        prompt = len(content) // 4
        usage = {
            "input_tokens": 3,
            "cache_creation_input_tokens": max(prompt - cached - 3, 0),
            "cache_read_input_tokens": min(cached, prompt),
        }
        cached = prompt
        last = turn == turns
        text = prose(rng, 3000 if last else 160)
        tool = (
            None
            if last
            else {
                "id": f"toolu_{session}_{turn}",
                "name": rng.choice(("Bash", "Read", "Grep")),
                "input": {"arg": prose(rng, 60)},
            }
        )
        flow = tflow.tflow(resp=True)
        flow.live = False
        flow.request.host = "api.anthropic.com"
        flow.request.port = 443
        flow.request.scheme = "https"
        flow.request.path = "/v1/messages"
        flow.request.method = "POST"
        flow.request.headers.clear()
        flow.request.headers.update({
            "host": "api.anthropic.com",
            "content-type": "application/json",
            "x-api-key": "sk-ant-api03-BENCHMARK-fake-key",
            "user-agent": "claude-cli/2.1.3 (external, cli)",
            "x-claude-code-session-id": f"bench-{session:04d}",
        })  # fmt: skip
        flow.request.content = content
        started = T0 + session * 3 + turn * 9.0
        flow.request.timestamp_start = started
        flow.response = http.Response.make(200, b"", {"content-type": "text/event-stream"})
        flow.response.raw_content = answer(session, turn, text, tool, usage)
        flow.response.timestamp_start = started + 0.7
        flow.response.timestamp_end = started + 2 + len(text) / 2000
        flows.append(flow)
        blocks: list[dict[str, Any]] = [{"type": "text", "text": text}]
        if tool:
            blocks.append({"type": "tool_use", **tool})
            messages.append({"role": "assistant", "content": blocks})
            result = {
                "type": "tool_result",
                "tool_use_id": tool["id"],
                "content": prose(rng, result_size),
            }
            messages.append({"role": "user", "content": [result]})
    return flows


def make_capture(path: Path, sessions: int, turns: int, result_size: int) -> tuple[int, int]:
    """(calls, request and response body bytes)."""
    calls = size = 0
    flows: list[http.HTTPFlow] = []
    for session in range(sessions):
        flows.extend(session_flows(session, turns, result_size))
    flows.sort(key=lambda f: f.request.timestamp_start)
    with path.open("wb") as file:
        writer = io.FlowWriter(file)
        for flow in flows:
            writer.add(flow)
            calls += 1
            size += len(flow.request.raw_content or b"") + len(flow.response.raw_content or b"")
    return calls, size


# The report's own peak memory: VmHWM belongs to the process image, so it does not count the
# pages a forked child shares with this (big) process before it runs Python anew.
CHILD = """import sys
from addon.report.__main__ import main
code = main(sys.argv[1:])
with open("/proc/self/status") as status:
    peak = next(line.split()[1] for line in status if line.startswith("VmHWM"))
print("peak-kB", peak, file=sys.stderr)
sys.exit(code)
"""


def build(capture: Path, page: Path) -> dict[str, float]:
    """The report in a process of its own: wall and CPU seconds, peak memory."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(capture), "-o", str(page), "--quiet"],
        check=True,
        capture_output=True,
        text=True,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak = int(done.stderr.split("peak-kB", 1)[1].split()[0])
    return {"wall": wall, "cpu": cpu, "peak_mb": peak / 1024}


WAIT_FRAMES = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
STEP = """async ([action, arg]) => {
  const frames = () => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
  const until = async (test) => {
    const deadline = performance.now() + 30000;
    while (!test()) {
      if (performance.now() > deadline) throw new Error('the page did not get there in 30 s');
      await new Promise(r => requestAnimationFrame(r));
    }
  };
  const t = performance.now();
  if (action === 'scroll') {
    const rows = document.querySelector('#calls');
    const top = rows.getBoundingClientRect().top + window.scrollY;
    let worst = 0;
    for (let y = top; y < top + rows.offsetHeight; y += 900) {
      const s = performance.now();
      window.scrollTo(0, y);
      await frames();
      worst = Math.max(worst, performance.now() - s);
    }
    return {total: performance.now() - t, worst};
  }
  if (action === 'open') {
    location.hash = 'call-' + arg;
    const title = () => document.querySelector('#detail h2');
    await until(() => title() && title().textContent === 'Call ' + (arg + 1));
    await frames();
    return {total: performance.now() - t};
  }
  if (action === 'search') {
    const box = document.querySelector('#q');
    const before = document.querySelector('#shown').textContent;
    box.value = arg;
    box.dispatchEvent(new Event('input'));
    await until(() => document.querySelector('#shown').textContent !== before);
    await frames();
    const shown = document.querySelector('#shown').textContent;
    return {total: performance.now() - t - 160, shown}; // less the input's 160 ms debounce
  }
}"""


def browse(page_file: Path, calls: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    url = page_file.as_uri()
    blocked: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
        )
        context = browser.new_context(viewport={"width": 1480, "height": 1000})

        def route(r: Any) -> None:
            if r.request.url.split("#")[0] == url:
                r.continue_()
            else:
                blocked.append(r.request.url)
                r.abort()

        context.route("**/*", route)
        page = context.new_page()
        page.add_init_script(
            "window.__long = []; new PerformanceObserver((l) => { for (const e of l.getEntries()) "
            "window.__long.push(e.duration); }).observe({ entryTypes: ['longtask'] });"
        )
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        start = time.perf_counter()
        page.goto(url)
        page.wait_for_selector("body[data-ready]", timeout=60_000)
        wall = time.perf_counter() - start
        ready = page.evaluate("performance.getEntriesByName('report-ready')[0].startTime")
        load_long = page.evaluate("Math.max(0, ...window.__long)")
        nodes = page.evaluate("document.getElementsByTagName('*').length")
        page.evaluate(WAIT_FRAMES)
        page.evaluate("window.__long = []")
        scroll = page.evaluate(STEP, ["scroll", None])
        first_open = page.evaluate(STEP, ["open", calls // 2])
        opens = [
            page.evaluate(STEP, ["open", i])["total"] for i in range(calls - 1, 0, -calls // 5)
        ]
        search = page.evaluate(STEP, ["search", "session 7: fix the failing"])
        again = page.evaluate(STEP, ["search", "fix the failing tests"])
        longest = page.evaluate("Math.max(0, ...window.__long)")
        heap = page.evaluate("performance.memory ? performance.memory.usedJSHeapSize / 1e6 : null")
        browser.close()
    return {
        "ready_ms": ready,
        "wall_s": wall,
        "load_longest_task_ms": load_long,
        "nodes": nodes,
        "scroll_ms": scroll["total"],
        "scroll_worst_frame_ms": scroll["worst"],
        "first_open_ms": first_open["total"],
        "open_ms": max(opens),
        "first_search_ms": search["total"],
        "search_ms": again["total"],
        "search_shown": search["shown"],
        "longest_task_ms": longest,
        "heap_mb": heap,
        "blocked": blocked,
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--turns", type=int, default=100)
    parser.add_argument("--result-size", type=int, default=2100, help="bytes per tool result")
    parser.add_argument("--keep", type=Path, help="folder to keep the captures and pages in")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="report-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for sessions in (max(1, args.sessions // 2), args.sessions):
        capture = folder / f"bench-{sessions}x{args.turns}.flow"
        calls, size = make_capture(capture, sessions, args.turns, args.result_size)
        page = capture.with_suffix(".html")
        built = build(capture, page)
        rows.append((size, built))
        mb = size / 1e6
        print(
            f"{calls:>6,} calls, {mb:6.1f} MB of bodies (capture "
            f"{capture.stat().st_size / 1e6:.1f} MB) -> page {page.stat().st_size / 1e6:.1f} MB "
            f"in {built['wall']:.1f} s wall, {built['cpu']:.1f} s CPU "
            f"({built['cpu'] / mb * 1000:.1f} ms per MB), peak {built['peak_mb']:,.0f} MB",
            flush=True,
        )
    (small, first), (big, second) = rows
    ratio = (second["cpu"] / big) / (first["cpu"] / small)
    print(f"time per MB at {big / small:.2f}x the bodies: {ratio:.2f}x")
    seen = browse(folder / f"bench-{args.sessions}x{args.turns}.html", calls)
    print(json.dumps(seen, indent=2))


if __name__ == "__main__":
    main()
