"""Where records go. Each sink only consumes a finished `Record`; none decides anything about it.

`metadata` (the flow's own copy), `dump` (one file per record), `jsonl` (`llm.dump`), `logline`
(the one-line summary), `view` (the text mitmweb and the console show).
"""
