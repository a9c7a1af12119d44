"""The image's class-data sharing archives, proven by the JVM itself, on the Java 11 and 17 bases.

Each test starts one real single-node pod (first start: format, then the server) and reads the
JVM's own class-loading log (``-Xlog:class+load``, given through the user's ``KAFKA_OPTS``, which
the entrypoint must keep): a class that came from an archive is logged ``source: shared objects
file``. Kafka's classes are in no archive but ours, so ``kafka.Kafka`` and
``kafka.tools.StorageTool`` from a shared objects file prove that our archives are in use.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from kraftlab import container as h

pytestmark = pytest.mark.container

POD_ENV = {
    "KAFKA_HEAP_OPTS": "-Xms256m -Xmx256m",
    "KAFKA_OPTS": "-Xlog:class+load=info -Dkraft.test.opts=kept",
    "KAFKA_JVM_PERFORMANCE_OPTS": "-XX:+UseG1GC -Dkraft.test.perf=kept",
}
STARTED = "Kafka Server started"


@dataclass(frozen=True)
class Started:
    logs: str
    cmdline: list[str]  # Kafka's JVM, PID 1

    def source(self, class_name: str) -> str:
        """Where the JVM says it loaded ``class_name`` from (its first load)."""
        found = re.search(rf"\[class,load\] {re.escape(class_name)} source: (.*)$", self.logs, re.M)
        assert found, f"no class-load line for {class_name}"
        return found.group(1).strip()

    def cds_lines(self) -> list[str]:
        return [line for line in self.logs.splitlines() if "kraft-entrypoint" in line and " cds: " in line]


@contextmanager
def single_node(image: str, name: str, env: dict[str, str], volumes: Sequence[str] = ()) -> Iterator[Started]:
    """One pod's first start; yields once Kafka logged that it started (or fails with its log)."""
    argv = ["podman", "run", "--detach", "--name", name, *h.single_pod_options(env)]
    for volume in volumes:
        argv += ["--volume", volume]
    try:
        h.run([*argv, image], timeout=120)
        deadline = time.monotonic() + 240
        while True:
            proc = h.run(["podman", "logs", name], timeout=60, check=False)
            logs = proc.stdout + proc.stderr
            if STARTED in logs:
                break
            state = h.run(["podman", "inspect", "--format", "{{.State.Running}}", name], timeout=30).stdout
            assert state.strip() == "true", f"{name} exited:\n{logs[-5000:]}"
            assert time.monotonic() < deadline, f"{name}: no '{STARTED}' in 240 s:\n{logs[-5000:]}"
            time.sleep(1)
        cmdline = h.run(["podman", "exec", name, "cat", "/proc/1/cmdline"], timeout=60).stdout
        yield Started(logs, cmdline.split("\0"))
    finally:
        h.run(["podman", "rm", "--force", "--time", "0", name], timeout=120, check=False)


@pytest.mark.parametrize(("java", "kind"), [("11", "static"), ("17", "dynamic")], ids=["java11", "java17"])
def test_format_and_server_load_kafka_from_the_archives(
    java: str, kind: str, request: pytest.FixtureRequest, run_id: str
) -> None:
    """Both JVMs of a first start take Kafka's classes from the image's archives, with the user's
    KAFKA_OPTS and KAFKA_JVM_PERFORMANCE_OPTS still in effect."""
    image = request.getfixturevalue("image" if java == "11" else "image_17")
    with single_node(image, f"{run_id}-cds-java{java}", POD_ENV) as node:
        assert node.source("kafka.tools.StorageTool").startswith("shared objects file"), node.logs[-3000:]
        assert node.source("kafka.Kafka").startswith("shared objects file")
        assert node.source("org.apache.kafka.common.utils.Utils").startswith("shared objects file")
        shared = len(re.findall(r"source: shared objects file", node.logs))
        assert shared > 3000, shared  # both JVMs, JDK and Kafka classes
        [storage_line, server_line] = node.cds_lines()
        assert re.search(rf"cds: kafka-storage\.sh uses /opt/kafka/cds/storage\.jsa \({kind} archive, "
                         rf"Java {java}\.", storage_line), storage_line
        assert re.search(rf"cds: kafka-server-start\.sh uses /opt/kafka/cds/server\.jsa \({kind} archive, "
                         rf"Java {java}\.", server_line), server_line
        args, archive = node.cmdline, "-XX:SharedArchiveFile=/opt/kafka/cds/server.jsa"
        assert "kafka.Kafka" in args
        for option in ("-Dkraft.test.perf=kept", "-Xlog:class+load=info", "-Dkraft.test.opts=kept", archive):
            assert option in args, args
        assert args.index("-Dkraft.test.opts=kept") < args.index(archive), "appended after the user's"


def test_the_archives_are_read_only_files_of_root(image: str) -> None:
    """/opt/kafka/cds holds the two archives and their stamp, root's, readable by the kafka user;
    the throw-away node of the build left nothing behind (work directory, logs)."""
    listing = h.run(["podman", "run", "--rm", *h.PODMAN_RUN_OPTS, "--entrypoint", "sh", image, "-c",
                     "ls -d /tmp/kraft-cds-* /var/lib/kafka/logs/* 2>/dev/null;"
                     " cd /opt/kafka/cds && stat -c '%n %U %a' * && test ! -w server.jsa && cat stamp.json"],
                    timeout=120).stdout
    lines = listing.splitlines()
    assert lines[:3] == ["server.jsa root 644", "stamp.json root 644", "storage.jsa root 644"]
    stamp = json.loads("\n".join(lines[3:]))
    assert stamp["kind"] == "static"
    assert stamp["java_version"].startswith("11.")
    assert stamp["fingerprint"]["libs"] == "/opt/kafka/libs"


def test_an_image_built_without_archives_starts(image_without_cds: str, run_id: str) -> None:
    """CDS_ARCHIVES=off: no /opt/kafka/cds; both JVMs start from the jars, each saying why."""
    with single_node(image_without_cds, f"{run_id}-nocds", POD_ENV) as node:
        assert not node.source("kafka.Kafka").startswith("shared objects file")
        assert not node.source("kafka.tools.StorageTool").startswith("shared objects file")
        assert node.cds_lines() == [
            "kraft-entrypoint INFO: cds: no archive /opt/kafka/cds/storage.jsa (none was made for this "
            "installation); kafka-storage.sh starts without an archive",
            "kraft-entrypoint INFO: cds: no archive /opt/kafka/cds/server.jsa (none was made for this "
            "installation); kafka-server-start.sh starts without an archive",
        ]
        assert "-Dkraft.test.opts=kept" in node.cmdline
        assert not any(arg.startswith("-XX:SharedArchiveFile") for arg in node.cmdline)
    size = int(h.run(["podman", "image", "inspect", "--format", "{{.Size}}", image_without_cds],
                     timeout=60).stdout)
    h.log(f"image size without archives: {size / 2**20:.0f} MiB")


def _image_stamp(image: str) -> dict[str, object]:
    text = h.run(["podman", "run", "--rm", *h.PODMAN_RUN_OPTS, "--entrypoint", "cat", image,
                  "/opt/kafka/cds/stamp.json"], timeout=120).stdout
    stamp = json.loads(text)
    assert isinstance(stamp, dict)
    return stamp


@pytest.mark.parametrize("case", ["off", "stale", "broken"])
def test_no_usable_archive_never_stops_a_start(image: str, run_id: str, tmp_path: Path, case: str) -> None:
    """KRAFT_CDS=off, a stamp for another JDK (the entrypoint leaves the archive out and warns), and
    archives that fit their stamp but are garbage (the JVM itself refuses them): Kafka starts."""
    env, volumes = dict(POD_ENV), []
    if case == "off":
        env["KRAFT_CDS"] = "off"
    else:
        cds_dir = tmp_path / "cds"
        cds_dir.mkdir()
        stamp = _image_stamp(image)
        if case == "stale":
            stamp["fingerprint"]["java"] = "/usr/lib/jvm/another-jdk/bin/java"  # type: ignore[index]
        (cds_dir / "stamp.json").write_text(json.dumps(stamp))
        for name in ("storage.jsa", "server.jsa"):
            (cds_dir / name).write_bytes(b"\0garbage, not a CDS archive" * 4096)
        for path in (cds_dir, *cds_dir.iterdir()):
            path.chmod(0o755 if path.is_dir() else 0o644)
        volumes.append(f"{cds_dir}:/opt/kafka/cds:ro")
    with single_node(image, f"{run_id}-cds-{case}", env, volumes) as node:
        assert not node.source("kafka.Kafka").startswith("shared objects file")
        lines = node.cds_lines()
        assert len(lines) == 2, lines
        if case == "off":
            assert all("cds: off (KRAFT_CDS=off)" in line for line in lines), lines
        elif case == "stale":
            assert all(line.startswith("kraft-entrypoint WARNING: cds:") for line in lines), lines
            assert all("java is /usr/lib/jvm/java-11-openjdk-amd64/bin/java, the archive was made with "
                       "/usr/lib/jvm/another-jdk/bin/java" in line for line in lines), lines
        else:  # the entrypoint passed the archive; the JVM declined it and went on
            assert "-XX:SharedArchiveFile=/opt/kafka/cds/server.jsa" in node.cmdline
            assert all(" uses /opt/kafka/cds/" in line for line in lines), lines
