"""RACK / RACK_FILE: broker.rack and the rack-aware replica selector on broker nodes only; the rack
file read at start (one trailing newline dropped); every refusal exits 2 naming the input."""

from __future__ import annotations

import os
from pathlib import Path

import jproperties
import pytest

from kraft_entrypoint import rack
from kraft_entrypoint.errors import InvalidInput

from .support import Cli, Outcome, valid_env

SELECTOR = "org.apache.kafka.common.replica.RackAwareReplicaSelector"
DEDICATED = {"CONTROLLER_STATEFULSET": "kafka-controller", "CONTROLLER_REPLICAS": "3"}


def _props(outcome: Outcome) -> dict[str, str]:
    assert outcome.exit_code == 0, outcome.log
    loaded = jproperties.Properties()
    loaded.load(outcome.stdout, "iso-8859-1")
    return {key: loaded[key].data for key in loaded}


def _home(tmp_path: Path) -> str:
    home = tmp_path / "kafka"
    (home / "libs").mkdir(parents=True, exist_ok=True)
    (home / "libs" / "kafka_2.13-3.3.2.jar").write_bytes(b"")
    return str(home)


@pytest.mark.parametrize(
    "value",
    ["eu-west-1a", "a", "rack 7", "zone_b.1", "x" * rack.MAX_LENGTH, "zone-é"],
    ids=["zone", "one-letter", "inner-space", "punctuation", "longest", "non-ascii"],
)
def test_racks_kafka_takes_are_kept_as_they_are(value: str) -> None:
    """A rack with no surrounding blanks, no control character and at most 255 characters is kept."""
    assert rack.check("RACK", value) == value


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("", "is empty"),
        (" eu-west-1a", "white space"),
        ("eu-west-1a\t", "white space"),
        ("eu-west\n1a", "control or invisible"),
        ("eu-west-1a\r", "white space"),
        ("zone\u200ba", "control or invisible"),
        ("zone\x00", "control or invisible"),
        ("x" * (rack.MAX_LENGTH + 1), "more than 255"),
    ],
    ids=["empty", "leading-space", "trailing-tab", "newline", "carriage-return", "zero-width", "nul", "long"],
)
def test_racks_that_can_only_be_mistakes_are_refused(value: str, says: str) -> None:
    """The message names the input, the problem and a good value."""
    with pytest.raises(InvalidInput) as refused:
        rack.check("RACK_FILE", value)
    assert "RACK_FILE (--rack-file)" in str(refused.value)
    assert says in str(refused.value)
    assert "eu-west-1a" in str(refused.value)


@pytest.mark.parametrize(
    ("data", "expected"),
    [(b"eu-west-1a", "eu-west-1a"), (b"eu-west-1a\n", "eu-west-1a"), (b"eu-west-1a\r\n", "eu-west-1a")],
    ids=["bare", "newline", "crlf"],
)
def test_one_trailing_newline_of_the_file_is_dropped(data: bytes, expected: str) -> None:
    """The downward API writes the bare value, an init container's echo adds a newline: both work."""
    assert rack.from_file(data, "/etc/kafka/rack/zone") == expected


@pytest.mark.parametrize(
    "data",
    [b"", b"\n", b"eu-west-1a\n\n", b"a\nb\n", b"\xff\xfe"],
    ids=["empty", "newline", "two", "lines", "binary"],
)
def test_a_file_that_is_not_one_rack_is_refused(data: bytes) -> None:
    """An empty file (the pod-label volume where the label is missing), several lines, binary data."""
    with pytest.raises(InvalidInput, match=r"RACK_FILE \(--rack-file\)"):
        rack.from_file(data, "/etc/kafka/rack/zone")


def test_rack_sets_broker_rack_and_the_selector(cli: Cli, tmp_path: Path, template_path: Path) -> None:
    """RACK on a combined node: broker.rack and the rack-aware replica selector, and one log line."""
    outcome = cli.run(["--dry-run"], valid_env(tmp_path, template_path, RACK="eu-west-1a"))
    props = _props(outcome)
    assert props["broker.rack"] == "eu-west-1a"
    assert props["replica.selector.class"] == SELECTOR
    assert "INFO: rack eu-west-1a from RACK: broker.rack set" in outcome.log


def test_no_rack_sets_neither(cli: Cli, tmp_path: Path, template_path: Path) -> None:
    """Without RACK and RACK_FILE the config has neither key, and nothing about a rack is logged."""
    outcome = cli.run(["--dry-run"], valid_env(tmp_path, template_path))
    props = _props(outcome)
    assert "broker.rack" not in props
    assert "replica.selector.class" not in props
    assert "INFO: rack " not in outcome.log


def test_blank_rack_is_unset(cli: Cli, tmp_path: Path, template_path: Path) -> None:
    """RACK="" (or blanks), as every other input, means unset."""
    props = _props(cli.run(["--dry-run"], valid_env(tmp_path, template_path, RACK="  ")))
    assert "broker.rack" not in props


def test_rack_file_is_read_at_start(cli: Cli, tmp_path: Path, template_path: Path) -> None:
    """RACK_FILE's content (an init container's echo, with its newline) is the rack."""
    (tmp_path / "zone").write_text("eu-west-1b\n")
    outcome = cli.run(["--dry-run"], valid_env(tmp_path, template_path, RACK_FILE=str(tmp_path / "zone")))
    assert _props(outcome)["broker.rack"] == "eu-west-1b"
    assert f"from RACK_FILE {tmp_path / 'zone'}" in outcome.log


def test_controller_only_node_gets_no_rack(cli: Cli, tmp_path: Path, template_path: Path) -> None:
    """A dedicated controller holds no replicas: neither key, and the log says why; its brokers get both."""
    env = valid_env(tmp_path, template_path, KAFKA_HOME=_home(tmp_path), RACK="eu-west-1a", **DEDICATED)
    env.pop("REPLICAS")
    controller = cli.run(["--dry-run"], {**env, "HOSTNAME": "kafka-controller-0"})
    props = _props(controller)
    assert props["process.roles"] == "controller"
    assert "broker.rack" not in props
    assert "replica.selector.class" not in props
    assert "not used, a controller-only node has no replicas" in controller.log
    broker = _props(cli.run(["--dry-run"], {**env, "HOSTNAME": "kafka-0"}))
    assert broker["process.roles"] == "broker"
    assert broker["broker.rack"] == "eu-west-1a"


def test_an_override_wins_over_the_rack(cli: Cli, tmp_path: Path, template_path: Path) -> None:
    """KAFKA_CFG_BROKER_RACK, as any override, has the last word."""
    env = valid_env(tmp_path, template_path, RACK="eu-west-1a", KAFKA_CFG_BROKER_RACK="other")
    assert _props(cli.run(["--dry-run"], env))["broker.rack"] == "other"


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        (
            {"RACK": "a", "RACK_FILE": "/etc/kafka/rack/zone"},
            "RACK (--rack) and RACK_FILE (--rack-file) are both set",
        ),
        ({"RACK": " a"}, "the rack from RACK (--rack) has white space around it"),
        ({"RACK_FILE": "{tmp}/missing"}, "cannot read RACK_FILE (--rack-file) {tmp}/missing: no such file"),
        ({"RACK_FILE": "{tmp}"}, "cannot read RACK_FILE (--rack-file) {tmp}: {tmp} is a directory"),
        ({"RACK_FILE": "{tmp}/empty"}, "the rack from RACK_FILE (--rack-file) is empty"),
        ({"RACK_FILE": "rack"}, "RACK_FILE (--rack-file) must be an absolute path"),
    ],
    ids=["both", "blanks-around", "missing", "directory", "empty", "relative"],
)
def test_refusals_exit_2_before_anything_is_written(
    changes: dict[str, str], says: str, cli: Cli, tmp_path: Path, template_path: Path
) -> None:
    """Exit 2 with one line naming the input; no config is written, no cluster id published."""
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "share").mkdir()
    env = valid_env(tmp_path, template_path, **{k: v.format(tmp=tmp_path) for k, v in changes.items()})
    outcome = cli.run([], env)
    assert outcome.exit_code == 2, outcome.log
    assert says.format(tmp=tmp_path) in outcome.log
    assert not (tmp_path / "config").exists()
    assert os.listdir(tmp_path / "share") == []


def test_a_fifo_as_rack_file_is_refused_at_once(cli: Cli, tmp_path: Path, template_path: Path) -> None:
    """Not a regular file: exit 2 naming RACK_FILE at once (never waits for a writer)."""
    fifo = tmp_path / "zone"
    os.mkfifo(fifo)
    outcome = cli.run(["--dry-run"], valid_env(tmp_path, template_path, RACK_FILE=str(fifo)))
    assert outcome.exit_code == 2
    assert f"cannot read RACK_FILE (--rack-file) {fifo}: {fifo} is a FIFO" in outcome.log
