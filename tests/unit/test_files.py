"""Crash safety of files.write_atomic and files.publish_exclusive."""

from __future__ import annotations

import errno
import multiprocessing
import os
import signal
import stat
import time
from pathlib import Path

import pytest

from kraft_entrypoint import files


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o644], ids=oct)
def test_write_atomic_writes_bytes_and_mode(mode: int, tmp_path: Path) -> None:
    """The file holds exactly the data, with exactly the requested mode, whatever the umask."""
    target = tmp_path / "server.properties"
    old_umask = os.umask(0o077)
    try:
        files.write_atomic(str(target), b"a=1\n", mode=mode)
    finally:
        os.umask(old_umask)
    assert target.read_bytes() == b"a=1\n"
    assert stat.S_IMODE(target.stat().st_mode) == mode
    assert _leftovers(tmp_path) == []


def test_write_atomic_replaces_and_keeps_no_temp(tmp_path: Path) -> None:
    """Replacing an existing file swaps the inode (rename) and leaves no temp file."""
    target = tmp_path / "f"
    target.write_bytes(b"old")
    old_inode = target.stat().st_ino
    files.write_atomic(str(target), b"new")
    assert target.read_bytes() == b"new"
    assert target.stat().st_ino != old_inode
    assert os.listdir(tmp_path) == ["f"]


def test_write_atomic_failure_leaves_old_state_and_no_temp(tmp_path: Path) -> None:
    """When the rename fails (target is a directory) the target is untouched and the temp removed."""
    target = tmp_path / "taken"
    target.mkdir()
    (target / "inside").write_bytes(b"x")
    with pytest.raises(IsADirectoryError):
        files.write_atomic(str(target), b"data")
    assert (target / "inside").read_bytes() == b"x"
    assert _leftovers(tmp_path) == []


def test_write_atomic_into_missing_directory_fails_cleanly(tmp_path: Path) -> None:
    """No directory: an OSError, nothing created."""
    with pytest.raises(FileNotFoundError):
        files.write_atomic(str(tmp_path / "no" / "f"), b"x")
    assert list(tmp_path.iterdir()) == []


def test_publish_exclusive_creates_once(tmp_path: Path) -> None:
    """The first publish creates the file (mode kept); the second returns False and changes nothing."""
    target = tmp_path / "cluster_id"
    assert files.publish_exclusive(str(target), b"first\n", mode=0o644) is True
    stamp = target.stat()
    assert files.publish_exclusive(str(target), b"second\n") is False
    assert target.read_bytes() == b"first\n"
    assert (target.stat().st_ino, target.stat().st_mtime_ns) == (stamp.st_ino, stamp.st_mtime_ns)
    assert stat.S_IMODE(stamp.st_mode) == 0o644
    assert os.listdir(tmp_path) == ["cluster_id"]


def test_publish_exclusive_without_hard_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """On a filesystem refusing hard links (EPERM) the O_EXCL fallback still creates exactly once."""

    def no_links(src: str, dst: str) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    target = tmp_path / "cluster_id"
    assert files.publish_exclusive(str(target), b"one\n") is True
    assert files.publish_exclusive(str(target), b"two\n") is False
    assert target.read_bytes() == b"one\n"
    assert os.listdir(tmp_path) == ["cluster_id"]


def test_publish_exclusive_other_errors_propagate(tmp_path: Path) -> None:
    """A missing directory is an error, not a silent False."""
    with pytest.raises(FileNotFoundError):
        files.publish_exclusive(str(tmp_path / "missing" / "cluster_id"), b"x")


VERSIONS = [bytes([65 + i]) * (200_000 + i) for i in range(3)]


def _rewrite_forever(path: str) -> None:
    i = 0
    while True:
        files.write_atomic(path, VERSIONS[i % len(VERSIONS)])
        i += 1


def test_killed_writer_never_leaves_a_torn_file(tmp_path: Path) -> None:
    """A writer SIGKILLed at random moments leaves one whole version; readers never see a torn one."""
    target = tmp_path / "f"
    files.write_atomic(str(target), VERSIONS[0])
    context = multiprocessing.get_context("fork")
    for _ in range(5):
        writer = context.Process(target=_rewrite_forever, args=(str(target),))
        writer.start()
        deadline = time.monotonic() + 0.15
        while time.monotonic() < deadline:
            assert target.read_bytes() in VERSIONS
        assert writer.pid is not None
        os.kill(writer.pid, signal.SIGKILL)
        writer.join()
        assert target.read_bytes() in VERSIONS
    for leftover in _leftovers(tmp_path):  # a killed writer may leave its temp file, never the target torn
        assert leftover.startswith(".f.")


@pytest.mark.parametrize("write", [files.write_atomic, files.publish_exclusive], ids=["replace", "publish"])
def test_stale_temp_files_of_killed_writers_are_removed(write: object, tmp_path: Path) -> None:
    """Temp files a SIGKILLed writer left are deleted by the next write; fresh ones and others stay."""
    stale = tmp_path / ".cluster_id.dead1234.tmp"
    fresh = tmp_path / ".cluster_id.live5678.tmp"
    unrelated = tmp_path / ".other.dead1234.tmp"
    for leftover in (stale, fresh, unrelated):
        leftover.write_bytes(b"half")
    old = time.time() - files.STALE_TEMP_SECONDS - 5
    os.utime(stale, (old, old))
    os.utime(unrelated, (old, old))
    assert callable(write)
    write(str(tmp_path / "cluster_id"), b"x\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["cluster_id", fresh.name, unrelated.name]
    )
