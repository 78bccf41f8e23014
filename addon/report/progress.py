"""A progress bar on a terminal; nothing at all when the output is not one (a pipe, CI, a log)."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 28


class Progress:
    def __init__(self, stream: TextIO | None = None, enabled: bool | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._shown = 0.0
        self._drawn = False

    def update(self, label: str, done: int, total: int, unit: str = "") -> None:
        """Redrawn at most ten times a second, and always at the end of a stage."""
        if not self.enabled:
            return
        now = time.monotonic()
        if done < total and now - self._shown < 0.1:
            return
        self._shown = now
        share = done / total if total else 1.0
        filled = int(share * WIDTH)
        bar = "█" * filled + "░" * (WIDTH - filled)
        counts = f"{done:,}/{total:,}{unit}"
        self.stream.write(f"\r{label:<9} {bar} {share:4.0%}  {counts}\033[K")
        self.stream.flush()
        self._drawn = True

    def done(self) -> None:
        """The bar's line is cleared, so what is printed next starts on a clean line."""
        if self.enabled and self._drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._drawn = False
