"""Every invalid input exits 2 with a message naming the variable and showing a valid value."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import pytest

from .support import OTHER_ID, VALID_ID, Cli, valid_env

Changes = dict[str, Optional[str]]  # None: the variable is unset

# (id, changes to a valid environment, substrings the message must contain)
CASES: list[tuple[str, Changes, tuple[str, ...]]] = [
    ("missing-HOSTNAME", {"HOSTNAME": None}, ("HOSTNAME", "kafka-0")),
    ("blank-HOSTNAME", {"HOSTNAME": "   "}, ("HOSTNAME", "kafka-0")),
    ("missing-SERVICE", {"SERVICE": None}, ("SERVICE", "e.g.")),
    ("missing-NAMESPACE", {"NAMESPACE": None}, ("NAMESPACE", "e.g.")),
    ("missing-REPLICAS", {"REPLICAS": None}, ("REPLICAS", "REPLICAS=3")),
    ("pod-name-without-ordinal", {"HOSTNAME": "kafka"}, ("HOSTNAME", "kafka-0")),
    ("pod-name-upper-case", {"HOSTNAME": "Kafka-0"}, ("HOSTNAME", "kafka-0")),
    ("pod-name-trailing-dash", {"HOSTNAME": "kafka-"}, ("HOSTNAME", "kafka-0")),
    ("pod-name-leading-zero", {"HOSTNAME": "kafka-01"}, ("HOSTNAME", "kafka-0")),
    ("pod-name-negative", {"HOSTNAME": "kafka--1"}, ("HOSTNAME", "kafka-0")),
    ("pod-name-underscore", {"HOSTNAME": "kafka_0"}, ("HOSTNAME", "kafka-0")),
    ("pod-name-only-ordinal", {"HOSTNAME": "-0"}, ("HOSTNAME", "kafka-0")),
    ("pod-name-letters-after-ordinal", {"HOSTNAME": "kafka-0x"}, ("HOSTNAME", "kafka-0")),
    ("pod-name-too-long", {"HOSTNAME": "k" * 62 + "-0"}, ("HOSTNAME", "kafka-0")),
    (
        "pod-name-fqdn-bad-first-label",
        {"HOSTNAME": "kafka.svc.ns.svc.cluster.local"},
        ("HOSTNAME", "kafka-0"),
    ),
    ("pod-name-non-ascii", {"HOSTNAME": "käfka-0"}, ("HOSTNAME", "kafka-0")),
    ("pod-name-undecodable-bytes", {"HOSTNAME": "kafka-\udcff"}, ("HOSTNAME",)),
    (
        "ordinal-past-replicas",
        {"HOSTNAME": "kafka-10", "REPLICAS": "3"},
        ("REPLICAS", "CONTROLLER_REPLICAS", "10"),
    ),
    ("ordinal-equal-replicas", {"HOSTNAME": "kafka-3", "REPLICAS": "3"}, ("REPLICAS", "CONTROLLER_REPLICAS")),
    (
        "controller-replicas-above-replicas",
        {"REPLICAS": "3", "CONTROLLER_REPLICAS": "5"},
        ("CONTROLLER_REPLICAS", "REPLICAS", "e.g."),
    ),
    ("replicas-zero", {"REPLICAS": "0"}, ("REPLICAS", "REPLICAS=3")),
    ("replicas-negative", {"REPLICAS": "-1"}, ("REPLICAS", "REPLICAS=3")),
    ("replicas-not-a-number", {"REPLICAS": "three"}, ("REPLICAS", "REPLICAS=3")),
    ("replicas-fraction", {"REPLICAS": "1.5"}, ("REPLICAS", "REPLICAS=3")),
    ("controller-replicas-zero", {"CONTROLLER_REPLICAS": "0"}, ("CONTROLLER_REPLICAS", "e.g.")),
    ("same-port-by-default", {"BROKER_PORT": "9093"}, ("BROKER_PORT", "CONTROLLER_PORT", "e.g.")),
    (
        "same-port-both-set",
        {"BROKER_PORT": "7000", "CONTROLLER_PORT": "7000"},
        ("BROKER_PORT", "CONTROLLER_PORT", "e.g."),
    ),
    ("broker-port-0", {"BROKER_PORT": "0"}, ("BROKER_PORT", "e.g.")),
    ("broker-port-65536", {"BROKER_PORT": "65536"}, ("BROKER_PORT", "e.g.")),
    ("broker-port-abc", {"BROKER_PORT": "abc"}, ("BROKER_PORT", "e.g.")),
    ("controller-port-0", {"CONTROLLER_PORT": "0"}, ("CONTROLLER_PORT", "e.g.")),
    ("controller-port-65536", {"CONTROLLER_PORT": "65536"}, ("CONTROLLER_PORT", "e.g.")),
    ("controller-port-abc", {"CONTROLLER_PORT": "abc"}, ("CONTROLLER_PORT", "e.g.")),
    ("controller-port-negative", {"CONTROLLER_PORT": "-9093"}, ("CONTROLLER_PORT", "e.g.")),
    ("namespace-with-plus-the-seeds-sed-bug", {"NAMESPACE": "a+b"}, ("NAMESPACE", "e.g.")),
    ("namespace-upper-case", {"NAMESPACE": "Kafka"}, ("NAMESPACE", "e.g.")),
    ("namespace-with-slash", {"NAMESPACE": "a/b"}, ("NAMESPACE", "e.g.")),
    ("namespace-too-long", {"NAMESPACE": "n" * 64}, ("NAMESPACE", "e.g.")),
    ("service-with-plus", {"SERVICE": "a+b"}, ("SERVICE", "e.g.")),
    ("service-with-dot", {"SERVICE": "kafka.svc"}, ("SERVICE", "e.g.")),
    ("cluster-domain-underscore", {"CLUSTER_DOMAIN": "cluster_local"}, ("CLUSTER_DOMAIN", "cluster.local")),
    ("cluster-domain-empty-label", {"CLUSTER_DOMAIN": "cluster..local"}, ("CLUSTER_DOMAIN", "cluster.local")),
    ("cluster-id-short", {"CLUSTER_ID": VALID_ID[:21]}, ("CLUSTER_ID", VALID_ID)),
    ("cluster-id-long", {"CLUSTER_ID": VALID_ID + "A"}, ("CLUSTER_ID", VALID_ID)),
    ("cluster-id-non-canonical", {"CLUSTER_ID": VALID_ID[:21] + "h"}, ("CLUSTER_ID", VALID_ID)),
    ("cluster-id-standard-base64", {"CLUSTER_ID": "MkU3OEVBNTcwNTJENDM2+g"}, ("CLUSTER_ID", VALID_ID)),
    ("cluster-id-padding", {"CLUSTER_ID": "MkU3OEVBNTcwNTJENDM2Q="}, ("CLUSTER_ID", VALID_ID)),
    ("cluster-id-non-ascii", {"CLUSTER_ID": "MkU3OEVBNTcwNTJENDM2Qé"}, ("CLUSTER_ID", VALID_ID)),
    ("cluster-id-all-zero", {"CLUSTER_ID": "AAAAAAAAAAAAAAAAAAAAAA"}, ("CLUSTER_ID", VALID_ID)),
    ("cluster-id-metadata-topic", {"CLUSTER_ID": "AAAAAAAAAAAAAAAAAAAAAQ"}, ("CLUSTER_ID", VALID_ID)),
    (
        "cluster-id-uuid-with-dashes",
        {"CLUSTER_ID": "123e4567-e89b-12d3-a456-426614174000"},
        ("CLUSTER_ID", VALID_ID),
    ),
    ("no-share-dir-no-cluster-id-no-data-dir", {"SHARE_DIR": None}, ("SHARE_DIR", "e.g.")),
    ("no-share-dir-only-cluster-id", {"SHARE_DIR": None, "CLUSTER_ID": VALID_ID}, ("SHARE_DIR", "DATA_DIR")),
    ("no-share-dir-only-data-dir", {"SHARE_DIR": None, "DATA_DIR": "/data"}, ("SHARE_DIR", "CLUSTER_ID")),
    ("relative-share-dir", {"SHARE_DIR": "mnt/kafka"}, ("SHARE_DIR", "e.g.")),
    ("relative-data-dir", {"DATA_DIR": "data"}, ("DATA_DIR", "e.g.")),
    ("data-dir-with-comma", {"DATA_DIR": "/a,/b"}, ("DATA_DIR", "KAFKA_CFG_LOG_DIRS")),
    ("relative-kafka-home", {"KAFKA_HOME": "opt/kafka"}, ("KAFKA_HOME", "e.g.")),
    ("relative-template", {"KRAFT_TEMPLATE": "server.properties"}, ("KRAFT_TEMPLATE", "e.g.")),
    ("relative-config", {"KRAFT_CONFIG": "./server.properties"}, ("KRAFT_CONFIG", "e.g.")),
    ("timeout-negative", {"CLUSTER_ID_TIMEOUT": "-1"}, ("CLUSTER_ID_TIMEOUT", "e.g.")),
    ("timeout-not-a-number", {"CLUSTER_ID_TIMEOUT": "five"}, ("CLUSTER_ID_TIMEOUT", "e.g.")),
    ("timeout-nan", {"CLUSTER_ID_TIMEOUT": "nan"}, ("CLUSTER_ID_TIMEOUT", "e.g.")),
    ("timeout-infinite", {"CLUSTER_ID_TIMEOUT": "inf"}, ("CLUSTER_ID_TIMEOUT", "e.g.")),
    ("override-empty-name", {"KAFKA_CFG_": "1"}, ("KAFKA_CFG_", "KAFKA_CFG_LOG_RETENTION_HOURS=24")),
    ("override-leading-underscore", {"KAFKA_CFG__FOO": "1"}, ("KAFKA_CFG__FOO", "e.g.")),
    ("override-trailing-underscore", {"KAFKA_CFG_FOO_": "1"}, ("KAFKA_CFG_FOO_", "e.g.")),
    ("override-dash", {"KAFKA_CFG_FOO-BAR": "1"}, ("KAFKA_CFG_FOO-BAR", "e.g.")),
    ("override-dot", {"KAFKA_CFG_FOO.BAR": "1"}, ("KAFKA_CFG_FOO.BAR", "e.g.")),
    ("override-undecodable-value", {"KAFKA_CFG_FOO": "\udcff"}, ("KAFKA_CFG_FOO",)),
    ("override-node-id-not-a-number", {"KAFKA_CFG_NODE_ID": "one"}, ("KAFKA_CFG_NODE_ID", "e.g.")),
    ("override-relative-log-dirs", {"KAFKA_CFG_LOG_DIRS": "data"}, ("KAFKA_CFG_LOG_DIRS", "absolute")),
    (
        "override-bad-voters",
        {"KAFKA_CFG_CONTROLLER_QUORUM_VOTERS": "kafka-0:9093"},
        ("KAFKA_CFG_CONTROLLER_QUORUM_VOTERS", "e.g."),
    ),
]


def _apply(env: dict[str, str], changes: Changes) -> dict[str, str]:
    merged: dict[str, Optional[str]] = {**env, **changes}
    return {key: value for key, value in merged.items() if value is not None}


@pytest.mark.parametrize(("changes", "expected"), [(c, e) for _, c, e in CASES], ids=[c[0] for c in CASES])
def test_invalid_input_exits_2_naming_the_variable(
    changes: Changes, expected: tuple[str, ...], cli: Cli, tmp_path: Path, template_path: Path
) -> None:
    """The bad input is refused with exit 2; the error names the variable and shows a valid value."""
    outcome = cli.run(["--dry-run"], _apply(valid_env(tmp_path, template_path), changes))
    assert outcome.exception is None
    assert outcome.exit_code == 2, outcome.log
    assert outcome.stdout == b""
    errors = [line for line in outcome.log.splitlines() if line.startswith("ERROR: ")]
    assert len(errors) == 1, outcome.log
    for fragment in expected:
        assert fragment in errors[0]


def test_valid_environment_passes(cli: Cli, tmp_path: Path, template_path: Path) -> None:
    """The base of the table above is itself valid (so each case fails for its own change)."""
    outcome = cli.run(["--dry-run"], valid_env(tmp_path, template_path))
    assert (outcome.exit_code, outcome.exception) == (0, None), outcome.log


@pytest.mark.parametrize(
    "config",
    ["{t}", "{d}/./server.properties", "{d}//server.properties"],
    ids=["same", "dot-segment", "double-slash"],
)
def test_config_equal_to_template_exits_2(config: str, cli: Cli, tmp_path: Path, template_path: Path) -> None:
    """KRAFT_CONFIG naming the template (in any spelling) is refused and the template untouched."""
    template = tmp_path / "server.properties"
    template.write_bytes(template_path.read_bytes())
    before = template.read_bytes()
    env = valid_env(tmp_path, template, KRAFT_CONFIG=config.format(t=template, d=tmp_path))
    outcome = cli.run([], env)
    assert outcome.exit_code == 2, outcome.log
    assert "KRAFT_CONFIG" in outcome.log
    assert "e.g." in outcome.log
    assert template.read_bytes() == before


def test_missing_template_exits_2(cli: Cli, tmp_path: Path, template_path: Path) -> None:
    """An unreadable template names KRAFT_TEMPLATE."""
    outcome = cli.run(
        ["--dry-run"], valid_env(tmp_path, template_path, KRAFT_TEMPLATE=str(tmp_path / "nope"))
    )
    assert outcome.exit_code == 2
    assert "KRAFT_TEMPLATE" in outcome.log
    assert str(tmp_path / "nope") in outcome.log


@pytest.mark.parametrize(
    "content",
    [b"num.partitions=\\uZZZZ\n", b"num.partitions=\\ud800\n"],
    ids=["bad-unicode-escape", "lone-surrogate-escape"],
)
def test_malformed_template_exits_2_without_traceback(
    content: bytes, cli: Cli, tmp_path: Path, template_path: Path
) -> None:
    """A template Java could not read either is bad input: exit 2 naming KRAFT_TEMPLATE."""
    template = tmp_path / "bad.properties"
    template.write_bytes(content)
    outcome = cli.run(["--dry-run"], valid_env(tmp_path, template_path, KRAFT_TEMPLATE=str(template)))
    assert outcome.exception is None, repr(outcome.exception)
    assert outcome.exit_code == 2
    assert "KRAFT_TEMPLATE" in outcome.log


def test_template_with_relative_metadata_log_dir_exits_2(
    cli: Cli, tmp_path: Path, template_path: Path
) -> None:
    """A relative metadata.log.dir from the template is refused with exit 2, not a traceback."""
    template = tmp_path / "meta.properties"
    template.write_bytes(template_path.read_bytes() + b"metadata.log.dir=relative/meta\n")
    outcome = cli.run(["--dry-run"], valid_env(tmp_path, template_path, KRAFT_TEMPLATE=str(template)))
    assert outcome.exception is None, repr(outcome.exception)
    assert outcome.exit_code == 2
    assert "metadata.log.dir" in outcome.log
    assert "KRAFT_TEMPLATE" in outcome.log


def test_cluster_id_differing_from_shared_file_exits_2(cli: Cli, tmp_path: Path, template_path: Path) -> None:
    """CLUSTER_ID and an existing, different SHARE_DIR/cluster_id: exit 2 naming both ids and the file."""
    share = tmp_path / "share"
    share.mkdir()
    (share / "cluster_id").write_text(OTHER_ID + "\n")
    outcome = cli.run(["--dry-run"], valid_env(tmp_path, template_path, CLUSTER_ID=VALID_ID))
    assert outcome.exit_code == 2, outcome.log
    assert "CLUSTER_ID" in outcome.log
    assert OTHER_ID in outcome.log
    assert VALID_ID in outcome.log
    assert str(share / "cluster_id") in outcome.log
    assert (share / "cluster_id").read_text() == OTHER_ID + "\n"
