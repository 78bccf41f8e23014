"""The session report as a command: captures (.flow, HAR, a dump folder) and mitmproxy's flows
→ records in request order → one HTML page (`addon.sinks.report` makes the page).

    uv run python -m addon.report capture.flow -o report.html
    llm.report @all ~/report.html          (the console's `:` prompt, mitmweb's command bar)
"""
