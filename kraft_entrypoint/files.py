"""Crash-safe file writes: a reader sees the old file or the new one, never a torn one."""

from __future__ import annotations

import errno
import os
import signal
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Optional

#: Signals held back while a write is under way, so a stop never leaves a temp file behind.
_STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


class UnusableFile(Exception):
    """A path that exists but cannot be read as a small regular file; the message says why."""


def read_regular(path: str, limit: int) -> Optional[bytes]:
    """The bytes of the regular file ``path`` (symlinks followed), None if nothing is there.

    Never blocks on a FIFO or device and never reads more than ``limit`` bytes: a dangling
    symlink, anything but a regular file, or a larger file raises UnusableFile. Other OS errors
    (permissions, I/O) are raised as they are.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except FileNotFoundError:
        if os.path.islink(path):
            raise UnusableFile(f"{path} is a dangling symlink to {os.readlink(path)}") from None
        return None
    except IsADirectoryError:
        raise UnusableFile(f"{path} is a directory, not a file") from None
    try:
        kind = os.fstat(fd).st_mode
        if not stat.S_ISREG(kind):
            raise UnusableFile(f"{path} is {_kind(kind)}, not a regular file")
        data = os.read(fd, limit + 1)
        while data and len(data) <= limit:
            more = os.read(fd, limit + 1 - len(data))
            if not more:
                break
            data += more
    finally:
        os.close(fd)
    if len(data) > limit:
        raise UnusableFile(f"{path} is larger than {limit} bytes")
    return data


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a device"),
                       (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def same_file(first: str, second: str) -> bool:
    """Whether two paths reach one file, by any spelling, symlink or bind mount (even if absent)."""
    real_first, real_second = os.path.realpath(first), os.path.realpath(second)
    if real_first == real_second:
        return True
    with suppress(OSError):
        return os.path.samefile(real_first, real_second)
    # Not both there yet: the same name in the same directory (compared by inode) is the same file.
    if os.path.basename(real_first) != os.path.basename(real_second):
        return False
    try:
        return os.path.samefile(os.path.dirname(real_first), os.path.dirname(real_second))
    except OSError:
        return False


def unwritable_reason(path: str) -> Optional[str]:
    """Why ``path`` could not be created or replaced here, or None; reads only, creates nothing."""
    directory = os.path.dirname(path)
    while not os.path.lexists(directory):
        directory = os.path.dirname(directory)
    if not os.path.isdir(directory):
        return f"{directory} is not a directory"
    if not os.access(directory, os.W_OK | os.X_OK):
        return f"{directory} is not writable"
    if os.path.isdir(path):
        return f"{path} is a directory"
    return None


@contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold SIGTERM and SIGINT until the block ends; their handlers then run as usual."""
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def write_atomic(path: str, data: bytes, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data``: temp file in the same directory, fsync, rename."""
    with signals_deferred(), _temp_copy(path, data, mode) as temp:
        os.replace(temp, path)
        _fsync_directory(os.path.dirname(path))


def publish_exclusive(path: str, data: bytes, mode: int = 0o644) -> bool:
    """Create ``path`` holding ``data`` unless it exists. True if this call created it.

    The complete temp file is hard-linked into place, which fails if the name exists, so
    concurrent publishers agree on one winner and no reader sees a partial file.
    """
    with signals_deferred(), _temp_copy(path, data, mode) as temp:
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
