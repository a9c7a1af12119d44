"""The container's memory limit as its cgroup says (the one read of /proc and /sys for the heap)."""

from __future__ import annotations

from typing import Optional

from kraft_entrypoint.memory import cgroup_limit_files, parse_cgroup_limit


def memory_limit() -> Optional[int]:
    """Bytes, or None when no cgroup file says there is a limit (or none can be read)."""
    try:
        with open("/proc/self/cgroup", encoding="utf-8", errors="replace") as source:
            own = source.read(64 * 1024)
    except OSError:
        own = ""
    for path in cgroup_limit_files(own):
        try:
            with open(path, encoding="ascii", errors="replace") as source:
                return parse_cgroup_limit(source.read(64))
        except OSError:
            continue
    return None
