"""mitmproxy script: stream event streams instead of buffering them (the baseline's setting).

Any mitmproxy user watching SSE needs this, or the client sees nothing until the answer ends.
Both benchmark proxies load it, so the only difference between them is llm-rebuild.
"""

from mitmproxy import http


def responseheaders(flow: http.HTTPFlow) -> None:
    response = flow.response
    if response is not None and response.headers.get("content-type", "").startswith(
        "text/event-stream"
    ):
        response.stream = True
