"""Where records go: flow metadata (in the addon), dump files, the mitmweb view."""

METADATA_KEY = "llm_rebuild"
"""Where a flow's record lives: `flow.metadata["llm_rebuild"]` (saved with the flow by -w)."""
