"""Dump files: atomic, sorted by time, never colliding, never outside their folder."""

from __future__ import annotations

import gc
import json
import sys
from pathlib import Path

import pytest

from addon.record import Record
from addon.sinks.dump import DumpWriter, dump_name


def record(flow_id: str, provider: str = "p", **more: object) -> Record:
    return Record(provider=provider, flow_id=flow_id, more=dict(more))


def test_name_sorts_by_utc_time():
    early = dump_name(1_700_000_000.25, "openai-chat", "a")
    late = dump_name(1_700_000_001.0, "anthropic-messages", "0")
    assert early.startswith("20231114T221320.250000Z-openai-chat-a")
    assert sorted([late, early]) == [early, late]


@pytest.mark.parametrize("flow_id", ["../../etc/passwd", "/abs/path", "a/b\\c", "..", "", "\x00"])
def test_hostile_ids_cannot_leave_the_folder(tmp_path, flow_id):
    path = DumpWriter(tmp_path).write(record(flow_id, "../x"), 0.0)
    name = Path(path).name
    assert Path(path).parent == tmp_path
    assert "/" not in name and "\\" not in name and ".." not in name


def test_the_same_flow_again_replaces_its_file(tmp_path):
    """Running over the same capture twice must not pile up `-1`, `-2` copies."""
    writer = DumpWriter(tmp_path)
    first = writer.write(record("f", n=1), 5.0)
    second = writer.write(record("f", n=2), 5.0)
    assert first == second
    assert [p.name for p in tmp_path.iterdir()] == [Path(first).name]
    assert json.loads(Path(second).read_text())["n"] == 2


def test_ids_that_clean_up_alike_still_get_their_own_files(tmp_path):
    writer = DumpWriter(tmp_path)
    assert writer.write(record("a/b"), 5.0) != writer.write(record("ab"), 5.0)
    assert writer.write(record("a/b"), 5.0) != writer.write(record("a\\b"), 5.0)
    assert len(list(tmp_path.iterdir())) == 3


def test_no_temporary_files_are_left_behind(tmp_path):
    DumpWriter(tmp_path).write(record("f"), 1.0)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp")] == []


def test_folder_is_created_on_first_write(tmp_path):
    path = DumpWriter(tmp_path / "a" / "b").write(record("f"), 1.0)
    assert Path(path).exists()


def test_unusable_folder_raises_oserror(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")  # fails even for root, unlike a read-only folder
    with pytest.raises(OSError):
        DumpWriter(blocker / "sub").write(record("f"), 1.0)


def test_many_dumps_keep_nothing_in_memory(tmp_path):
    """Every dump has a new name; a long-running proxy must not keep one string per flow
    (pathlib interns every path part it parses, and CPython 3.12 never frees those)."""
    writer = DumpWriter(tmp_path)
    writer.write(record("warm-up"), 1.0)
    gc.collect()
    before = sys.getallocatedblocks()
    for n in range(500):
        writer.write(record(f"flow{n}"), 1.0 + n)
    gc.collect()
    assert sys.getallocatedblocks() - before < 100
