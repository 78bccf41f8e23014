"""Which flows are LLM calls, and of which API: host and path to provider id.

The official hosts are listed first for the reader; the same paths on any other host follow,
because OpenAI-compatible servers, gateways and `--mode reverse:` set-ups reuse them, often
below a prefix (`/openai/deployments/x/chat/completions`, `/claude/v1/messages`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase

from addon.providers import PROVIDERS


@dataclass(frozen=True, slots=True)
class Route:
    host: str  # a glob over "host" or "host:port", case-insensitive ("*" for any)
    path: re.Pattern[str]  # searched in the path without its query string
    provider: str

    def matches(self, host: str, authority: str, path: str) -> bool:
        return (
            fnmatchcase(host, self.host) or fnmatchcase(authority, self.host)
        ) and self.path.search(path) is not None


def _route(host: str, path: str, provider: str) -> Route:
    return Route(host, re.compile(path), provider)


DEFAULT_ROUTES: tuple[Route, ...] = (
    _route("api.anthropic.com", r"^/v1/messages$", "anthropic-messages"),
    _route("api.openai.com", r"^/v1/chat/completions$", "openai-chat"),
    _route("api.openai.com", r"^/v1/responses(/[^/]+)?$", "openai-responses"),
    _route("*", r"/v1/messages$", "anthropic-messages"),
    _route("*", r"/chat/completions$", "openai-chat"),
    _route("*", r"/responses(/resp_[^/]+)?$", "openai-responses"),
)

ROUTE_SYNTAX = "HOST PATH_REGEX PROVIDER, e.g. 'llm.internal:8080 ^/api/chat$ openai-chat'"


def parse_route(spec: str) -> Route:
    """One user route; raises ValueError with a sentence a user can act on."""
    parts = spec.split()
    if len(parts) != 3:
        raise ValueError(f"route {spec!r} needs three parts: {ROUTE_SYNTAX}")
    host, path, provider = parts
    if provider not in PROVIDERS:
        known = ", ".join(sorted(PROVIDERS))
        raise ValueError(f"route {spec!r}: unknown provider {provider!r} (known: {known})")
    try:
        pattern = re.compile(path)
    except re.error as exc:
        raise ValueError(f"route {spec!r}: bad path regex {path!r}: {exc}") from None
    return Route(host.lower(), pattern, provider)


class Router:
    """User routes first, then the defaults; the first match wins."""

    def __init__(self, extra: tuple[Route, ...] = ()) -> None:
        self.routes = (*extra, *DEFAULT_ROUTES)

    def provider_for(self, host: str, port: int, path: str) -> str | None:
        host = host.lower()
        authority = f"{host}:{port}"
        path = path.split("?", 1)[0]
        for route in self.routes:
            if route.matches(host, authority, path):
                return route.provider
        return None
