"""A real `mitmdump` process with the addon loaded, as users run it, for end-to-end tests.

It listens on 127.0.0.1 on a free port (`--listen-port 0`; the port is read from its log), keeps
its CA in its own `confdir`, writes records to its own dump folder and flows to `out.flow`.
`stop()` ends it with SIGINT (a clean shutdown that flushes `-w`) and kills it if it hangs.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ADDON = ROOT / "addon" / "llm_rebuild.py"
MITMDUMP = Path(sys.executable).parent / "mitmdump"
LISTENING = re.compile(r"listening at 127\.0\.0\.1:(\d+)")


def _die_with_parent() -> None:  # pragma: no cover - runs in the child, Linux only
    """If the test run itself is killed, its mitmdump goes too (no fixture teardown then)."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def mitmdump_env() -> dict[str, str]:
    """Unbuffered output (the tests read the log while it runs), and no proxy of the host's."""
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    env["PYTHONUNBUFFERED"] = "1"
    return env


class Mitmdump:
    def __init__(self, workdir: Path, *args: str) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.dumps = workdir / "dumps"
        self.flow_file = workdir / "out.flow"
        self.confdir = workdir / "conf"
        self.log_file = workdir / "mitmdump.log"
        self.args = args
        self.process: subprocess.Popen | None = None
        self.port = 0

    @property
    def ca_cert(self) -> Path:
        """The CA a client must trust for HTTPS through this proxy."""
        return self.confdir / "mitmproxy-ca-cert.pem"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            str(MITMDUMP),
            "--listen-host",
            "127.0.0.1",
            "--listen-port",
            "0",
            "--set",
            f"confdir={self.confdir}",
            "-s",
            str(ADDON),
            "--set",
            f"llm_dump_dir={self.dumps}",
            "-w",
            str(self.flow_file),
            *self.args,
        ]

    def start(self, timeout: float = 30) -> Mitmdump:
        return self.launch().wait_listening(timeout)

    def launch(self) -> Mitmdump:
        """Start the process without waiting (start several, then wait for each)."""
        with self.log_file.open("wb") as log:
            self.process = subprocess.Popen(
                self.command(),
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=mitmdump_env(),
                preexec_fn=_die_with_parent,
            )
        return self

    def wait_listening(self, timeout: float = 30) -> Mitmdump:
        assert self.process is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = LISTENING.search(self.output())
            if found:
                self.port = int(found.group(1))
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"mitmdump did not start listening:\n{self.output()}")

    def stop(self, timeout: float = 15) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    def __enter__(self) -> Mitmdump:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def output(self) -> str:
        try:
            return self.log_file.read_text("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def records(self) -> list[dict[str, Any]]:
        return read_records(self.dumps)

    def record_for(self, plan_key: str, timeout: float = 10) -> dict[str, Any]:
        """The dump of the one flow whose URL carries the plan's key (waits for it)."""
        deadline = time.monotonic() + timeout
        while True:
            found = [r for r in self.records() if f"/p/{plan_key}/" in r["request"]["url"]]
            if len(found) > 1:
                raise AssertionError(f"{len(found)} records for plan {plan_key}")
            if found:
                return found[0]
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no record for plan {plan_key} in {self.dumps}; mitmdump said:\n"
                    + self.output()[-4000:]
                )
            time.sleep(0.02)

    def wait_for_output(self, text: str, timeout: float = 10) -> str:
        deadline = time.monotonic() + timeout
        while text not in (out := self.output()):
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not in mitmdump's output:\n{out[-4000:]}")
            time.sleep(0.02)
        return out


def read_records(folder: Path) -> list[dict[str, Any]]:
    """Finished dumps only: the writer's temporary files start with a dot."""
    records = []
    for path in sorted(folder.glob("[!.]*.json")):
        with path.open("rb") as file:
            records.append(json.load(file))
    return records


def run_mitmdump(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """A mitmdump that ends by itself (e.g. `-nr capture.flow`)."""
    return subprocess.run(
        [str(MITMDUMP), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=mitmdump_env(),
        stdin=subprocess.DEVNULL,
    )
