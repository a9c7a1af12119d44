"""Crash-safe file writes: a reader sees the old file or the new one, never a torn one."""

from __future__ import annotations

import errno
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress


def write_atomic(path: str, data: bytes, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data``: temp file in the same directory, fsync, rename."""
    with _temp_copy(path, data, mode) as temp:
        os.replace(temp, path)
    _fsync_directory(os.path.dirname(path))


def publish_exclusive(path: str, data: bytes, mode: int = 0o644) -> bool:
    """Create ``path`` holding ``data`` unless it exists. True if this call created it.

    The complete temp file is hard-linked into place, which fails if the name exists, so
    concurrent publishers agree on one winner and no reader sees a partial file.
    """
    with _temp_copy(path, data, mode) as temp:
        try:
            os.link(temp, path)
        except FileExistsError:
            return False
        except OSError as error:
            if error.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
                raise
            return _create_exclusive(path, data, mode)  # no hard links on this filesystem
    _fsync_directory(os.path.dirname(path))
    return True


def _create_exclusive(path: str, data: bytes, mode: int) -> bool:
    # Readers may briefly see this file empty; they treat that as "not yet" and retry.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        return False
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    _fsync_directory(os.path.dirname(path))
    return True


STALE_TEMP_SECONDS = 60.0


@contextmanager
def _temp_copy(path: str, data: bytes, mode: int) -> Iterator[str]:
    directory, name = os.path.split(path)
    _remove_stale_temps(directory or ".", name)
    fd, temp = tempfile.mkstemp(dir=directory or ".", prefix=f".{name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fchmod(out.fileno(), mode)
            os.fsync(out.fileno())
        yield temp
    finally:
        with suppress(FileNotFoundError):
            os.unlink(temp)


def _fsync_directory(directory: str) -> None:
    fd = os.open(directory or ".", os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove_stale_temps(directory: str, name: str) -> None:
    """Delete temp files of ``name`` that a killed writer left; a live writer's is seconds old."""
    prefix, cutoff = f".{name}.", time.time() - STALE_TEMP_SECONDS
    for entry in os.scandir(directory):
        if entry.name.startswith(prefix) and entry.name.endswith(".tmp"):
            with suppress(FileNotFoundError):
                if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    os.unlink(entry.path)
