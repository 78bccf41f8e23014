"""Credentials never leave the proxy: headers, query keys and body fields are masked.

Everything that is written or logged (dump files, metadata, the summary line, the mitmweb view)
passes through one `Redactor`, so one list decides what counts as a secret.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "[REDACTED]"

SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "x-goog-api-key",
        "cookie",
        "set-cookie",
        "openai-api-key",
        "anthropic-api-key",
        "x-auth-token",
        # AWS SigV4 (the signature is in `authorization`) and temporary credentials
        "x-amz-security-token",
        # Google: the OAuth bearer is in `authorization`; these name the billed project
        "x-goog-user-project",
        "x-goog-api-client-project",
    }
)
SECRET_QUERY_KEYS = frozenset(
    {
        "key",
        "api_key",
        "api-key",
        "apikey",
        "access_token",
        "token",
        "sig",
        "signature",
        "code",
        # AWS presigned URLs
        "x-amz-signature",
        "x-amz-security-token",
        "x-amz-credential",
    }
)
SECRET_BODY_KEYS = frozenset(
    {
        "api_key",
        "apikey",
        "api-key",
        "access_token",
        "refresh_token",
        "id_token",
        "client_secret",
        "password",
        "secret",
        "authorization",
        "x-api-key",
        "aws_secret_access_key",
        "aws_session_token",
        "private_key",
    }
)


class Redactor:
    """Masks values by name; the names given in `extra` count for headers, query and body."""

    def __init__(self, extra: Iterable[str] = ()) -> None:
        more = {name.strip().lower() for name in extra if name.strip()}
        self.header_names = SECRET_HEADERS | more
        self.query_keys = SECRET_QUERY_KEYS | more
        self.body_keys = SECRET_BODY_KEYS | more

    def header_items(self, items: Iterable[tuple[str, str]]) -> dict[str, str]:
        """Headers as a dict (repeated names joined with ', '), secrets masked."""
        out: dict[str, str] = {}
        for name, value in items:
            shown = MASK if name.lower() in self.header_names else value
            out[name] = f"{out[name]}, {shown}" if name in out else shown
        return out

    def url(self, url: str) -> str:
        parts = urlsplit(url)
        if not parts.query and "@" not in parts.netloc:
            return url
        netloc = parts.netloc
        if "@" in netloc:  # user:password@host
            netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
        query = urlencode(
            [
                (k, MASK if k.lower() in self.query_keys else v)
                for k, v in parse_qsl(parts.query, keep_blank_values=True)
            ],
            safe="[]",
        )
        return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))

    def body(self, value: Any) -> Any:
        """A copy of a JSON value with secret fields masked at any depth."""
        if isinstance(value, dict):
            return {
                k: MASK if k.lower() in self.body_keys and v not in (None, "") else self.body(v)
                for k, v in value.items()
            }
        if isinstance(value, list):
            return [self.body(v) for v in value]
        return value


def redact_record(data: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
    """A stored record passes today's redaction again: it may come from a capture file made
    elsewhere, or before `llm_redact` named more secrets."""
    out = dict(data)
    request = out.get("request")
    if isinstance(request, dict):
        request = dict(request)
        if isinstance(request.get("headers"), dict):
            request["headers"] = redactor.header_items(request["headers"].items())
        if isinstance(request.get("url"), str):
            request["url"] = redactor.url(request["url"])
        if "body" in request:
            request["body"] = redactor.body(request["body"])
        out["request"] = request
    if isinstance(out.get("response_headers"), dict):
        out["response_headers"] = redactor.header_items(out["response_headers"].items())
    return out
