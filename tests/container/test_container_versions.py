"""The image's version gates, built for real: a Java too old for the Kafka asked for, and a version
with no pinned checksum, each stop the build in its first stage with a message saying what to do."""

from __future__ import annotations

import pytest

from kraftlab import container as h

pytestmark = pytest.mark.container


def _failed_build(tarball_url: str, tag: str, kafka_version: str) -> str:
    """Build the first stage with only KAFKA_VERSION given; it must fail. Returns its output."""
    proc = h.build_image(
        tag,
        kafka_url=tarball_url,
        kafka_sha512=None,
        target="kafka",
        check=False,
        build_args={"KAFKA_VERSION": kafka_version},
        timeout=600,
    )
    h.run(["podman", "rmi", "--force", tag], timeout=60, check=False)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-3000:]
    return output


def test_kafka_4_on_the_java_11_base_fails_the_build_clearly(
    base_image: str, tarball_url: str, run_id: str
) -> None:
    """KAFKA_VERSION=4.4.0 on openjdk:11: refused before any download, naming Java 17 and a base to use."""
    output = _failed_build(tarball_url, f"localhost/{run_id}-java11-kafka4:never", "4.4.0")
    assert "Kafka 4.4.0 needs Java 17 or newer" in output
    assert "has Java '11'" in output
    assert "eclipse-temurin:17-jre" in output
    assert "kafka.tgz: " not in output  # refused before the download and its checksum


def test_a_version_without_a_pinned_checksum_needs_one(
    base_image: str, tarball_url: str, run_id: str
) -> None:
    """KAFKA_VERSION=3.9.2 (no sum found in a public source, see docker/kafka-versions.txt) and no
    KAFKA_SHA512: the build stops and shows how to pass the one published by Apache."""
    output = _failed_build(tarball_url, f"localhost/{run_id}-unpinned:never", "3.9.2")
    assert "no SHA-512 is pinned for Kafka 3.9.2" in output
    assert "--build-arg KAFKA_SHA512=" in output
    assert "kafka_2.13-3.9.2.tgz.sha512" in output
