"""Google Gemini `generateContent` (AI Studio, Vertex AI, the Gemini CLI's Code Assist): the
descriptors; the fold and its merge rules are in `fold.py`, the Code Assist wrapper in
`code_assist.py`, reading a response in `summary.py`."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote_plus

from addon.providers.base import JSON, Provider, Route, Sample
from addon.providers.gemini.code_assist import GeminiCodeAssist
from addon.providers.gemini.fold import GeminiGenerateContent, holds_wide_integers
from addon.providers.gemini.summary import describe_error, summarize_response, usage_of
from addon.wire.framing import Framing
from addon.wire.jsonarray import JSONArrayDecoder
from addon.wire.sse import SSEDecoder

__all__ = [
    "CODE_ASSIST_PROVIDER",
    "PROVIDER",
    "GeminiCodeAssist",
    "GeminiGenerateContent",
    "GeminiProvider",
    "describe_error",
    "holds_wide_integers",
    "summarize_response",
    "usage_of",
]

_ALT_SSE: Final = re.compile(r"(?:^|&)\$?alt=sse(?:&|$)", re.IGNORECASE)
_STREAMED: Final = re.compile(r":streamGenerateContent$")


@dataclass(frozen=True)
class GeminiProvider(Provider):
    """Gemini streams as SSE with `?alt=sse` and as one JSON array without it."""

    def framing_for(self, content_type: str, path: str) -> Callable[[], Framing] | None:
        content_type = content_type.lower()
        path, _, query = path.partition("?")
        if content_type.startswith("text/event-stream"):
            return SSEDecoder
        if not _STREAMED.search(path):
            return None  # `:generateContent`: one JSON object, recorded as it is
        if content_type.startswith("application/json"):
            # Without `alt=sse` the stream is a JSON array; with it, JSON is an error body.
            return None if _ALT_SSE.search(unquote_plus(query)) else JSONArrayDecoder
        return SSEDecoder if _ALT_SSE.search(unquote_plus(query)) else JSONArrayDecoder


_MODEL_PATH: Final = (
    r"/(?:models|tunedModels|endpoints)/[^/:]+:(?:streamGenerateContent|generateContent)$"
)
_CODE_ASSIST_PATH: Final = r"/v1internal:(?:streamGenerateContent|generateContent)$"
_REQUEST: Final[JSON] = {
    "contents": [{"role": "user", "parts": [{"text": "What is the capital of France?"}]}]
}
_GOOGLE_KEY: Final = (("x-goog-api-key", "fake-key-for-tests"),)

PROVIDER = GeminiProvider(
    id=GeminiGenerateContent.provider,
    title="Google Gemini generateContent (AI Studio, Vertex AI)",
    accumulator=GeminiGenerateContent,
    routes=(
        Route("generativelanguage.googleapis.com", r"^/v1(?:beta|alpha)?" + _MODEL_PATH),
        Route("*aiplatform.googleapis.com", _MODEL_PATH),
        Route("*", _MODEL_PATH),
    ),
    framing=SSEDecoder,
    stream_types=("text/event-stream",),
    samples=(
        Sample(
            host="generativelanguage.googleapis.com",
            path="/v1beta/models/gemini-2.0-flash-exp:streamGenerateContent?alt=sse",
            request=_REQUEST,
            answer="gemini/ai-studio/pydantic-ai__test_google_model_stream__0.sse",
            headers=_GOOGLE_KEY,
        ),
        Sample(
            host="generativelanguage.googleapis.com",
            path="/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse",
            request=_REQUEST,
            answer="gemini/ai-studio/pydantic-ai__test_google_model_thinking_part_iter__0.sse",
            headers=_GOOGLE_KEY,
        ),
        Sample(
            host="us-central1-aiplatform.googleapis.com",
            path="/v1beta1/projects/test-project/locations/us-central1/publishers/google/models/"
            "gemini-2.5-flash:streamGenerateContent",
            request=_REQUEST,
            answer="gemini/vertex/openinference__test_gemini_token_counts_streaming__0.jsonarray",
            content_type="application/json; charset=UTF-8",
            headers=(("authorization", "Bearer fake-token-for-tests"),),
        ),
    ),
)

CODE_ASSIST_PROVIDER = GeminiProvider(
    id=GeminiCodeAssist.provider,
    title="Gemini CLI Code Assist (v1internal)",
    accumulator=GeminiCodeAssist,
    routes=(
        Route("cloudcode-pa.googleapis.com", "^" + _CODE_ASSIST_PATH),
        Route("*", _CODE_ASSIST_PATH),
    ),
    framing=SSEDecoder,
    stream_types=("text/event-stream",),
    samples=(
        Sample(
            host="cloudcode-pa.googleapis.com",
            path="/v1internal:streamGenerateContent?alt=sse",
            request={"model": "gemini-2.5-pro", "project": "fake-project", "request": _REQUEST},
            answer="gemini/code-assist/constructed__code_assist_stream.sse",
            headers=(("authorization", "Bearer fake-token-for-tests"),),
        ),
    ),
)
