"""bench/peer_driver.sh (the apache/kafka image's start path in the bench) against a fake /opt/kafka
whose kafka-run-class.sh and kafka-server-start.sh record how they are called; bench/peer.py's
helpers that shape the three paths' inputs."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DRIVER = REPO / "bench" / "peer_driver.sh"

FAKE_RUN_CLASS = """#!/bin/sh
# fake kafka-run-class.sh: records the call, then answers as FAKE_WRAPPER says
{
  echo "argv: $*"
  echo "perf: $KAFKA_JVM_PERFORMANCE_OPTS"
  env | grep '^KAFKA_' | sort
} > "$FAKE_LOG/wrapper"
case "$FAKE_WRAPPER" in
  ok) echo "Formatting metadata directory /data with metadata.version 4.4-IV2."; exit 0 ;;
  formatted) echo "Log directory /data is already formatted. Use --ignore-formatted to ignore it."; exit 1 ;;
  *) echo "error while preparing configs: boom" >&2; exit 1 ;;
esac
"""

FAKE_SERVER_START = """#!/bin/sh
# fake kafka-server-start.sh: records the exec
{ echo "argv: $*"; echo "perf: $KAFKA_JVM_PERFORMANCE_OPTS"; } > "$FAKE_LOG/server"
exit 0
"""


class Image:
    """A fake image layout and a way to run the driver in it."""

    def __init__(self, root: Path) -> None:
        self.opt = root / "opt-kafka"
        self.docker = root / "etc-kafka-docker"
        self.mounted = root / "mnt-shared-config"
        self.log = root / "log"
        for path in (self.opt / "bin", self.opt / "config", self.docker, self.mounted, self.log):
            path.mkdir(parents=True)
        fakes = (("kafka-run-class.sh", FAKE_RUN_CLASS), ("kafka-server-start.sh", FAKE_SERVER_START))
        for name, text in fakes:
            script = self.opt / "bin" / name
            script.write_text(text)
            script.chmod(0o755)

    def run(self, wrapper: str, **env: str) -> subprocess.CompletedProcess[str]:
        full = {"PATH": os.environ["PATH"], "FAKE_LOG": str(self.log), "FAKE_WRAPPER": wrapper,
                "PEER_OPT_KAFKA": str(self.opt), "PEER_DOCKER_DIR": str(self.docker),
                "PEER_MOUNTED_DIR": str(self.mounted), "HOSTNAME": "kafka-2",
                "CLUSTER_ID": "MkU3OEVBNTcwNTJENDM2Qk", "KAFKA_PROCESS_ROLES": "broker,controller",
                "KAFKA_ADVERTISED_LISTENERS": "PLAINTEXT://kafka-2.kafka-svc.ns.svc.cluster.local:9092"}
        full.update(env)
        full = {k: v for k, v in full.items() if v != "<unset>"}
        return subprocess.run([str(DRIVER), "pod"], env=full, capture_output=True, text=True, timeout=60,
                              check=False)

    def recorded(self, name: str) -> str:
        path = self.log / name
        return path.read_text() if path.exists() else ""


@pytest.fixture
def image(tmp_path: Path) -> Image:
    return Image(tmp_path)


def test_first_start_runs_the_wrapper_with_the_image_paths_then_execs_the_server(image: Image) -> None:
    """One JVM (the wrapper's setup, on the storage CDS archive), then the exec on the server's archive."""
    result = image.run("ok")
    assert result.returncode == 0, result.stdout + result.stderr
    wrapper = image.recorded("wrapper")
    assert (f"argv: kafka.docker.KafkaDockerWrapper setup --default-configs-dir {image.docker} "
            f"--mounted-configs-dir {image.mounted} --final-configs-dir {image.opt}/config") in wrapper
    assert f"perf:  -XX:SharedArchiveFile={image.opt}/storage.jsa" in wrapper
    server = image.recorded("server")
    assert f"argv: {image.opt}/config/server.properties" in server
    assert f"-XX:SharedArchiveFile={image.opt}/kafka.jsa" in server
    assert "storage.jsa" not in server
    assert "Formatting" not in result.stdout  # the image keeps the wrapper's output unless it fails


def test_node_id_from_the_pod_name_and_listeners_derived_from_the_advertised_ones(image: Image) -> None:
    """KAFKA_NODE_ID from HOSTNAME (the pod's command); KAFKA_LISTENERS as configure derives it."""
    assert image.run("ok").returncode == 0
    wrapper = image.recorded("wrapper")
    assert "KAFKA_NODE_ID=2\n" in wrapper
    assert "KAFKA_LISTENERS=PLAINTEXT://0.0.0.0:9092\n" in wrapper


def test_a_given_listeners_variable_is_kept(image: Image) -> None:
    """configure derives KAFKA_LISTENERS only when it is unset."""
    assert image.run("ok", KAFKA_LISTENERS="PLAINTEXT://:9092,CONTROLLER://:9093").returncode == 0
    assert "KAFKA_LISTENERS=PLAINTEXT://:9092,CONTROLLER://:9093\n" in image.recorded("wrapper")


def test_already_formatted_is_ignored_and_the_server_still_starts(image: Image) -> None:
    """A restart: the wrapper's format fails "already formatted", launch prints it and goes on."""
    result = image.run("formatted")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "already formatted" in result.stdout
    assert image.recorded("server")


def test_any_other_wrapper_failure_ends_the_start(image: Image) -> None:
    """Not "already formatted": the wrapper's output is printed, exit 1, no exec of the server."""
    result = image.run("broken")
    assert result.returncode == 1
    assert "error while preparing configs: boom" in result.stdout
    assert not image.recorded("server")


def test_cluster_id_defaults_to_the_image_fixed_one(image: Image) -> None:
    """configureDefaults: without CLUSTER_ID every cluster gets the image's 5L6g3nShT-eMCtK--X86sw."""
    result = image.run("ok", CLUSTER_ID="<unset>")
    assert result.returncode == 0
    assert "===> Using provided cluster id 5L6g3nShT-eMCtK--X86sw ..." in result.stdout


def test_a_controller_only_node_may_not_advertise(image: Image) -> None:
    """configure's KRaft check: a controller with KAFKA_ADVERTISED_LISTENERS stops before any JVM."""
    result = image.run("ok", KAFKA_PROCESS_ROLES="controller")
    assert result.returncode == 1
    assert "KAFKA_ADVERTISED_LISTENERS is not supported on a KRaft controller." in result.stdout
    assert not image.recorded("wrapper")


def test_ssl_listeners_are_refused_as_not_reproduced(image: Image) -> None:
    """The SSL/SASL branches (credential files) are not in the driver: exit 2, said, no JVM."""
    result = image.run("ok", KAFKA_ADVERTISED_LISTENERS="SSL://kafka-2:9093")
    assert result.returncode == 2
    assert "not reproduced" in result.stdout
    assert not image.recorded("wrapper")


def test_a_missing_config_directory_stops_the_start(image: Image) -> None:
    """configure checks that the wrapper's final config directory is writable (absent: not)."""
    (image.opt / "config").rmdir()
    result = image.run("ok")
    assert result.returncode == 1
    assert f"{image.opt}/config/ file not writable" in result.stdout
    assert not image.recorded("wrapper")


def test_seed_template_for_4x_gives_the_seed_its_voters_line(tmp_path: Path) -> None:
    """The 4.x template under config/kraft/, its bootstrap.servers line turned into a voters line."""
    from bench.peer import seed_template_for_4x

    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "server.properties").write_text(
        "process.roles=broker,controller\nnode.id=1\ncontroller.quorum.bootstrap.servers=localhost:9093\n")
    seed_template_for_4x(tmp_path)
    adapted = (tmp_path / "config" / "kraft" / "server.properties").read_text()
    assert adapted == "process.roles=broker,controller\nnode.id=1\ncontroller.quorum.voters=\n"


def test_triples_put_each_path_in_each_place_equally() -> None:
    """Six triples: each path runs first, second and last twice."""
    from bench.peer import triples

    order: list[str] = []

    def runner(name: str):  # type: ignore[no-untyped-def]
        def run():  # type: ignore[no-untyped-def]
            order.append(name)
            return name

        return run

    runs = triples(6, [runner("seed"), runner("peer"), runner("us")])
    assert runs == [["seed"] * 6, ["peer"] * 6, ["us"] * 6]
    for place in range(3):
        column = [order[3 * i + place] for i in range(6)]
        assert sorted(column) == ["peer", "peer", "seed", "seed", "us", "us"]
