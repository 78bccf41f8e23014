"""Fixtures for the end-to-end tests: one fake upstream and one mitmdump per mode, per session.

Everything binds 127.0.0.1 only and is stopped in teardown, also when a test fails.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.live.proxy import Mitmdump
from tests.live.upstream import Upstream


@pytest.fixture(scope="session")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upstream]:
    server = Upstream(tmp_path_factory.mktemp("upstream")).start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def proxies_in_front_of(
    port: int, tmp_path_factory: pytest.TempPathFactory, prefix: str = ""
) -> Iterator[dict[str, Mitmdump]]:
    """Both modes in front of an upstream on 127.0.0.1, started side by side (each start is
    mostly Python importing mitmproxy), stopped at the end whatever happened."""
    started = {
        # `mitmdump --mode reverse:http://<upstream>`: apps use it as their `base_url`.
        "reverse": Mitmdump(
            tmp_path_factory.mktemp(f"{prefix}reverse"),
            "--mode",
            f"reverse:http://127.0.0.1:{port}",
        ),
        # Plain `mitmdump`: apps use it as their HTTP proxy. It accepts the fake upstream's
        # self-signed certificate for the HTTPS tests.
        "regular": Mitmdump(tmp_path_factory.mktemp(f"{prefix}regular"), "--ssl-insecure"),
    }
    try:
        for proxy in started.values():
            proxy.launch()
        for proxy in started.values():
            proxy.wait_listening()
        yield started
    finally:
        for proxy in started.values():
            proxy.stop()


@pytest.fixture(scope="session")
def proxies(
    upstream: Upstream, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Mitmdump]]:
    with proxies_in_front_of(upstream.port, tmp_path_factory) as started:
        yield started


@pytest.fixture(scope="session")
def reverse_proxy(proxies: dict[str, Mitmdump]) -> Mitmdump:
    return proxies["reverse"]


@pytest.fixture(scope="session")
def regular_proxy(proxies: dict[str, Mitmdump]) -> Mitmdump:
    return proxies["regular"]
