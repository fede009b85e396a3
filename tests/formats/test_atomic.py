"""Atomic file writes: the old bytes or the new ones, never half; crash leftovers cleared."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from driftstore.formats import atomic
from driftstore.formats.atomic import TEMP_SUFFIX, remove_file, remove_stale_temps, write_atomic


def test_write_creates_folders_replaces_and_leaves_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "shard.json"
    write_atomic(target, b"one")
    write_atomic(target, b"two")
    assert target.read_bytes() == b"two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["shard.json"]


def test_write_keeps_the_file_mode(tmp_path: Path) -> None:
    target = tmp_path / "shard.json"
    target.write_bytes(b"old")
    target.chmod(0o640)
    write_atomic(target, b"new")
    assert target.stat().st_mode & 0o777 == 0o640


def test_a_failed_rename_keeps_the_old_bytes_and_no_temp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "shard.json"
    target.write_bytes(b"old")

    def crash(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", crash)
    with pytest.raises(OSError):
        write_atomic(target, b"new" * 1000)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["shard.json"]


def test_stale_temps_are_removed_and_fresh_ones_kept(tmp_path: Path) -> None:
    stale = tmp_path / f".api.json.abc{TEMP_SUFFIX}"
    fresh = tmp_path / f".auth.json.def{TEMP_SUFFIX}"
    other = tmp_path / "api.json"
    for path in (stale, fresh, other):
        path.write_bytes(b"x")
    old = time.time() - 3600
    os.utime(stale, (old, old))
    assert remove_stale_temps(tmp_path) == [stale]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([fresh.name, other.name])
    assert remove_stale_temps(tmp_path / "missing") == []


def test_remove_file(tmp_path: Path) -> None:
    target = tmp_path / "x.json"
    target.write_bytes(b"x")
    assert remove_file(target) is True
    assert remove_file(target) is False
