"""llm-rebuild's speed against the bare JSON parse, the SDK stream helpers and ccproxy.

Run with `uv run python -m benchmarks` (see docs/benchmarks.md). Not part of the test suite.
"""
