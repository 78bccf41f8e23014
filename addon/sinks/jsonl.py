"""Records as JSON Lines (`llm.dump`): one record per line, the file replaced atomically."""

from __future__ import annotations

import os
from collections.abc import Iterable

from addon.record import Record
from addon.sinks.dump import written_temporary


def write_jsonl(path: str, records: Iterable[Record]) -> None:
    """A reader never sees half a file: written beside the target, then renamed over it."""
    data = b"".join(record.dumps(indent=False) + b"\n" for record in records)
    folder = os.path.dirname(os.path.abspath(path))
    with written_temporary(folder, data, ".jsonl") as tmp:
        os.replace(tmp, path)
