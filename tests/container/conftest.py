"""Fixtures of the container tests: the Kafka tarball on loopback and the built image.

The image is built once per session, from ``docker/Dockerfile`` unchanged, with the download
address and checksum of a tarball packed from ``scripts/kafka-dist``'s installation.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from kraftlab import container as h


@pytest.fixture(scope="session")
def run_id() -> str:
    """A prefix unique to this test run for every container, network and volume."""
    return f"kraftct-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="session")
def kafka_tarball(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """(directory holding kafka_2.13-3.3.2.tgz, its SHA-512).

    Packed into this session's own directory: the cache is shared with other runs on the machine,
    and a tarball replaced under the file server would fail every later build of the session.
    """
    started = time.monotonic()
    dist = h.kafka_dist()
    tarball, digest = h.pack_tarball(dist, tmp_path_factory.mktemp("tarball"))
    h.log(f"tarball {tarball} sha512={digest[:16]}... ({time.monotonic() - started:.1f}s)")
    return str(tarball.parent), digest


@pytest.fixture(scope="session")
def tarball_url(kafka_tarball: tuple[str, str]) -> Iterator[str]:
    """URL of the tarball on a loopback file server that lives for the session."""
    from pathlib import Path

    with h.file_server(Path(kafka_tarball[0])) as base:
        yield f"{base}/{h.TARBALL_NAME}"


@pytest.fixture(scope="session")
def base_image() -> str:
    started = time.monotonic()
    h.ensure_base_image()
    h.log(f"base image {h.BASE_IMAGE} ready ({time.monotonic() - started:.1f}s)")
    return h.BASE_IMAGE


@pytest.fixture(scope="session")
def image(base_image: str, tarball_url: str, kafka_tarball: tuple[str, str]) -> str:
    """The image built from docker/Dockerfile with the loopback URL and the real checksum."""
    started = time.monotonic()
    h.build_image(h.IMAGE_TAG, kafka_url=tarball_url, kafka_sha512=kafka_tarball[1])
    h.log(f"image {h.IMAGE_TAG} built ({time.monotonic() - started:.1f}s)")
    return h.IMAGE_TAG


@pytest.fixture(scope="session")
def base_image_17() -> str:
    """The eclipse-temurin:17-jre stand-in (Debian 12 + openjdk-17-jre-headless), cached."""
    started = time.monotonic()
    h.run([str(h.REPO / "scripts" / "base-image"), "17"], timeout=1800)
    h.log(f"base image {h.BASE_IMAGE_17} ready ({time.monotonic() - started:.1f}s)")
    return h.BASE_IMAGE_17


@pytest.fixture(scope="session")
def image_17(base_image_17: str, tarball_url: str, kafka_tarball: tuple[str, str]) -> str:
    """The same Dockerfile on the Java 17 base: dynamic CDS archives."""
    started = time.monotonic()
    h.build_image(h.IMAGE_TAG_17, kafka_url=tarball_url, kafka_sha512=kafka_tarball[1],
                  build_args={"BASE_IMAGE": base_image_17})
    h.log(f"image {h.IMAGE_TAG_17} built ({time.monotonic() - started:.1f}s)")
    return h.IMAGE_TAG_17


@pytest.fixture(scope="session")
def image_without_cds(image: str, tarball_url: str, kafka_tarball: tuple[str, str]) -> str:
    """The default image built with CDS_ARCHIVES=off (every earlier layer comes from the cache)."""
    started = time.monotonic()
    h.build_image(h.IMAGE_TAG_NO_CDS, kafka_url=tarball_url, kafka_sha512=kafka_tarball[1],
                  build_args={"CDS_ARCHIVES": "off"})
    h.log(f"image {h.IMAGE_TAG_NO_CDS} built ({time.monotonic() - started:.1f}s)")
    return h.IMAGE_TAG_NO_CDS
