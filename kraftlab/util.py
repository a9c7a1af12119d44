"""Small shared pieces of the lab: its error, progress output, bounded subprocess runs and waits,
and a directory-tree digest (the evidence that storage was left untouched)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Callable, Optional


class LabError(RuntimeError):
    """A lab operation failed or a bounded wait ran out; the message says what and shows logs."""


def log(message: str) -> None:
    """Progress to standard error (the demo's and the tests' output)."""
    print(f"kraftlab: {message}", file=sys.stderr, flush=True)


def run(
    argv: Sequence[str],
    *,
    timeout: float = 30,
    check: bool = True,
    input_text: Optional[str] = None,
    env: Optional[dict[str, str]] = None,
) -> subprocess.CompletedProcess[str]:
    """Run a command (argument list, no shell) with a bounded time; raise LabError on failure."""
    try:
        result = subprocess.run(
            list(argv),
            input=input_text,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=env,
        )
    except subprocess.TimeoutExpired as exc:
        raise LabError(f"timed out after {timeout}s: {' '.join(argv)}") from exc
    if check and result.returncode != 0:
        raise LabError(f"exit {result.returncode}: {' '.join(argv)}\n{result.stdout}{result.stderr}".rstrip())
    return result


def require_root() -> None:
    if os.geteuid() != 0:
        raise LabError("needs root: network namespaces (ip netns) are created for the pods")


def wait_until(
    what: str,
    check: Callable[[], Optional[object]],
    timeout: float,
    interval: float = 1.0,
    on_timeout: Callable[[], str] = lambda: "",
) -> object:
    """Poll ``check`` until it returns something truthy; raise LabError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last_error = ""
    while True:
        try:
            value = check()
        except LabError as exc:
            value, last_error = None, str(exc)
        if value:
            return value
        if time.monotonic() > deadline:
            detail = on_timeout()
            raise LabError(f"timed out after {timeout:.0f}s waiting for {what}. {last_error}\n{detail}")
        time.sleep(interval)


def tree_digest(root: Path) -> str:
    """Digest of a directory tree: every path, file mode, size and content (byte-identity)."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames) + [f"{d}/" for d in dirnames]:
            path = Path(dirpath) / name.rstrip("/")
            st = path.lstat()
            h.update(f"{path.relative_to(root)}\0{st.st_mode:o}\0{st.st_size}\0".encode())
            if path.is_file() and not path.is_symlink():
                h.update(path.read_bytes())
    return h.hexdigest()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def timed(label: str, sink: dict[str, float]) -> Iterator[None]:
    start = time.monotonic()
    try:
        yield
    finally:
        sink[label] = time.monotonic() - start
