"""Which flows are LLM calls, and of which API: host, method and path to a provider.

Routes come from the provider descriptors. Routes on an official host are tried first, then
the same paths on any host, because OpenAI-compatible servers, gateways and `--mode reverse:`
set-ups reuse them, often below a prefix (`/openai/deployments/x/chat/completions`). A call is
a route *and* a method: a `GET` or `HEAD` on `/v1/messages` is not a Messages call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase

from addon.providers import PROVIDERS, Provider, Route


@dataclass(frozen=True, slots=True)
class CompiledRoute:
    host: str
    path: re.Pattern[str]
    provider: Provider
    methods: frozenset[str]
    query: re.Pattern[str] | None = None

    def matches(self, host: str, authority: str, method: str, path: str, query: str) -> bool:
        return self.takes_host(host, authority) and self.takes(method, path, query)

    def takes_host(self, host: str, authority: str) -> bool:
        return fnmatchcase(host, self.host) or fnmatchcase(authority, self.host)

    def takes(self, method: str, path: str, query: str) -> bool:
        """The method, path and query part of a match (the host part is `takes_host`)."""
        return (
            method in self.methods
            and self.path.search(path) is not None
            and (self.query is None or self.query.search(query) is not None)
        )


def compile_route(route: Route, provider: Provider) -> CompiledRoute:
    return CompiledRoute(
        route.host.lower(),
        re.compile(route.path),
        provider,
        frozenset(m.upper() for m in route.methods),
        re.compile(route.query) if route.query else None,
    )


def default_routes() -> tuple[CompiledRoute, ...]:
    routes = [compile_route(r, p) for p in PROVIDERS.values() for r in p.routes]
    return (
        *(r for r in routes if r.host != "*"),
        *(r for r in routes if r.host == "*"),
    )


ROUTE_SYNTAX = (
    "HOST PATH_REGEX PROVIDER [METHODS], e.g. 'llm.internal:8080 ^/llm/chat$ openai-chat' "
    "(METHODS: comma-separated, default POST)"
)


def parse_route(spec: str) -> CompiledRoute:
    """One user route; raises ValueError with a sentence a user can act on."""
    parts = spec.split()
    if len(parts) not in (3, 4):
        raise ValueError(f"route {spec!r} needs three or four parts: {ROUTE_SYNTAX}")
    host, path, provider_id = parts[:3]
    provider = PROVIDERS.get(provider_id)
    if provider is None:
        known = ", ".join(sorted(PROVIDERS))
        raise ValueError(f"route {spec!r}: unknown provider {provider_id!r} (known: {known})")
    try:
        pattern = re.compile(path)
    except re.error as exc:
        raise ValueError(f"route {spec!r}: bad path regex {path!r}: {exc}") from None
    methods = parts[3].upper().split(",") if len(parts) == 4 else ["POST"]
    return CompiledRoute(host.lower(), pattern, provider, frozenset(m for m in methods if m))


HOSTS_REMEMBERED = 1024
"""Hosts whose matching routes are kept; past that the memory starts again (a bound)."""


class Router:
    """User routes first, then the defaults; the first match wins."""

    def __init__(self, extra: tuple[CompiledRoute, ...] = ()) -> None:
        self.routes = (*extra, *default_routes())
        self._by_host: dict[tuple[str, str], tuple[CompiledRoute, ...]] = {}

    def provider_for(
        self, host: str, port: int, path: str, method: str = "POST"
    ) -> Provider | None:
        host = host.lower()
        authority = f"{host}:{port}"
        path, _, query = path.partition("?")
        method = method.upper()
        for route in self._host_routes(host, authority):
            if route.takes(method, path, query):
                return route.provider
        return None

    def _host_routes(self, host: str, authority: str) -> tuple[CompiledRoute, ...]:
        """The routes whose host pattern takes this host, in order: the host patterns are
        matched once per host, not for every flow (32 glob matches cost 50 µs a flow)."""
        key = (host, authority)
        routes = self._by_host.get(key)
        if routes is None:
            if len(self._by_host) >= HOSTS_REMEMBERED:
                self._by_host.clear()
            routes = tuple(r for r in self.routes if r.takes_host(host, authority))
            self._by_host[key] = routes
        return routes
