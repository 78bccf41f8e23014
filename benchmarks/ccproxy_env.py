"""ccproxy 0.2.10's accumulators as a contender: their own venv, and a worker subprocess.

ccproxy-api pins a large dependency tree (FastAPI, ...) that its accumulators never touch, so
it is installed with `--no-deps` plus only what `ccproxy.llms.streaming.accumulators` imports
(pydantic, structlog, rich), in `benchmarks/.venv-ccproxy/` (created on first use), away from
the project's own environment.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv-ccproxy"
PYTHON = VENV / "bin" / "python"
CCPROXY = "ccproxy-api==0.2.10"
IMPORTED = ("pydantic>=2.12.2", "structlog>=25.4.0", "rich>=14.2.0")
PROBE = "from ccproxy.llms.streaming.accumulators import ClaudeAccumulator"


def _works() -> bool:
    if not PYTHON.exists():
        return False
    return subprocess.run([PYTHON, "-c", PROBE], capture_output=True).returncode == 0


def ensure_venv(log: Any = print) -> Path:
    """The venv's python, after creating the venv if it is missing or broken."""
    if _works():
        return PYTHON
    log(f"creating {VENV.relative_to(HERE.parent)} with {CCPROXY} (no deps) ...")
    base = getattr(sys, "_base_executable", sys.executable)
    uv = shutil.which("uv")
    if uv:
        subprocess.run([uv, "venv", "-q", "--clear", "-p", base, str(VENV)], check=True)
        install = [uv, "pip", "install", "-q", "--python", str(PYTHON)]
    else:
        subprocess.run([base, "-m", "venv", "--clear", str(VENV)], check=True)
        install = [str(PYTHON), "-m", "pip", "install", "-q"]
    subprocess.run([*install, *IMPORTED], check=True)
    subprocess.run([*install, "--no-deps", CCPROXY], check=True)
    if not _works():
        raise RuntimeError(f"{CCPROXY} installed but its accumulators do not import")
    return PYTHON


class CCProxyWorker:
    """A running `ccproxy_worker.py`, asked to time one stream at a time."""

    def __init__(self, manifest: dict[str, dict[str, Any]], manifest_path: Path) -> None:
        python = ensure_venv()
        manifest_path.write_text(json.dumps(manifest))
        self.log_path = manifest_path.with_suffix(".log")
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [python, str(HERE / "ccproxy_worker.py"), str(manifest_path)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,  # ccproxy's own warnings
                text=True,
            )
        ready = self._read()
        if not ready.get("ready"):
            raise RuntimeError(f"ccproxy worker did not start: {ready}")

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"ccproxy worker exited; see {self.log_path}")
        return json.loads(line)

    def time(self, stream: str, budget: float | None) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"stream": stream, "budget": budget}) + "\n")
        self.process.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
