"""What a record tells beyond the response: what it cost, which agent session it belongs to,
and why the prompt cache missed.

Pure functions and small stateful folds over finished records, fed in request order; no
mitmproxy and no I/O (prices come from genai-prices' bundled snapshot). Each adds one key:

- `cost.add_cost(record)` -> `record["cost"]`
- `sessions.SessionTracker().assign(record)` -> `record["session"]`
- `cache.CacheExplainer().explain(record)` -> `record["cache"]` (reads `record["session"]`,
  so assign the session first)

Nothing is imported here: `cost` loads genai-prices, which the other two do not need.
"""
