"""Record real Claude Code and Codex sessions against a fake local API: `flows/claude-code.flow`
and `flows/codex.flow`.

    npm install --prefix /tmp/agents @anthropic-ai/claude-code@2.1.197 @openai/codex@0.171.0
    N=/tmp/agents/node_modules
    unshare --net sh -c "ip link set lo up && uv run python tools/record_agents.py \\
        --claude $N/@anthropic-ai/claude-code-linux-x64/claude \\
        --codex $N/@openai/codex-linux-x64/vendor/x86_64-unknown-linux-musl/bin/codex"

It runs only inside a network namespace that has nothing but loopback (it checks
`/proc/self/net/dev` and refuses otherwise), so the agents can reach nothing but 127.0.0.1:
their telemetry, update checks and anything else fail there. Their own opt-outs are set as well,
the keys are fake, and each agent gets a fresh, empty home and working folder under /tmp.

For each agent: a fake upstream on 127.0.0.1, a `mitmdump --mode reverse:<upstream>` with the
addon in front of it writing the capture (`-w`), and the agent pointed at mitmdump for one
session of two turns:

- Claude Code: `claude -p "hi" --output-format json`, then `claude -p --resume <session> ...`.
  The fake Messages API answers every `POST /v1/messages` with the recorded stream
  `tests/corpus/ccproxy/claude_messages.sse` (its model set to the one asked for, a fresh
  message id, and usage that plays the prompt cache: the longest prefix up to a `cache_control`
  breakpoint seen before is read, the rest up to the last breakpoint written; about 4 characters
  a token); `count_tokens` gets a count, anything else a 404 like the API's.
- Codex: `codex exec ...`, then `codex exec resume <thread> ...`, with a provider whose
  `base_url` is mitmdump and `supports_websockets = true` (as the README configures it): the
  fake Responses WebSocket of `tests/live/ws_upstream.py` answers with recorded Codex streams.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.live.proxy import Mitmdump  # noqa: E402
from tests.live.ws_upstream import SocketPlan, SocketUpstream  # noqa: E402

CORPUS = ROOT / "tests" / "corpus"
FLOWS = ROOT / "flows"
WORK = Path("/tmp/llm-rebuild-agents")
CLAUDE_ANSWER = CORPUS / "ccproxy" / "claude_messages.sse"
CODEX_ANSWERS = [
    "ccproxy/codex_responses.sse",
    "ccproxy/codex_responses_thinking.sse",
    "ccproxy/codex_responses_structured.sse",
]
FAKE_ANTHROPIC_KEY = "sk-ant-api03-FAKE-agent-capture-key-000000"
FAKE_OPENAI_KEY = "sk-proj-FAKE-agent-capture-key-111111"

CLAUDE_PROMPTS = ("hi", "and then?", "thanks")
CODEX_PROMPTS = ("say hi", "and then?", "thanks")
CLAUDE_OPT_OUTS = {
    "DISABLE_TELEMETRY": "1",
    "DISABLE_ERROR_REPORTING": "1",
    "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    "DISABLE_AUTOUPDATER": "1",
    "DISABLE_BUG_COMMAND": "1",
    "DISABLE_COST_WARNINGS": "1",
}
CODEX_CONFIG = """\
model = "gpt-5-codex"
model_provider = "local"
check_for_update_on_startup = false

[analytics]
enabled = false

[feedback]
enabled = false

[otel]
exporter = "none"

[model_providers.local]
name = "fake local Responses API behind mitmdump"
base_url = "{base_url}"
wire_api = "responses"
env_key = "FAKE_OPENAI_KEY"
supports_websockets = true
request_max_retries = 0
stream_max_retries = 0
"""


def only_loopback() -> list[str]:
    """The network interfaces of this process's namespace (from /proc, not /sys)."""
    lines = Path("/proc/self/net/dev").read_text().splitlines()[2:]
    return [line.split(":", 1)[0].strip() for line in lines]


# The fake Messages API --------------------------------------------------------------------------


def _frames(body: bytes) -> list[tuple[str, str]]:
    """(event, data) of each frame of a recorded SSE body."""
    frames = []
    for block in body.decode().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if fields.get("data", "").startswith("{"):  # not ccproxy's trailing [DONE]
            frames.append((fields.get("event", "message"), fields["data"]))
    return frames


def _content(piece: Any) -> str:
    """A prompt block as the cache sees it: its `cache_control` marker is no content."""
    if isinstance(piece, dict):
        piece = {k: v for k, v in piece.items() if k != "cache_control"}
    return json.dumps(piece, separators=(",", ":"))


def _blocks(body: dict[str, Any]) -> list[Any]:
    """The prompt in cache order (tools, system, messages), one piece per block."""
    pieces: list[Any] = list(body.get("tools") or [])
    system = body.get("system")
    pieces += [system] if isinstance(system, str) else list(system or [])
    for message in body.get("messages") or []:
        content = message.get("content")
        if isinstance(content, str):  # the API reads it as one text block: the same tokens
            content = [{"type": "text", "text": content}]
        pieces += [{"role": message.get("role"), **block} for block in content or []]
    return pieces


class FakeCache:
    """Prefixes written so far (digest -> tokens), shared by every call."""

    def __init__(self) -> None:
        self.written: dict[bytes, int] = {}
        self.lock = threading.Lock()

    def usage(self, body: dict[str, Any]) -> dict[str, int]:
        digest, tokens, read, last_breakpoint = b"", 0, 0, 0
        breakpoints: list[tuple[bytes, int]] = []
        for piece in _blocks(body):
            text = _content(piece)
            digest = hashlib.sha256(digest + text.encode()).digest()
            tokens += max(1, len(text) // 4)
            with self.lock:
                if digest in self.written:
                    read = tokens
            if isinstance(piece, dict) and "cache_control" in piece:
                breakpoints.append((digest, tokens))
                last_breakpoint = tokens
        with self.lock:
            for key, size in breakpoints:
                self.written[key] = size
        written = max(0, last_breakpoint - read)
        return {
            "input_tokens": max(1, tokens - read - written),
            "cache_creation_input_tokens": written,
            "cache_read_input_tokens": read,
        }


class FakeMessagesAPI(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    cache = FakeCache()
    answer = _frames(CLAUDE_ANSWER.read_bytes())
    seen: ClassVar[list[str]] = []

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _json(self, status: int, value: Any) -> None:
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("request-id", f"req_fake{uuid.uuid4().hex[:20]}")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _not_found(self) -> None:
        error = {"type": "not_found_error", "message": f"{self.command} {self.path}: not here"}
        self._json(404, {"type": "error", "error": error})

    def do_GET(self) -> None:
        self.seen.append(f"GET {self.path}")
        self._not_found()

    def do_HEAD(self) -> None:
        self.seen.append(f"HEAD {self.path}")
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        self.seen.append(f"POST {self.path}")
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length)
        path = self.path.split("?", 1)[0]
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            body = {}
        if path.endswith("/v1/messages/count_tokens"):
            tokens = sum(max(1, len(_content(p)) // 4) for p in _blocks(body))
            self._json(200, {"input_tokens": tokens})
        elif path.endswith("/v1/messages"):
            self._message(body)
        else:
            self._not_found()

    def _events(self, body: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        usage = self.cache.usage(body)
        events = []
        for name, data in self.answer:
            event = json.loads(data)
            if name == "message_start":
                message = event["message"]
                message["id"] = f"msg_01Fake{uuid.uuid4().hex[:18]}"
                message["model"] = body.get("model", message["model"])
                message["usage"].update(usage)
                message["usage"]["cache_creation"] = {
                    "ephemeral_5m_input_tokens": usage["cache_creation_input_tokens"],
                    "ephemeral_1h_input_tokens": 0,
                }
            elif name == "message_delta":
                event["usage"].update(usage)
            events.append((name, event))
        return events

    def _message(self, body: dict[str, Any]) -> None:
        events = self._events(body)
        if not body.get("stream"):
            message = events[0][1]["message"]
            text = "".join(e["delta"]["text"] for n, e in events if n == "content_block_delta")
            message["content"] = [{"type": "text", "text": text}]
            final = next(e for n, e in events if n == "message_delta")
            message.update(final["delta"])
            message["usage"].update(final["usage"])
            self._json(200, message)
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream; charset=utf-8")
        self.send_header("cache-control", "no-cache")
        self.send_header("request-id", f"req_fake{uuid.uuid4().hex[:20]}")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for name, event in events:
            frame = f"event: {name}\ndata: {json.dumps(event, separators=(',', ':'))}\n\n"
            data = frame.encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


# The agents -------------------------------------------------------------------------------------


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """Nothing of this machine's environment but PATH: a fresh home, no proxies, no keys."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "USER": "agent",
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "NO_COLOR": "1",
        "TMPDIR": str(home / "tmp"),
    }
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    env.update(extra)
    return env


def run(command: list[str], cwd: Path, env: dict[str, str], log: list[str]) -> str:
    log.append("$ " + " ".join(command))
    result = subprocess.run(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
    )
    log.append(f"exit {result.returncode}\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    if result.returncode != 0:
        raise RuntimeError("\n".join(log))
    return result.stdout


def record_claude(claude: Path, work: Path, out: Path, log: list[str]) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeMessagesAPI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    upstream = f"http://127.0.0.1:{server.server_address[1]}"
    proxy = Mitmdump(work / "mitmdump-claude", "--mode", f"reverse:{upstream}")
    home, project = work / "claude-home", work / "project"
    home.mkdir()
    project.mkdir(exist_ok=True)
    env = clean_env(
        home,
        ANTHROPIC_API_KEY=FAKE_ANTHROPIC_KEY,
        **CLAUDE_OPT_OUTS,
    )
    with proxy:
        env["ANTHROPIC_BASE_URL"] = proxy.url
        first = run(
            [str(claude), "-p", CLAUDE_PROMPTS[0], "--output-format", "json"], project, env, log
        )
        session = json.loads(first)["session_id"]
        for prompt in CLAUDE_PROMPTS[1:]:
            resume = ["-p", "--resume", session, prompt, "--output-format", "json"]
            run([str(claude), *resume], project, env, log)
    server.shutdown()
    log.append("fake Messages API saw: " + ", ".join(FakeMessagesAPI.seen))
    log.append(proxy.output()[-6000:])
    shutil.copyfile(proxy.flow_file, out)


def record_codex(codex: Path, work: Path, out: Path, log: list[str]) -> None:
    upstream = SocketUpstream(work).start()
    plan = upstream.add(SocketPlan(answers=list(CODEX_ANSWERS), rate_limits=True))
    target = f"reverse:http://127.0.0.1:{upstream.port}"
    proxy = Mitmdump(work / "mitmdump-codex", "--mode", target)
    home, project = work / "codex-home", work / "project"
    codex_home = home / ".codex"
    codex_home.mkdir(parents=True)
    project.mkdir(exist_ok=True)
    try:
        with proxy:
            base_url = f"{proxy.url}/p/{plan.key}/v1"
            (codex_home / "config.toml").write_text(CODEX_CONFIG.format(base_url=base_url))
            env = clean_env(home, CODEX_HOME=str(codex_home), FAKE_OPENAI_KEY=FAKE_OPENAI_KEY)
            common = ["--skip-git-repo-check", "--json"]
            first = run([str(codex), "exec", *common, CODEX_PROMPTS[0]], project, env, log)
            events = [json.loads(line) for line in first.splitlines() if line.startswith("{")]
            thread = next(e["thread_id"] for e in events if e.get("type") == "thread.started")
            for prompt in CODEX_PROMPTS[1:]:
                resume = ["exec", "resume", *common, thread, prompt]
                run([str(codex), *resume], project, env, log)
    finally:
        upstream.stop()
    log.append(proxy.output()[-6000:])
    shutil.copyfile(proxy.flow_file, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claude", type=Path, help="the Claude Code executable")
    parser.add_argument("--codex", type=Path, help="the Codex executable")
    parser.add_argument("--out", type=Path, default=FLOWS, help="folder to write (default flows/)")
    args = parser.parse_args()
    interfaces = only_loopback()
    if interfaces != ["lo"]:
        sys.exit(
            f"refusing to run: this network namespace has {interfaces}, not only loopback; "
            "run it under `unshare --net` (see the docstring)"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    log: list[str] = []
    work = WORK  # a fixed, generic path: the agents put their working folder in the prompt
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        if args.claude:
            record_claude(args.claude, work, args.out / "claude-code.flow", log)
        if args.codex:
            record_codex(args.codex, work, args.out / "codex.flow", log)
    finally:
        print("\n".join(log))
    print(f"recorded in {work}")


if __name__ == "__main__":
    main()
