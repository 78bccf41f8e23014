"""A test-only mitmproxy script: `GET /__memory__` is answered by mitmdump itself with its own
memory, measured after a full garbage collection.

Loaded next to the addon (`-s tests/live/memory_probe.py`) by the load test. Only its own path
is touched; every other flow passes as if it were not there. Reading memory from inside the
process lets the test collect garbage and hand freed heap back first (`malloc_trim`), so what
is left is what is really kept; and `sys.getallocatedblocks()` counts live Python objects
exactly, which no RSS reading can.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import json
import sys
from pathlib import Path

from mitmproxy import ctx, http

PATH = "/__memory__"


def rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return -1


def give_back_free_heap() -> None:
    """glibc keeps freed memory for reuse; hand it back so RSS shows what is still in use."""
    # Not glibc: RSS then also counts free memory kept for reuse.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def insight_entries() -> int:
    """Calls the addon remembers on purpose (bounded) to find sessions and explain the cache."""
    addon = ctx.master.addons.get("llmrebuild")
    return addon.insights.entries if addon is not None else 0


class MemoryProbe:
    def request(self, flow: http.HTTPFlow) -> None:
        if flow.request.path != PATH:
            return
        rss_before = rss_kib()
        gc.collect()
        give_back_free_heap()
        report = {
            "rss_kib_before_collect": rss_before,
            "rss_kib": rss_kib(),
            "allocated_blocks": sys.getallocatedblocks(),
            "gc_objects": len(gc.get_objects()),
            "insight_entries": insight_entries(),
        }
        flow.response = http.Response.make(
            200, json.dumps(report), {"content-type": "application/json"}
        )


addons = [MemoryProbe()]
