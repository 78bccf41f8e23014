"""One JSON file per LLM record, written atomically, named to sort by time and never collide.

The same flow's record always gets the same name, so running over a capture again replaces
its files rather than piling up copies.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from addon.record import Record

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def dump_name(timestamp: float, provider: str, flow_id: str, part: int | None = None) -> str:
    """`20261125T045509.123456Z-openai-chat-<id>.json`: UTC time first so `ls` sorts by time.

    Ids and provider come from traffic or capture files, so only [A-Za-z0-9_-] survive: a name
    can never reach outside the dump folder. `part`: which response of a WebSocket flow,
    `<id>.r3.json`; no cleaned id holds a dot, so these never collide with a flow's own name.
    """
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(timestamp))
    micros = int((timestamp % 1) * 1_000_000)
    safe_id = _UNSAFE.sub("", flow_id)[:64] or "flow"
    if safe_id != flow_id:  # two ids that clean up alike must still not share a file
        safe_id += "-" + hashlib.sha256(flow_id.encode("utf-8", "replace")).hexdigest()[:12]
    safe_provider = _UNSAFE.sub("", provider)[:32] or "llm"
    suffix = f".r{part:d}" if isinstance(part, int) else ""  # a restored record may hold anything
    return f"{stamp}.{micros:06d}Z-{safe_provider}-{safe_id}{suffix}.json"


@contextlib.contextmanager
def written_temporary(folder: str, data: bytes, suffix: str) -> Iterator[str]:
    """`data` in a temporary file inside `folder`, so that linking or renaming it into place
    is atomic: a reader never sees half a file. The temporary file is gone afterwards."""
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=folder)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        yield tmp
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


class DumpWriter:
    """Writes records into one folder; the folder is created on first use."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.folder = os.fspath(self.directory)

    def write(self, record: Record, timestamp: float) -> str:
        """Write atomically (temporary file, then rename over the name); raises OSError.

        A file's path stays a plain string: pathlib interns every path part it parses, and
        CPython 3.12 never frees those, so each new dump name would be kept for the life of
        the proxy.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        name = dump_name(timestamp, record.provider, str(record.flow_id), record.socket_index)
        target = os.path.join(self.folder, name)
        with written_temporary(self.folder, record.dumps(), ".json") as tmp:
            os.replace(tmp, target)
        return target
