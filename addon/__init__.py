"""llm-rebuild: rebuild complete LLM API responses from their streamed answers.

`rebuild(provider, body)` is the whole core without mitmproxy; the addon lives in
`addon/llm_rebuild.py`. The packages follow the data: `wire` (bytes → events), `providers`
(one module per API), `record` (events → the typed record), `sinks` (where records go), and
`proxy` (the mitmproxy glue).
"""

from addon.record import Record, StreamRebuild, rebuild

__all__ = ["Record", "StreamRebuild", "rebuild"]
