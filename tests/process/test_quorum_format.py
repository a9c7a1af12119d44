"""kafka-storage.sh format per quorum mode, through the real program with a recording fake Kafka."""

from __future__ import annotations

import json

import pytest

from kraft_entrypoint import cluster_id
from kraft_entrypoint.cluster_id import directory_id

from .support import FakeKafka, meta_properties, run

VALID_ID = "MkU3OEVBNTcwNTJENDM2Qg"
CTL = "kafka-controller-{}.kafka-svc.kafka-kraft.svc.cluster.local"


def _version(fake: FakeKafka, version: str) -> None:
    fake.install(version)
    template = fake.home / "config" / "kraft" / "server.properties"
    (fake.home / "config" / "server.properties").write_bytes(template.read_bytes())  # 4.x's place


def _dedicated(fake: FakeKafka, base: dict[str, str], hostname: str, **changes: str) -> dict[str, str]:
    env = fake.env(
        base,
        HOSTNAME=hostname,
        CONTROLLER_STATEFULSET="kafka-controller",
        CONTROLLER_REPLICAS="3",
        QUORUM="dynamic",
        CLUSTER_ID=VALID_ID,
        **changes,
    )
    del env["REPLICAS"]
    return env


def test_initial_controllers_format_with_the_same_derived_directory_ids(
    fake: FakeKafka, base_environ: dict[str, str]
) -> None:
    """Every initial controller formats with one --initial-controllers, directory ids derived alike."""
    _version(fake, "3.9.1")
    for ordinal in range(3):
        env = _dedicated(
            fake,
            base_environ,
            f"kafka-controller-{ordinal}",
            KRAFT_CONFIG=str(fake.root / f"config-{ordinal}" / "server.properties"),
        )
        result = run([], env)
        assert result.returncode == 0, result.stderr
    calls = fake.format_calls()
    assert len(calls) == 3
    expected = ",".join(f"{i}@{CTL.format(i)}:9093:{directory_id(VALID_ID, i)}" for i in range(3))
    for call in calls:
        assert call[call.index("--initial-controllers") + 1] == expected
    ids = {directory_id(VALID_ID, i) for i in range(3)}
    assert len(ids) == 3
    assert [cluster_id.problem_with(value) for value in ids] == [None] * 3


@pytest.mark.parametrize("hostname", ["kafka-controller-3", "kafka-0"], ids=["later-controller", "broker"])
def test_later_controllers_and_brokers_format_without_initial_controllers(
    hostname: str, fake: FakeKafka, base_environ: dict[str, str]
) -> None:
    """A controller past CONTROLLER_REPLICAS and every broker format with --no-initial-controllers."""
    _version(fake, "4.4.0")
    result = run([], _dedicated(fake, base_environ, hostname))
    assert result.returncode == 0, result.stderr
    (call,) = fake.format_calls()
    assert "--no-initial-controllers" in call
    assert "--initial-controllers" not in call


def test_static_quorum_format_is_unchanged_on_newer_versions(
    fake: FakeKafka, base_environ: dict[str, str]
) -> None:
    """QUORUM=static on 4.x formats exactly as on 3.3.2: config, id as one word, --ignore-formatted."""
    _version(fake, "4.4.0")
    result = run([], fake.env(base_environ, CLUSTER_ID=VALID_ID))
    assert result.returncode == 0, result.stderr
    assert fake.format_calls() == [
        ["format", "--config", str(fake.config), f"--cluster-id={VALID_ID}", "--ignore-formatted"]
    ]


@pytest.mark.parametrize("static_mark", ["quorum-state-voters", "meta-without-directory-id"])
def test_dynamic_on_storage_formatted_static_exits_3(
    static_mark: str, fake: FakeKafka, base_environ: dict[str, str]
) -> None:
    """QUORUM=dynamic on storage formatted for a static quorum exits 3 and changes nothing."""
    _version(fake, "3.9.1")
    data = fake.share / "0"
    meta_properties(data, VALID_ID, 0)
    if static_mark == "quorum-state-voters":
        with (data / "meta.properties").open("a") as meta:
            meta.write("directory.id=J8aAPcfLQt2bqs1JT_rMgQ\n")
        state = data / "__cluster_metadata-0" / "quorum-state"
        state.parent.mkdir()
        state.write_text(
            json.dumps(
                {
                    "leaderId": 0,
                    "currentVoters": [{"voterId": 0}, {"voterId": 1}, {"voterId": 2}],
                    "data_version": 0,
                }
            )
        )
    before = sorted(p.name for p in data.rglob("*"))
    result = run([], fake.env(base_environ, QUORUM="dynamic", CLUSTER_ID=VALID_ID))
    assert result.returncode == 3, result.stderr
    assert "static quorum" in result.stderr
    assert sorted(p.name for p in data.rglob("*")) == before
    assert fake.format_calls() == []


def test_quorum_state_version_1_is_read(fake: FakeKafka, base_environ: dict[str, str]) -> None:
    """Kafka 3.9+'s quorum-state (data_version 1, no currentVoters) is read, not refused, on an upgrade."""
    _version(fake, "4.4.0")
    data = fake.share / "0"
    meta_properties(data, VALID_ID, 0)
    state = data / "__cluster_metadata-0" / "quorum-state"
    state.parent.mkdir()
    state.write_text(
        json.dumps(
            {
                "leaderId": 1,
                "leaderEpoch": 7,
                "votedId": -1,
                "votedDirectoryId": "AAAAAAAAAAAAAAAAAAAAAA",
                "data_version": 1,
            }
        )
    )
    result = run([], fake.env(base_environ, CLUSTER_ID=VALID_ID))
    assert result.returncode == 0, result.stderr
    assert "format: skipped" in result.stderr


def test_pre_37_meta_properties_are_accepted_on_4x(fake: FakeKafka, base_environ: dict[str, str]) -> None:
    """A node formatted by 3.3 (no directory.id) starts on a 4.x image without a format."""
    _version(fake, "4.4.0")
    meta_properties(fake.share / "0", VALID_ID, 0)
    result = run([], fake.env(base_environ))
    assert result.returncode == 0, result.stderr
    assert "format: skipped" in result.stderr
    assert fake.format_calls() == []
