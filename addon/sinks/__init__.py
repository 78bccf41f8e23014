"""Where records go: flow metadata (in the addon), dump files, the mitmweb view."""
