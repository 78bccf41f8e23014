"""Dump files: atomic, sorted by time, never colliding, never outside their folder."""

from __future__ import annotations

import json

import pytest

from addon.sinks.dump import DumpWriter, dump_name


def test_name_sorts_by_utc_time():
    early = dump_name(1_700_000_000.25, "openai-chat", "a")
    late = dump_name(1_700_000_001.0, "anthropic-messages", "0")
    assert early.startswith("20231114T221320.250000Z-openai-chat-a")
    assert sorted([late, early]) == [early, late]


@pytest.mark.parametrize("flow_id", ["../../etc/passwd", "/abs/path", "a/b\\c", "..", "", "\x00"])
def test_hostile_ids_cannot_leave_the_folder(tmp_path, flow_id):
    path = DumpWriter(tmp_path).write({"flow_id": flow_id, "provider": "../x"}, 0.0)
    assert path.parent == tmp_path
    assert "/" not in path.name and "\\" not in path.name and ".." not in path.name


def test_same_flow_twice_gets_two_files(tmp_path):
    writer = DumpWriter(tmp_path)
    first = writer.write({"flow_id": "f", "provider": "p", "n": 1}, 5.0)
    second = writer.write({"flow_id": "f", "provider": "p", "n": 2}, 5.0)
    assert first != second
    assert json.loads(first.read_text())["n"] == 1
    assert json.loads(second.read_text())["n"] == 2


def test_no_temporary_files_are_left_behind(tmp_path):
    DumpWriter(tmp_path).write({"flow_id": "f", "provider": "p"}, 1.0)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tmp")] == []


def test_folder_is_created_on_first_write(tmp_path):
    path = DumpWriter(tmp_path / "a" / "b").write({"flow_id": "f", "provider": "p"}, 1.0)
    assert path.exists()


def test_unusable_folder_raises_oserror(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")  # fails even for root, unlike a read-only folder
    with pytest.raises(OSError):
        DumpWriter(blocker / "sub").write({"flow_id": "f", "provider": "p"}, 1.0)
