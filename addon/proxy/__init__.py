"""The mitmproxy glue: the stream tee, what a flow holds, the record resolver, the view and the
commands. Everything that knows mitmproxy's objects is in this package (and the entry point
`addon/llm_rebuild.py`); the stages before it take plain bytes and values."""
