"""Arize Phoenix for the live OTLP tests: OTLP/HTTP and the REST API on 127.0.0.1 only.

Phoenix binds its OTLP/gRPC receiver to every interface (`[::]`) whatever PHOENIX_HOST says;
the tests export over HTTP, so the gRPC server is simply not started.
"""

from __future__ import annotations

import sys

import phoenix.server.app as app
from phoenix.server.main import main


class _NoGrpc:
    """Stands in for Phoenix's gRPC server: nothing listens."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *args: object) -> None:
        return None


app.GrpcServer = _NoGrpc  # type: ignore[assignment,misc]

if __name__ == "__main__":
    sys.argv = ["phoenix", "serve"]
    sys.exit(main())
