"""The README's table of APIs, from the provider registry (a test keeps the two in step).

uv run python tools/providers_table.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from addon.providers import REGISTRY


def table() -> str:
    rows = ["| provider | API | routes (method host path) |", "| --- | --- | --- |"]
    for provider in REGISTRY:
        routes = "<br>".join(
            f"`{','.join(r.methods)} {r.host} {r.path}" + (f" ?{r.query}" if r.query else "") + "`"
            for r in provider.routes
        )
        rows.append(
            f"| `{provider.id}` | {provider.title} | {routes.replace('|', chr(92) + '|')} |"
        )
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(table(), end="")
