"""The JVM heap from the container's memory limit (SPEC: Memory). Pure: quantities in, flags out.

Reading the cgroup's limit file is the caller's one effect; this module only parses its text.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Optional

from kraft_entrypoint.errors import InvalidInput

MIB = 1024 * 1024
MIN_HEAP = 256 * MIB
MAX_HEAP = 31 * 1024 * MIB  # above ~32 GiB the JVM loses compressed object pointers
MIN_REST = 256 * MIB  # what the limit must leave beside the heap: metaspace, threads, direct buffers
DEFAULT_PERCENT = 50
#: A cgroup v1 limit at or above this is the kernel's "no limit" (PAGE_COUNTER_MAX pages).
_UNLIMITED_V1 = 1 << 60

_QUANTITY = re.compile(
    r"(?P<number>[0-9]+(\.[0-9]*)?|\.[0-9]+)(?P<suffix>[KMGTPE]i|[kMGTPE]|[eE][+-]?[0-9]+)?\Z"
)
_FACTORS = {
    "": 1,
    **{s: 1000**n for n, s in enumerate("kMGTPE", start=1)},
    **{f"{s}i": 1024**n for n, s in enumerate("KMGTPE", start=1)},
}


class BadQuantity(ValueError):
    """Not a positive byte count."""


def parse_quantity(text: str) -> int:
    """Bytes from a number or a Kubernetes quantity (``2Gi``, ``1500M``, ``512Mi``, ``1e9``), rounded down."""
    value = text.strip()
    match = _QUANTITY.match(value)
    if match is None:
        raise BadQuantity(value)
    suffix = match["suffix"] or ""
    try:
        number = Decimal(match["number"])
        if suffix[:1] in ("e", "E"):
            number = number.scaleb(int(suffix[1:]))
            suffix = ""
        result = int(number * _FACTORS[suffix])
    except (InvalidOperation, OverflowError):
        raise BadQuantity(value) from None
    if result <= 0:
        raise BadQuantity(value)
    return result


def parse_cgroup_limit(text: str) -> Optional[int]:
    """A cgroup's memory limit file (v2 memory.max, v1 memory.limit_in_bytes); None for no limit."""
    value = text.strip()
    if value == "max":
        return None
    try:
        limit = int(value)
    except ValueError:
        return None
    return None if limit <= 0 or limit >= _UNLIMITED_V1 else limit


def cgroup_limit_files(proc_self_cgroup: str) -> list[str]:
    """Where this process's memory limit may be, most specific first, from /proc/self/cgroup's
    text: its own cgroup (v1 memory controller, then v2), then the mount roots (a container's
    own cgroup when it has a cgroup namespace or a bind mount of it)."""
    v1: list[str] = []
    v2: list[str] = []
    for line in proc_self_cgroup.splitlines():
        parts = line.split(":", 2)
        if len(parts) != 3 or ".." in parts[2].split("/"):
            continue
        _, controllers, path = parts
        relative = path.strip().lstrip("/")
        if controllers == "":
            v2.append(posixpath.join("/sys/fs/cgroup", relative, "memory.max"))
        elif "memory" in controllers.split(","):
            v1.append(posixpath.join("/sys/fs/cgroup/memory", relative, "memory.limit_in_bytes"))
    roots = ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]
    return list(dict.fromkeys([*v1, *v2, *roots]))


def parse_percent(text: Optional[str]) -> int:
    value = (text or "").strip() or str(DEFAULT_PERCENT)
    if not value.isdigit() or not 1 <= int(value) <= 100:
        raise InvalidInput(
            f"HEAP_PERCENT (--heap-percent) is {value!r}; give a whole percentage 1-100, e.g. 50"
        )
    return int(value)


def parse_memory_limit(text: Optional[str]) -> Optional[int]:
    value = (text or "").strip()
    if not value:
        return None
    try:
        return parse_quantity(value)
    except BadQuantity:
        raise InvalidInput(
            f"MEMORY_LIMIT (--memory-limit) is {value!r}; give bytes or a Kubernetes quantity, e.g. 2Gi "
            "(the manifests set it from resourceFieldRef limits.memory)"
        ) from None


@dataclass(frozen=True)
class Heap:
    """The server JVM's KAFKA_HEAP_OPTS (None: Kafka's own default) and the line that says why."""

    opts: Optional[str]
    reason: str


def server_heap(
    kafka_heap_opts: Optional[str],
    memory_limit: Optional[int],
    cgroup_limit: Optional[int],
    percent: int = DEFAULT_PERCENT,
) -> Heap:
    """SPEC's rule: KAFKA_HEAP_OPTS as given; else percent of MEMORY_LIMIT, else of the cgroup's limit."""
    if kafka_heap_opts is not None and kafka_heap_opts.strip():
        return Heap(kafka_heap_opts, f"heap: KAFKA_HEAP_OPTS={kafka_heap_opts} as given")
    if memory_limit is not None:
        limit, source = memory_limit, "MEMORY_LIMIT"
    elif cgroup_limit is not None:
        limit, source = cgroup_limit, "the cgroup's memory limit"
    else:
        return Heap(None, "heap: no memory limit (MEMORY_LIMIT unset, no cgroup limit); Kafka's default kept")
    heap = min(max(limit * percent // 100 // MIB * MIB, MIN_HEAP), MAX_HEAP)
    if limit - heap < MIN_REST:
        raise InvalidInput(
            f"heap: {heap // MIB} MiB ({percent}% by HEAP_PERCENT, at least {MIN_HEAP // MIB} MiB) leaves "
            f"{max(limit - heap, 0) // MIB} MiB of {source} ({limit // MIB} MiB) for the rest of the JVM, "
            f"under the {MIN_REST // MIB} MiB it needs: raise MEMORY_LIMIT (the pod's limit) or lower "
            "HEAP_PERCENT"
        )
    opts = f"-Xms{heap // MIB}m -Xmx{heap // MIB}m"
    return Heap(opts, f"heap: {opts}, {percent}% of {source} {limit // MIB} MiB")

