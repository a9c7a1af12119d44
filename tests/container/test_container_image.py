"""The image itself, built for real with podman: its facts, and the checksum gate."""

from __future__ import annotations

import pytest

from kraftlab import container as h
from kraftlab.jvm_security import NAME_CACHE_KEYS, PROGRAM

pytestmark = pytest.mark.container

RUN = ["podman", "run", "--rm", *h.PODMAN_RUN_OPTS]


def test_image_config_runs_the_package_as_non_root(image: str) -> None:
    config = h.image_config(image)
    inner = config["Config"]
    assert isinstance(inner, dict)
    assert inner["Entrypoint"] == ["/opt/kraft-entrypoint/bin/kraft-entrypoint"]
    assert inner["User"] == "1000:1000"
    env = dict(item.split("=", 1) for item in inner["Env"])
    assert env["KAFKA_HOME"] == "/opt/kafka"
    assert env["KRAFT_CONFIG"].startswith("/var/lib/kafka/config/")
    labels = inner["Labels"]
    for key in (
        "org.opencontainers.image.title",
        "org.opencontainers.image.description",
        "org.opencontainers.image.version",
        "org.opencontainers.image.licenses",
        "org.opencontainers.image.base.name",
    ):
        assert labels.get(key), key
    assert labels["org.apache.kafka.version"] == "3.3.2"


def test_default_user_is_not_root(image: str) -> None:
    proc = h.run([*RUN, "--entrypoint", "id", image, "-u"], timeout=120)
    assert proc.stdout.strip() == "1000"


def test_entrypoint_runs_on_the_images_python_39(image: str) -> None:
    """The image's Debian 11 Python 3.9 is the package's oldest supported Python."""
    proc = h.run([*RUN, "--entrypoint", "/opt/kraft-entrypoint/bin/python", image, "--version"], timeout=120)
    assert proc.stdout.strip().startswith("Python 3.9.")
    version = h.run([*RUN, image, "--version"], timeout=120)
    assert "0.1.0" in version.stdout


def test_every_jvm_of_the_image_keeps_names_1_s(image: str) -> None:
    """The image's JDK keeps a looked-up address 1 s and no failed lookup (its java.security), so
    a broker and Kafka's tools run from the image as clients find a restarted pod's new address."""
    keys = " ".join(NAME_CACHE_KEYS)
    script = f"printf '%s' '{PROGRAM}' > /tmp/Show.java && exec java /tmp/Show.java {keys}"
    proc = h.run([*RUN, "--entrypoint", "sh", image, "-c", script], timeout=180)
    assert proc.stdout.splitlines() == ["networkaddress.cache.ttl=1", "networkaddress.cache.negative.ttl=0"]


def test_no_compilers_or_build_leftovers_in_the_image(image: str) -> None:
    proc = h.run(
        [
            *RUN,
            "--entrypoint",
            "sh",
            image,
            "-c",
            "for c in gcc cc g++ make; do command -v $c; done;"
            " ls -d /tmp/wheels /tmp/kafka 2>/dev/null; true",
        ],
        timeout=120,
    )
    assert proc.stdout.strip() == "", proc.stdout


def test_dry_run_in_the_image_prints_the_pod_config(image: str) -> None:
    env = {
        "HOSTNAME": "kafka-1",
        "REPLICAS": "3",
        "SERVICE": "kafka-svc",
        "NAMESPACE": "kafka-kraft",
        "CLUSTER_ID": "59AQxW_URq66JWEb-dMvUA",
        "DATA_DIR": "/var/lib/kafka/data/kraft",
    }
    argv = [*RUN]
    for key, value in env.items():
        argv += ["--env", f"{key}={value}"]
    proc = h.run([*argv, image, "--dry-run"], timeout=120)
    assert "node.id=1" in proc.stdout.splitlines()
    assert "log.dirs=/var/lib/kafka/data/kraft" in proc.stdout.splitlines()


@pytest.mark.parametrize(
    "checksum",
    [
        pytest.param("0" * 128, id="wrong-digest"),
        pytest.param("", id="empty"),
        pytest.param("not-a-checksum", id="malformed"),
    ],
)
def test_a_wrong_checksum_fails_the_build(
    base_image: str, tarball_url: str, run_id: str, checksum: str
) -> None:
    """Only the download stage is built (``--target kafka``): cheap, and enough."""
    tag = f"localhost/{run_id}-badsum:never"
    proc = h.build_image(tag, kafka_url=tarball_url, kafka_sha512=checksum, target="kafka", check=False)
    try:
        assert proc.returncode != 0
        output = proc.stdout + proc.stderr
        if checksum == "0" * 128:
            assert "kafka.tgz: FAILED" in output
        else:
            assert "KAFKA_SHA512 must be the SHA-512" in output
    finally:
        h.run(["podman", "rmi", "--force", tag], timeout=60, check=False)


def test_without_a_checksum_argument_the_pinned_one_is_checked(
    base_image: str, tarball_url: str, kafka_tarball: tuple[str, str], run_id: str
) -> None:
    """No KAFKA_SHA512 build argument: the pinned SHA-512 of the official tarball is enforced.

    Our tarball is packed from Maven Central's jars, so it is not the official one: the build
    must stop at the checksum, naming the pinned value, before anything is unpacked.
    """
    from manifests.test_image_and_manifest_static import KAFKA_3_3_2_SHA512

    assert kafka_tarball[1].upper() != KAFKA_3_3_2_SHA512
    tag = f"localhost/{run_id}-pinnedsum:never"
    proc = h.build_image(tag, kafka_url=tarball_url, kafka_sha512=None, target="kafka", check=False)
    try:
        output = proc.stdout + proc.stderr
        assert proc.returncode != 0, output[-3000:]
        assert "kafka.tgz: FAILED" in output
        assert f"does not have the SHA-512 {KAFKA_3_3_2_SHA512} (pinned for 3.3.2" in output
    finally:
        h.run(["podman", "rmi", "--force", tag], timeout=60, check=False)


def test_the_archive_sha512_file_format_is_accepted(
    base_image: str, tarball_url: str, kafka_tarball: tuple[str, str], run_id: str
) -> None:
    """The archive's ``.sha512`` is ``gpg --print-md SHA512`` output: name, upper-case groups."""
    digest = kafka_tarball[1].upper()
    groups = [digest[i : i + 8] for i in range(0, 128, 8)]
    gpg_text = (
        f"{h.TARBALL_NAME}: "
        + " ".join(groups[:6])
        + "\n                      "
        + " ".join(groups[6:12])
        + "\n                      "
        + " ".join(groups[12:])
        + "\n"
    )
    tag = f"localhost/{run_id}-gpgsum:test"
    try:
        h.build_image(tag, kafka_url=tarball_url, kafka_sha512=gpg_text, target="kafka")
    finally:
        h.run(["podman", "rmi", "--force", tag], timeout=60, check=False)
