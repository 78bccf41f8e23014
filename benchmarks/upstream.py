"""A local stand-in for an LLM API: streams recorded bodies as SSE, chunk by chunk.

    python -m benchmarks.upstream PORT MANIFEST.json LOG_DIR

MANIFEST is a JSON list of file paths. `POST /s/<n>/<mode>/<request id>/<api path>` answers
with file n as `text/event-stream`, chunked, cut at event boundaries into chunks of 1-4 events
(seeded); the body is the file, byte for byte. Mode `paced` waits a little between chunks, as
a model generating tokens does (`paced<ms>`: that many milliseconds between chunks); `blast`
sends as fast as it can. Before the last (empty) chunk,
`<log dir>/<request id>.json` gets, per chunk, the body offset where it ends and the
CLOCK_MONOTONIC time it was written at, so a client can tell how long each took to reach it.
Listens on 127.0.0.1 only and exits when its stdin closes.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import sys
import time
from pathlib import Path

PACED_GAP = 0.002  # seconds between chunks in paced mode


def event_chunks(body: bytes, seed: int) -> list[bytes]:
    """`body` cut after every 1-4 events (at blank lines), bytes unchanged."""
    ends = [m.end() for m in re.finditer(rb"\r\n\r\n|\n\n|\r\r", body)]
    if not ends or ends[-1] != len(body):
        ends.append(len(body))
    rng = random.Random(seed)
    out = []
    start = taken = 0
    while taken < len(ends):
        taken = min(taken + rng.randint(1, 4), len(ends))
        out.append(body[start : ends[taken - 1]])
        start = ends[taken - 1]
    return out


async def serve(port: int, files: list[Path], log_dir: Path) -> None:
    streams = [event_chunks(p.read_bytes(), n) for n, p in enumerate(files)]

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                _method, target, _ = lines[0].split(" ", 2)
                headers = {
                    k.strip().lower(): v.strip()
                    for k, _, v in (line.partition(":") for line in lines[1:] if line)
                }
                await reader.readexactly(int(headers.get("content-length", "0")))
                _, _, number, mode, request_id, _ = target.split("/", 5)
                chunks = streams[int(number)]
                writer.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
                    b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n\r\n"
                )
                gap = PACED_GAP if mode == "paced" else None
                if mode.startswith("paced") and mode != "paced":
                    gap = int(mode[5:]) / 1000
                sent: list[tuple[int, int]] = []
                offset = 0
                for chunk in chunks:
                    if gap is not None:
                        await asyncio.sleep(gap)
                    offset += len(chunk)
                    sent.append((offset, time.monotonic_ns()))
                    writer.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    await writer.drain()
                (log_dir / f"{request_id}.json").write_text(json.dumps(sent))
                writer.write(b"0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, backlog=4096)
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes our stdin
    server.close()


if __name__ == "__main__":
    paths = [Path(p) for p in json.loads(Path(sys.argv[2]).read_text())]
    asyncio.run(serve(int(sys.argv[1]), paths, Path(sys.argv[3])))
