"""The Gemini CLI's Code Assist API (`v1internal:streamGenerateContent`): the Gemini fold
inside a wrapper."""

from __future__ import annotations

from addon.providers.base import JSON, Summary, Usage
from addon.providers.gemini.fold import GeminiGenerateContent, _copy
from addon.providers.gemini.summary import describe_error, summarize_response, usage_of


class GeminiCodeAssist(GeminiGenerateContent):
    """The Gemini CLI's Code Assist API: each chunk is `{"response": {...}, "traceId": ...}`.

    The record keeps the shape of the non-streamed `v1internal:generateContent` answer: the
    wrapper's fields (the last of each) around the merged response.
    """

    provider = "gemini-code-assist"
    _wrapped = True

    def __init__(self) -> None:
        super().__init__()
        self._wrapper: JSON = {}

    def _unwrap(self, chunk: JSON) -> JSON | None:
        response = chunk.get("response")
        if type(response) is not dict:
            if "error" in chunk:
                return chunk
            self.errors.append(f"chunk #{self._chunks}: no `response` object; kept as unknown")
            self.unknown.append({"event": "message", "data": chunk})
            return None
        for key, value in chunk.items():
            if key != "response":
                self._wrapper[key] = value
        return response

    def _wrap(self, response: JSON) -> JSON:
        return {"response": response, **_copy(self._wrapper)}

    def result(self) -> JSON | None:
        if not self._wrapper and not self._top and not self._candidates:
            return None
        return super().result() or self._wrap({})

    @staticmethod
    def summarize(response: JSON) -> Summary:
        return summarize_response(_inner(response))

    @staticmethod
    def usage(response: JSON) -> Usage:
        return usage_of(_inner(response))

    @staticmethod
    def response_complete(response: JSON) -> list[str]:
        inner = _inner(response)
        if "error" in response or "error" in inner:
            error_holder = response if "error" in response else inner
            return [f"error in body: {describe_error(error_holder)}"]
        return []


def _inner(response: JSON) -> JSON:
    inner = response.get("response")
    return inner if type(inner) is dict else response
