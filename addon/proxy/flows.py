"""What a mitmproxy flow holds, as the plain values the record stage takes."""

from __future__ import annotations

from mitmproxy import http

from addon.providers import Provider
from addon.proxy.capture import BodyTee, FlowCapture
from addon.record import Record, rebuild_answer
from addon.record.flowside import FlowFacts
from addon.record.routing import Router


def provider_of(flow: http.HTTPFlow, router: Router) -> Provider | None:
    """The API this flow calls, by host, method and path; None for every other flow."""
    request = flow.request
    return router.provider_for(request.pretty_host, request.port, request.path, request.method)


def live_capture(flow: http.HTTPFlow) -> FlowCapture | None:
    """The running tee of a streaming answer, if any."""
    stream = flow.response.stream if flow.response is not None else None
    return stream if isinstance(stream, FlowCapture) else None


def request_body(flow: http.HTTPFlow) -> tuple[bytes | None, str | None]:
    """The request body (content-decoded) and, when it is missing, why."""
    request = flow.request
    if request.raw_content is None:
        tee = request.stream
        if isinstance(tee, BodyTee) and tee.dropped:
            return None, f"request body over llm_max_body ({tee.max_body} bytes): not kept"
        return None, (
            "request body not kept: mitmproxy streamed it (stream_large_bodies) without "
            "storing it (store_streamed_bodies)"
        )
    return request.get_content(strict=False) or b"", None


def header_pairs(headers: http.Headers) -> list[tuple[str, str]]:
    """Every header, repeated ones included, decoded as mitmproxy decodes them."""
    fields: tuple[tuple[bytes, bytes], ...] = headers.fields
    return [
        (name.decode("utf-8", "surrogateescape"), value.decode("utf-8", "surrogateescape"))
        for name, value in fields
    ]


def facts_of(flow: http.HTTPFlow) -> FlowFacts:
    request = flow.request
    response = flow.response
    body, note = request_body(flow)
    return FlowFacts(
        flow_id=flow.id,
        method=request.method,
        url=request.pretty_url,
        request_headers=header_pairs(request.headers),
        request_body=body,
        request_body_note=note,
        started=request.timestamp_start,
        status_code=response.status_code if response is not None else None,
        response_headers=header_pairs(response.headers) if response is not None else None,
        headers_at=response.timestamp_start if response is not None else None,
        ended=response.timestamp_end if response is not None else None,
        error=flow.error.msg if flow.error is not None else None,
        error_at=flow.error.timestamp if flow.error is not None else None,
    )


def rebuild_response(flow: http.HTTPFlow, provider: Provider) -> Record | None:
    """A rebuild of the response body on the flow (offline, or buffered); None without one."""
    response = flow.response
    if response is None or response.raw_content is None:
        return None
    return rebuild_answer(
        provider,
        response.raw_content,
        response.headers.get("content-type", ""),
        response.headers.get("content-encoding", ""),
        response.status_code,
        flow.request.path,
    )
