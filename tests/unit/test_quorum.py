"""Quorum topologies: dedicated controllers (any version) and the dynamic quorum (Kafka 3.9+)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import jproperties
import pytest

from .support import Cli, Outcome, valid_env

CTL = "kafka-controller-{}.kafka-svc.kafka-kraft.svc.cluster.local"
BROKER = "kafka-{}.kafka-svc.kafka-kraft.svc.cluster.local"
DEDICATED = {"CONTROLLER_STATEFULSET": "kafka-controller", "CONTROLLER_REPLICAS": "3"}


def _home(tmp_path: Path, version: Optional[str]) -> str:
    home = tmp_path / "kafka"
    if version:
        (home / "libs").mkdir(parents=True)
        (home / "libs" / f"kafka_2.13-{version}.jar").write_bytes(b"")
    return str(home)


def _run(
    cli: Cli, tmp_path: Path, template: Path, version: Optional[str] = "3.3.2", **changes: str
) -> Outcome:
    home = _home(tmp_path, version)
    declared = {"KAFKA_VERSION": None} if version else {}  # with libs/, the version is read from it
    env = valid_env(tmp_path, template, KAFKA_HOME=home, **declared, **changes)
    env.pop("REPLICAS") if "CONTROLLER_STATEFULSET" in changes else None
    return cli.run(["--dry-run"], env)


def _props(outcome: Outcome) -> dict[str, str]:
    assert outcome.exit_code == 0, outcome.log
    loaded = jproperties.Properties()
    loaded.load(outcome.stdout, "iso-8859-1")
    return {key: loaded[key].data for key in loaded}


def test_dedicated_controller_pod(cli: Cli, tmp_path: Path, template_path: Path) -> None:
    """A controller StatefulSet pod: controller only, node.id = ordinal, only the controller listener."""
    props = _props(_run(cli, tmp_path, template_path, HOSTNAME="kafka-controller-1", **DEDICATED))
    assert props["process.roles"] == "controller"
    assert props["node.id"] == "1"
    assert props["listeners"] == "CONTROLLER://:9093"
    assert "advertised.listeners" not in props  # the template's line is dropped, Kafka 3.3 refuses it
    assert "inter.broker.listener.name" not in props
    assert props["controller.quorum.voters"] == ",".join(f"{i}@{CTL.format(i)}:9093" for i in range(3))
    assert props["log.dirs"].endswith("/share/1")


def test_dedicated_broker_pod(cli: Cli, tmp_path: Path, template_path: Path) -> None:
    """Another StatefulSet's pod: broker only, node.id = BROKER_ID_OFFSET + ordinal, controllers as voters."""
    props = _props(_run(cli, tmp_path, template_path, HOSTNAME="kafka-4", **DEDICATED))
    assert props["process.roles"] == "broker"
    assert props["node.id"] == "104"
    assert props["listeners"] == "PLAINTEXT://:9092"
    assert props["advertised.listeners"] == f"PLAINTEXT://{BROKER.format(4)}:9092"
    assert props["controller.quorum.voters"] == ",".join(f"{i}@{CTL.format(i)}:9093" for i in range(3))
    assert props["log.dirs"].endswith("/share/104")


def test_dedicated_controller_service_and_offset(cli: Cli, tmp_path: Path, template_path: Path) -> None:
    """CONTROLLER_SERVICE names the controllers' headless Service; BROKER_ID_OFFSET moves broker ids."""
    props = _props(
        _run(
            cli,
            tmp_path,
            template_path,
            HOSTNAME="kafka-0",
            CONTROLLER_SERVICE="ctl-svc",
            BROKER_ID_OFFSET="1000",
            **DEDICATED,
        )
    )
    assert props["node.id"] == "1000"
    assert props["controller.quorum.voters"].startswith(
        "0@kafka-controller-0.ctl-svc.kafka-kraft.svc.cluster.local"
    )


def test_dynamic_quorum_combined(cli: Cli, tmp_path: Path, template_path: Path) -> None:
    """QUORUM=dynamic on 3.9: bootstrap servers instead of voters; the controller advertises its endpoint."""
    props = _props(_run(cli, tmp_path, template_path, version="3.9.1", QUORUM="dynamic"))
    assert "controller.quorum.voters" not in props  # the template's own line is dropped too
    assert props["controller.quorum.bootstrap.servers"] == ",".join(
        f"{BROKER.format(i)}:9093" for i in range(3)
    )
    assert (
        props["advertised.listeners"]
        == f"PLAINTEXT://{BROKER.format(0)}:9092,CONTROLLER://{BROKER.format(0)}:9093"
    )
    assert "controller.quorum.auto.join.enable" not in props


def test_dynamic_quorum_auto_join_where_kafka_has_it(cli: Cli, tmp_path: Path, template_path: Path) -> None:
    """A later controller of a dynamic quorum on Kafka 4.2+ joins by itself (auto-join on)."""
    outcome = _run(
        cli,
        tmp_path,
        template_path,
        version="4.2.0",
        QUORUM="dynamic",
        HOSTNAME="kafka-controller-4",
        **DEDICATED,
    )
    props = _props(outcome)
    assert props["controller.quorum.auto.join.enable"] == "true"
    assert props["process.roles"] == "controller"
    assert props["advertised.listeners"] == f"CONTROLLER://{CTL.format(4)}:9093"
    assert "add-controller" not in outcome.log


def test_dynamic_later_controller_logs_the_add_controller_command(
    cli: Cli, tmp_path: Path, template_path: Path
) -> None:
    """Where Kafka cannot auto-join (3.9), a later controller logs the exact kafka-metadata-quorum command."""
    outcome = _run(
        cli,
        tmp_path,
        template_path,
        version="3.9.1",
        QUORUM="dynamic",
        HOSTNAME="kafka-controller-3",
        **DEDICATED,
    )
    assert outcome.exit_code == 0, outcome.log
    assert "kafka-metadata-quorum.sh" in outcome.log
    assert "add-controller" in outcome.log
    assert f"--bootstrap-controller {CTL.format(0)}:9093" in outcome.log


REFUSALS = [
    ("dynamic-on-3.3", "3.3.2", {"QUORUM": "dynamic"}, "QUORUM"),
    ("dynamic-on-3.8", "3.8.1", {"QUORUM": "dynamic"}, "QUORUM"),
    ("below-3.3", "3.2.3", {}, "KAFKA_HOME"),
    ("quorum-bogus", "3.9.1", {"QUORUM": "raft"}, "QUORUM"),
    (
        "dedicated-without-controller-replicas",
        "3.3.2",
        {"CONTROLLER_STATEFULSET": "kafka-controller", "REPLICAS": "3"},
        "CONTROLLER_REPLICAS",
    ),
    ("offset-reached", "3.3.2", {**DEDICATED, "CONTROLLER_REPLICAS": "100"}, "BROKER_ID_OFFSET"),
    (
        "static-controller-past-quorum",
        "3.3.2",
        {**DEDICATED, "HOSTNAME": "kafka-controller-3"},
        "CONTROLLER_REPLICAS",
    ),
    ("offset-without-dedicated", "3.3.2", {"BROKER_ID_OFFSET": "100"}, "CONTROLLER_STATEFULSET"),
    ("controller-service-without-dedicated", "3.3.2", {"CONTROLLER_SERVICE": "x"}, "CONTROLLER_STATEFULSET"),
    (
        "external-on-controller",
        "3.3.2",
        {**DEDICATED, "HOSTNAME": "kafka-controller-0", "EXTERNAL_HOST": "h.example"},
        "EXTERNAL_HOST",
    ),
    (
        "roles-override-on-controller",
        "3.3.2",
        {**DEDICATED, "HOSTNAME": "kafka-controller-0", "KAFKA_CFG_PROCESS_ROLES": "broker,controller"},
        "KAFKA_CFG_PROCESS_ROLES",
    ),
]


@pytest.mark.parametrize(
    ("version", "changes", "words"), [case[1:] for case in REFUSALS], ids=[case[0] for case in REFUSALS]
)
def test_quorum_refusals_exit_2(
    version: str, changes: dict[str, str], words: str, cli: Cli, tmp_path: Path, template_path: Path
) -> None:
    """Each contradiction exits 2 naming the variable."""
    outcome = _run(cli, tmp_path, template_path, version=version, **changes)
    assert outcome.exit_code == 2, outcome.log
    assert words in outcome.log
    assert outcome.exception is None


@pytest.mark.parametrize(
    ("version", "template"),
    [
        ("3.3.2", "config/kraft/server.properties"),
        ("3.9.1", "config/kraft/server.properties"),
        ("4.0.0", "config/server.properties"),
        ("4.4.0", "config/server.properties"),
    ],
)
def test_template_place_follows_the_version(
    version: str, template: str, cli: Cli, tmp_path: Path, template_path: Path
) -> None:
    """Without KRAFT_TEMPLATE the installation's own template is read: config/server.properties from 4.0."""
    home = Path(_home(tmp_path, version))
    (home / template).parent.mkdir(parents=True)
    (home / template).write_bytes(template_path.read_bytes() + b"x.marker=" + version.encode() + b"\n")
    env = valid_env(tmp_path, template_path, KAFKA_HOME=str(home), KAFKA_VERSION=None)
    del env["KRAFT_TEMPLATE"]
    props = _props(cli.run(["--dry-run"], env))
    assert props["x.marker"] == version
