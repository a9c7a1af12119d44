"""The heap rule of SPEC "Memory": quantities, the cgroup's text, and every case of the derivation."""

from __future__ import annotations

from typing import Optional

import pytest

from kraft_entrypoint.errors import InvalidInput
from kraft_entrypoint.memory import (
    BadQuantity,
    cgroup_limit_files,
    parse_cgroup_limit,
    parse_memory_limit,
    parse_percent,
    parse_quantity,
    server_heap,
)

MI = 1024 * 1024
GI = 1024 * MI


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("2147483648", 2 * GI, id="bytes"),
        pytest.param("2Gi", 2 * GI, id="Gi"),
        pytest.param("512Mi", 512 * MI, id="Mi"),
        pytest.param("1500M", 1_500_000_000, id="M-decimal"),
        pytest.param("2G", 2_000_000_000, id="G-decimal"),
        pytest.param("64k", 64_000, id="k-decimal"),
        pytest.param("1.5Gi", 3 * GI // 2, id="fraction"),
        pytest.param("1e9", 1_000_000_000, id="exponent"),
        pytest.param("1Ti", 1024 * GI, id="Ti"),
        pytest.param(" 768Mi\n", 768 * MI, id="whitespace"),
    ],
)
def test_quantities(text: str, expected: int) -> None:
    """Bytes and every Kubernetes quantity form the downward API or a person may write."""
    assert parse_quantity(text) == expected


@pytest.mark.parametrize("text", ["", "0", "-1Gi", "2GB", "2gi", "Gi", "1.2.3", "ten", "2 Gi", "1500m"])
def test_bad_quantities(text: str) -> None:
    """Not a positive byte count: refused (milli-bytes and lower-case binary suffixes too)."""
    with pytest.raises(BadQuantity):
        parse_quantity(text)


def test_bad_memory_limit_exits_2_naming_the_variable() -> None:
    """MEMORY_LIMIT that is not a quantity is invalid input (exit 2), naming MEMORY_LIMIT."""
    with pytest.raises(InvalidInput, match="MEMORY_LIMIT") as raised:
        parse_memory_limit("lots")
    assert raised.value.exit_code == 2
    assert parse_memory_limit("") is None
    assert parse_memory_limit(None) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("max\n", None, id="v2-max"),
        pytest.param("1073741824\n", GI, id="v2-limit"),
        pytest.param("9223372036854771712\n", None, id="v1-unlimited"),
        pytest.param("805306368", 768 * MI, id="v1-limit"),
        pytest.param("", None, id="empty"),
    ],
)
def test_cgroup_limit_text(text: str, expected: Optional[int]) -> None:
    """v2 memory.max ("max" = none) and v1 memory.limit_in_bytes (its huge value = none)."""
    assert parse_cgroup_limit(text) == expected


@pytest.mark.parametrize(
    ("given", "memory_limit", "cgroup", "percent", "opts"),
    [
        pytest.param("-Xmx3g", 2 * GI, GI, 50, "-Xmx3g", id="kafka-heap-opts-wins"),
        pytest.param(None, 2 * GI, None, 50, "-Xms1024m -Xmx1024m", id="half-of-memory-limit"),
        pytest.param(None, 2 * GI, 8 * GI, 50, "-Xms1024m -Xmx1024m", id="memory-limit-over-cgroup"),
        pytest.param(None, None, 4 * GI, 50, "-Xms2048m -Xmx2048m", id="cgroup-fallback"),
        pytest.param(None, None, None, 50, None, id="no-limit-kafka-default"),
        pytest.param("  ", None, None, 50, None, id="blank-heap-opts-is-unset"),
        pytest.param(None, 1_500_000_000, None, 50, "-Xms715m -Xmx715m", id="rounded-down-to-mib"),
        pytest.param(None, 4 * GI, None, 75, "-Xms3072m -Xmx3072m", id="heap-percent"),
        pytest.param(None, 512 * MI, None, 10, "-Xms256m -Xmx256m", id="at-least-256m"),
        pytest.param(None, 512 * MI, None, 50, "-Xms256m -Xmx256m", id="exactly-256m-left"),
        pytest.param(None, 128 * GI, None, 50, "-Xms31744m -Xmx31744m", id="at-most-31g"),
    ],
)
def test_server_heap(
    given: Optional[str],
    memory_limit: Optional[int],
    cgroup: Optional[int],
    percent: int,
    opts: Optional[str],
) -> None:
    """SPEC's rule, case by case; the reason line names where the figure came from."""
    heap = server_heap(given, memory_limit, cgroup, percent)
    assert heap.opts == opts
    assert heap.reason.startswith("heap: ")
    if given and given.strip():
        assert "as given" in heap.reason
    elif opts is None:
        assert "Kafka's default" in heap.reason
    else:
        assert ("MEMORY_LIMIT" if memory_limit else "cgroup") in heap.reason


@pytest.mark.parametrize(
    ("memory_limit", "cgroup", "percent"),
    [
        pytest.param(400 * MI, None, 50, id="floor-256m-leaves-too-little"),
        pytest.param(768 * MI, None, 80, id="percent-too-high"),
        pytest.param(None, GI, 100, id="cgroup-all-of-it"),
    ],
)
def test_heap_leaving_too_little_exits_2(
    memory_limit: Optional[int], cgroup: Optional[int], percent: int
) -> None:
    """A heap that leaves under 256 MiB of the limit is refused (exit 2), naming what to change."""
    with pytest.raises(InvalidInput, match="HEAP_PERCENT") as raised:
        server_heap(None, memory_limit, cgroup, percent)
    assert raised.value.exit_code == 2
    assert "MEMORY_LIMIT" in str(raised.value)


@pytest.mark.parametrize(("text", "value"), [(None, 50), ("", 50), ("1", 1), ("100", 100), (" 75 ", 75)])
def test_heap_percent_values(text: Optional[str], value: int) -> None:
    """HEAP_PERCENT: a whole percentage, default 50."""
    assert parse_percent(text) == value


@pytest.mark.parametrize("text", ["0", "101", "50%", "12.5", "-5", "half"])
def test_bad_heap_percent(text: str) -> None:
    """Anything but 1-100 is invalid input naming HEAP_PERCENT."""
    with pytest.raises(InvalidInput, match="HEAP_PERCENT"):
        parse_percent(text)


@pytest.mark.parametrize(
    ("text", "first"),
    [
        pytest.param("0::/kubepods/pod1/c1\n", "/sys/fs/cgroup/kubepods/pod1/c1/memory.max", id="v2"),
        pytest.param("0::/\n", "/sys/fs/cgroup/memory.max", id="v2-namespaced"),
        pytest.param(
            "4:memory:/docker/abc\n0::/\n",
            "/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes",
            id="v1-hybrid",
        ),
        pytest.param("5:cpu,memory:/x\n", "/sys/fs/cgroup/memory/x/memory.limit_in_bytes", id="v1-joined"),
        pytest.param("0::/../../etc\n", "/sys/fs/cgroup/memory.max", id="no-escape"),
        pytest.param("", "/sys/fs/cgroup/memory.max", id="unreadable"),
    ],
)
def test_cgroup_limit_files(text: str, first: str) -> None:
    """The process's own cgroup first, the mount roots last (a container's own view)."""
    files = cgroup_limit_files(text)
    assert files[0] == first
    assert files[-2:] == ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]
    assert len(files) == len(set(files))
