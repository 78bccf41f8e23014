"""One JSON file per LLM flow, written atomically, named to sort by time and never collide."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def dump_name(timestamp: float, provider: str, flow_id: str) -> str:
    """`20261125T045509.123456Z-openai-chat-<id>.json`: UTC time first so `ls` sorts by time.

    Ids and provider come from traffic or capture files, so only [A-Za-z0-9_-] survive: a name
    can never reach outside the dump folder.
    """
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(timestamp))
    micros = int((timestamp % 1) * 1_000_000)
    safe_id = _UNSAFE.sub("", flow_id)[:64] or "flow"
    safe_provider = _UNSAFE.sub("", provider)[:32] or "llm"
    return f"{stamp}.{micros:06d}Z-{safe_provider}-{safe_id}.json"


def to_json(record: dict[str, Any]) -> bytes:
    return orjson.dumps(record, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS) + b"\n"


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

    def write(self, record: dict[str, Any], timestamp: float) -> str:
        """Write atomically (temporary file, then link); raises OSError when it cannot.

        A file's path stays a plain string: pathlib interns every path part it parses, and
        CPython 3.12 never frees those, so each new dump name would be kept for the life of
        the proxy.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        name = dump_name(timestamp, str(record.get("provider")), str(record.get("flow_id")))
        with written_temporary(self.folder, to_json(record), ".json") as tmp:
            return self._publish(tmp, name)

    def _publish(self, tmp: str, name: str) -> str:
        """Hard-link under the final name; linking never replaces a file, so names never clash."""
        stem = name.removesuffix(".json")
        for n in range(1000):
            target = os.path.join(self.folder, name if n == 0 else f"{stem}-{n}.json")
            try:
                os.link(tmp, target)
            except FileExistsError:
                continue
            except OSError:  # file systems without hard links: check, then rename
                if os.path.exists(target):
                    continue
                os.replace(tmp, target)
            return target
        raise FileExistsError(f"no free file name for {name} in {self.directory}")
