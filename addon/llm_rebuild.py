"""mitmproxy addon: rebuild complete LLM responses from their streams, beside the traffic.

    mitmdump -s addon/llm_rebuild.py                      # live (also mitmproxy, mitmweb)
    mitmdump -nr flows/x.flow -s addon/llm_rebuild.py     # offline, over a saved capture

The entry point only. The stages are `addon.wire` (bytes → events), `addon.providers` (one
module per API), `addon.record` (the typed record), `addon.sinks` (where records go) and
`addon.proxy` (the mitmproxy glue: hooks and options, the tee, the resolver, view, commands).
"""

from __future__ import annotations

import sys
from pathlib import Path

try:
    import addon  # noqa: F401  (installed with the project: `uv run mitmdump ...`)
except ImportError:  # a checkout used with another mitmdump: import from the repo itself
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from addon.proxy.commands import LLMCommands
from addon.proxy.har import LLMHar
from addon.proxy.hooks import LLMRebuild
from addon.proxy.otlp import LLMOtlp
from addon.proxy.websocket import LLMWebSocket
from addon.report.command import LLMReport
from addon.sinks.metadata import METADATA_KEY

rebuilder = LLMRebuild()
addons = [
    rebuilder,
    LLMCommands(rebuilder.resolver),
    LLMWebSocket(rebuilder),  # Responses over WebSocket: one record per response on a socket
    LLMOtlp(rebuilder),  # one OpenTelemetry span per record, when llm_otlp_endpoint is set
    LLMHar(rebuilder.resolver),  # llm.har: a HAR file with the records beside the bodies
    LLMReport(rebuilder.resolver),  # llm.report: one self-contained HTML page of the calls
]

__all__ = ["METADATA_KEY", "LLMRebuild", "addons", "rebuilder"]
