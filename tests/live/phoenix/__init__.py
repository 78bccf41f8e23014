"""Arize Phoenix as a real OpenTelemetry backend for the live OTLP tests.

Phoenix lives in its own uv project here (`pyproject.toml`, `uv.lock`): it pins anthropic<2,
and the tests' oracle is anthropic 2, so it cannot share the project's environment. `start()`
syncs that environment (`uv sync --frozen`, once; later runs find it in place), then runs
`serve.py` with SQLite in a temporary working dir, telemetry and external resources off, HTTP
on 127.0.0.1 only and no gRPC receiver. Spans are read back through Phoenix's REST API.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.live.proxy import _die_with_parent

PROJECT = Path(__file__).resolve().parent
PYTHON = PROJECT / ".venv" / "bin" / "python"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def sync_environment() -> None:
    """Phoenix's own locked environment (a no-op when it is already in place)."""
    uv = os.environ.get("UV") or shutil.which("uv")
    if uv is None:
        raise RuntimeError("uv is needed to install Arize Phoenix for the live OTLP tests")
    ours = ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")  # the project's, not Phoenix's
    env = {k: v for k, v in os.environ.items() if k not in ours}
    subprocess.run(
        [uv, "sync", "--frozen", "--quiet", "--project", str(PROJECT)],
        check=True,
        env=env,
        timeout=900,
        stdin=subprocess.DEVNULL,
    )


class Phoenix:
    def __init__(self, workdir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.log_file = workdir / "phoenix.log"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 180) -> Phoenix:
        sync_environment()
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        env.update(
            PHOENIX_HOST="127.0.0.1",
            PHOENIX_PORT=str(self.port),
            PHOENIX_GRPC_PORT=str(free_port()),  # never opened: serve.py starts no gRPC server
            PHOENIX_WORKING_DIR=str(self.workdir),
            PHOENIX_TELEMETRY_ENABLED="false",
            PHOENIX_ALLOW_EXTERNAL_RESOURCES="false",
            PHOENIX_DISABLE_AGENT_ASSISTANT="true",
            PHOENIX_AGENTS_DISABLE_BASH="true",
            PYTHONUNBUFFERED="1",
        )
        env.pop("VIRTUAL_ENV", None)
        with self.log_file.open("wb") as log:
            self.process = subprocess.Popen(
                [str(PYTHON), str(PROJECT / "serve.py")],
                cwd=self.workdir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                self.get("/v1/projects")
                return self
            except (OSError, urllib.error.URLError):
                time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"Phoenix did not start:\n{self.log_file.read_text()[-4000:]}")

    def stop(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=10) as answer:
            return json.loads(answer.read())

    def spans(self, project: str) -> list[dict[str, Any]]:
        """Every span of a project, through `GET /v1/projects/{project}/spans`."""
        spans: list[dict[str, Any]] = []
        cursor = ""
        while True:
            try:
                page = self.get(f"/v1/projects/{project}/spans?limit=1000{cursor}")
            except urllib.error.HTTPError as exc:
                if exc.code == 404:  # no span has named this project yet
                    return []
                raise
            spans.extend(page["data"])
            if not page.get("next_cursor"):
                return spans
            cursor = f"&cursor={page['next_cursor']}"

    def all_spans(self) -> int:
        return sum(len(self.spans(p["name"])) for p in self.get("/v1/projects")["data"])

    def wait_for_spans(self, project: str, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        """Phoenix writes what it received in batches: wait until `count` spans are there."""
        deadline = time.monotonic() + timeout
        while True:
            spans = self.spans(project)
            if len(spans) >= count or time.monotonic() > deadline:
                return spans
            time.sleep(0.2)
