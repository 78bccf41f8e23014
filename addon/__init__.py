"""llm-rebuild: rebuild complete LLM API responses from streamed Server-Sent Events.

`rebuild(provider, body)` is the whole core without mitmproxy; the addon lives in
`addon/llm_rebuild.py`.
"""

from addon.record import StreamRebuild, rebuild

__all__ = ["StreamRebuild", "rebuild"]
