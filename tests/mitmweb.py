"""A mitmweb with the addon over a capture, on 127.0.0.1, and its REST API as the web UI
uses it: shared by the mitmweb tests (`tests/web/`) and the WebSocket view test."""

from __future__ import annotations

import json
import secrets
import socket
import subprocess
import sys
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mitmweb:
    url: str
    password: str
    process: subprocess.Popen[bytes]
    log: Path
    workdir: Path

    def get(self, path: str) -> Any:
        request = urllib.request.Request(
            self.url + path, headers={"Authorization": f"Bearer {self.password}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def command(self, name: str, *arguments: str) -> Any:
        """As mitmweb's command bar runs a command: a POST that passes tornado's XSRF check,
        which wants the same token in the `_mitmproxy_xsrf` cookie and the X-XSRFToken header."""
        xsrf = secrets.token_hex(16)
        request = urllib.request.Request(
            f"{self.url}/commands/{name}",
            data=json.dumps({"arguments": list(arguments)}).encode(),
            headers={
                "Authorization": f"Bearer {self.password}",
                "Cookie": f"_mitmproxy_xsrf={xsrf}",
                "X-XSRFToken": xsrf,
                "Content-Type": "application/json",
            },
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def log_tail(self) -> str:
        return self.log.read_text()[-2000:]

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_mitmweb(capture: Path, workdir: Path, env: dict[str, str] | None = None) -> Mitmweb:
    """mitmweb reading `capture` with the addon, its dumps and config under `workdir`."""
    web_port, proxy_port = free_port(), free_port()
    password = secrets.token_hex(16)
    log = workdir / "mitmweb.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("mitmweb")),
                "--web-host", "127.0.0.1",
                "--web-port", str(web_port),
                "--listen-host", "127.0.0.1",
                "--listen-port", str(proxy_port),
                "--no-web-open-browser",
                "--set", f"web_password={password}",
                "--set", f"confdir={workdir / 'conf'}",
                "--set", f"llm_dump_dir={workdir / 'dumps'}",
                "-r", str(capture),
                "-s", str(ROOT / "addon" / "llm_rebuild.py"),
            ],
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )  # fmt: skip
    return Mitmweb(f"http://127.0.0.1:{web_port}", password, process, log, workdir)
