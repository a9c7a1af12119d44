"""The real program (python -m kraft_entrypoint) against a fake KAFKA_HOME."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from kraft_entrypoint import cluster_id

from .support import FakeKafka, meta_properties, popen, run, tree

VALID_ID = "MkU3OEVBNTcwNTJENDM2Qg"
OTHER_ID = "q1Sh-9_ISia_zwGINzRvyQ"


def test_first_start_formats_second_start_skips(fake: FakeKafka, base_environ: dict[str, str]) -> None:
    """Format runs once, with the generated config and the shared id; the second start only execs."""
    env = fake.env(base_environ)
    first = run([], env)
    assert first.returncode == 0, first.stderr
    (shared,) = fake.share.joinpath("cluster_id").read_text().split()
    assert cluster_id.problem_with(shared) is None
    assert fake.format_calls() == [
        ["format", "--config", str(fake.config), f"--cluster-id={shared}", "--ignore-formatted"]
    ]
    assert "fake kafka-storage.sh: formatting" in first.stderr
    assert (fake.share / "0" / "meta.properties").exists()
    assert fake.server_starts() == 1
    written = fake.config.read_bytes()

    second = run([], env)
    assert second.returncode == 0, second.stderr
    assert len(fake.format_calls()) == 1
    assert fake.server_starts() == 2
    assert fake.config.read_bytes() == written
    assert fake.share.joinpath("cluster_id").read_text().split() == [shared]
    template = fake.home / "config" / "kraft" / "server.properties"
    assert (
        template.read_bytes()
        == Path(__file__).parent.parent.joinpath("fixtures/server.properties").read_bytes()
    )


def test_exec_replaces_the_process(fake: FakeKafka, base_environ: dict[str, str]) -> None:
    """kafka-server-start.sh runs in the entrypoint's own process (same pid) with the config and env."""
    result = run([], fake.env(base_environ, PASSED_THROUGH="yes-1", KAFKA_HEAP_OPTS="-Xmx1G"))
    assert result.returncode == 0, result.stderr
    assert int((fake.calls / "server.pid").read_text()) == result.pid
    assert (fake.calls / "server.args").read_text().splitlines() == [str(fake.config)]
    environment = (fake.calls / "server.env").read_text().splitlines()
    assert "PASSED_THROUGH=yes-1" in environment
    assert "KAFKA_HEAP_OPTS=-Xmx1G" in environment
    assert result.stdout == b""


def test_dry_run_prints_exactly_the_written_file(fake: FakeKafka, base_environ: dict[str, str]) -> None:
    """--dry-run's stdout equals the bytes a real run writes, secrets masked; it writes and runs nothing."""
    env = fake.env(base_environ, KAFKA_CFG_SSL_KEY_PASSWORD="pw-123", KAFKA_CFG_X_Y="a:b=c")  # noqa: S106
    before = tree(fake.root)
    dry = run(["--dry-run"], env)
    assert dry.returncode == 0, dry.stderr
    assert tree(fake.root) == before
    assert "node 0" in dry.stderr
    assert "format" in dry.stderr
    assert "kafka-server-start.sh" in dry.stderr
    assert "pw-123" not in dry.stderr
    real = run([], env)
    assert real.returncode == 0, real.stderr
    assert fake.config.read_bytes() == dry.stdout.replace(b"******", b"pw-123")
    assert "pw-123" not in real.stderr
    assert b"pw-123" not in dry.stdout
    assert b"ssl.key.password=******" in dry.stdout
    assert run(["--dry-run"], env).stdout == dry.stdout


def test_dry_run_does_not_wait_for_a_missing_share_dir(fake: FakeKafka, base_environ: dict[str, str]) -> None:
    """--dry-run with an unmounted SHARE_DIR and a 300 s timeout returns at once."""
    started = time.monotonic()
    result = run(
        ["--dry-run"], fake.env(base_environ, SHARE_DIR=str(fake.root / "nowhere"), CLUSTER_ID_TIMEOUT="300")
    )
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 10
    assert not (fake.root / "nowhere").exists()


def test_format_failure_exits_5_showing_its_output(fake: FakeKafka, base_environ: dict[str, str]) -> None:
    """A failing kafka-storage.sh: exit 5, its output on stderr, Kafka not started."""
    result = run([], fake.env(base_environ, FAKE_FORMAT_FAIL="disk on fire"))
    assert result.returncode == 5
    assert "fake format failed: disk on fire" in result.stderr
    assert fake.server_starts() == 0


@pytest.mark.parametrize(("breakage", "code"), [("not-executable", 126), ("missing", 127)])
def test_start_script_problems_exit_before_any_write(
    breakage: str, code: int, fake: FakeKafka, base_environ: dict[str, str]
) -> None:
    """An unusable kafka-server-start.sh exits 126/127 before any format, cluster id or config write."""
    script = fake.home / "bin" / "kafka-server-start.sh"
    if breakage == "missing":
        script.unlink()
    else:
        script.chmod(0o644)
    before = tree(fake.root)
    result = run([], fake.env(base_environ))
    assert result.returncode == code, result.stderr
    assert str(script) in result.stderr
    assert fake.format_calls() == []
    assert tree(fake.root) == before
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("stored_id", "stored_node", "fragments"),
    [(OTHER_ID, 0, (OTHER_ID, VALID_ID)), (VALID_ID, 2, ("node.id=2", "node 0"))],
    ids=["other-cluster", "other-node"],
)
def test_foreign_storage_exits_3_touching_nothing(
    stored_id: str,
    stored_node: int,
    fragments: tuple[str, ...],
    fake: FakeKafka,
    base_environ: dict[str, str],
) -> None:
    """Storage of another cluster or node: exit 3, message with both values, share dir unchanged."""
    (fake.share / "cluster_id").write_text(VALID_ID + "\n")
    meta_properties(fake.share / "0", stored_id, stored_node)
    before = tree(fake.root)
    result = run([], fake.env(base_environ))
    assert result.returncode == 3, result.stderr
    for fragment in (*fragments, str(fake.share / "0")):
        assert fragment in result.stderr
    assert tree(fake.root) == before
    assert fake.format_calls() == []
    assert fake.server_starts() == 0


@pytest.mark.parametrize("given", [False, True], ids=["restored-from-meta", "cluster-id-given"])
def test_refused_start_does_not_publish_a_cluster_id(
    given: bool, fake: FakeKafka, base_environ: dict[str, str]
) -> None:
    """Exit 3 changes nothing, not even a missing SHARE_DIR/cluster_id."""
    meta_properties(fake.share / "0", OTHER_ID, 1)  # another node's storage in this pod's directory
    before = tree(fake.root)
    env = fake.env(base_environ, **({"CLUSTER_ID": VALID_ID} if given else {}))
    result = run([], env)
    assert result.returncode == 3, result.stderr
    assert tree(fake.root) == before


def test_voter_set_change_exits_3(fake: FakeKafka, base_environ: dict[str, str]) -> None:
    """A quorum-state with voters 0..2 and REPLICAS=5: exit 3 pointing at CONTROLLER_REPLICAS."""
    (fake.share / "cluster_id").write_text(VALID_ID + "\n")
    meta_properties(fake.share / "0", VALID_ID, 0)
    state = fake.share / "0" / "__cluster_metadata-0" / "quorum-state"
    state.parent.mkdir()
    state.write_text(
        '{"clusterId":"","leaderId":1,"leaderEpoch":3,"votedId":-1,"appliedOffset":0,'
        '"currentVoters":[{"voterId":0},{"voterId":1},{"voterId":2}],"data_version":0}'
    )
    before = tree(fake.root)
    result = run([], fake.env(base_environ, REPLICAS="5"))
    assert result.returncode == 3
    assert "CONTROLLER_REPLICAS" in result.stderr
    assert str(state) in result.stderr
    assert tree(fake.root) == before
    assert run([], fake.env(base_environ)).returncode == 0  # the unchanged quorum still starts


@pytest.mark.parametrize("situation", ["share-dir-missing", "empty-file"])
def test_no_cluster_id_exits_4_after_timeout(
    situation: str, fake: FakeKafka, base_environ: dict[str, str]
) -> None:
    """No usable id within CLUSTER_ID_TIMEOUT=0.5: exit 4 naming the file; nothing formatted."""
    if situation == "share-dir-missing":
        fake.share.rmdir()
    else:
        (fake.share / "cluster_id").write_text("")
    started = time.monotonic()
    result = run([], fake.env(base_environ, CLUSTER_ID_TIMEOUT="0.5"))
    assert result.returncode == 4, result.stderr
    assert 0.5 <= time.monotonic() - started < 10
    assert str(fake.share / "cluster_id") in result.stderr
    assert fake.format_calls() == []
    assert fake.server_starts() == 0
    assert "Traceback" not in result.stderr


def test_late_cluster_id_is_used(fake: FakeKafka, base_environ: dict[str, str]) -> None:
    """A share dir mounted 0.5 s after start, holding an id, is waited for and that id formatted."""
    fake.share.rmdir()
    staging = fake.root / "staging"
    staging.mkdir()
    (staging / "cluster_id").write_text(OTHER_ID + "\n")
    process = popen([], fake.env(base_environ, CLUSTER_ID_TIMEOUT="20"))
    time.sleep(0.5)
    staging.rename(fake.share)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr.decode()
    assert fake.format_calls()[0][3] == f"--cluster-id={OTHER_ID}"


def test_formatted_node_restores_missing_shared_file(fake: FakeKafka, base_environ: dict[str, str]) -> None:
    """A formatted node whose shared file is gone restores it from meta.properties, warns, skips format."""
    meta_properties(fake.share / "0", OTHER_ID, 0)
    result = run([], fake.env(base_environ))
    assert result.returncode == 0, result.stderr
    assert (fake.share / "cluster_id").read_text().split() == [OTHER_ID]
    assert "WARNING" in result.stderr
    assert OTHER_ID in result.stderr
    assert fake.format_calls() == []
    assert fake.server_starts() == 1


def test_cluster_id_given_is_published_and_formatted(fake: FakeKafka, base_environ: dict[str, str]) -> None:
    """CLUSTER_ID wins: it is formatted with and written to the missing shared file."""
    result = run([], fake.env(base_environ, CLUSTER_ID=OTHER_ID))
    assert result.returncode == 0, result.stderr
    assert fake.format_calls()[0][3] == f"--cluster-id={OTHER_ID}"
    assert (fake.share / "cluster_id").read_text().split() == [OTHER_ID]


def test_cluster_id_starting_with_dash_is_one_argument(fake: FakeKafka, base_environ: dict[str, str]) -> None:
    """An id starting with '-' reaches kafka-storage.sh as --cluster-id=<id>."""
    dash_id = "-3Xy5ZpXQ8ie9gl3rTw8wA"
    result = run([], fake.env(base_environ, CLUSTER_ID=dash_id, DATA_DIR=str(fake.root / "data")))
    assert result.returncode == 0, result.stderr
    assert f"--cluster-id={dash_id}" in fake.format_calls()[0]


def test_broker_only_pod_starts(fake: FakeKafka, base_environ: dict[str, str]) -> None:
    """kafka-5 with CONTROLLER_REPLICAS=3 formats and starts as a broker."""
    result = run([], fake.env(base_environ, HOSTNAME="kafka-5", REPLICAS="6", CONTROLLER_REPLICAS="3"))
    assert result.returncode == 0, result.stderr
    assert b"process.roles=broker\n" in fake.config.read_bytes()
    assert (fake.share / "5" / "meta.properties").exists()


def test_help_and_version(base_environ: dict[str, str], spec_variables: tuple[str, ...]) -> None:
    """--help names every variable and exits 0; --version prints a version."""
    help_text = run(["--help"], base_environ)
    assert help_text.returncode == 0
    for variable in spec_variables:
        assert variable in help_text.stdout.decode()
    version = run(["--version"], base_environ)
    assert version.returncode == 0
    assert any(c.isdigit() for c in version.stdout.decode())


def test_racing_pods_format_with_one_id(
    tmp_path: Path, template_path: Path, base_environ: dict[str, str]
) -> None:
    """16 pods of one StatefulSet starting at once on an empty share dir all format with the same id."""
    fakes = [FakeKafka.create(tmp_path / f"pod{i}", template_path) for i in range(16)]
    share = tmp_path / "share"
    share.mkdir()
    processes = [
        popen([], fake.env(base_environ, HOSTNAME=f"kafka-{i}", REPLICAS="16", SHARE_DIR=str(share)))
        for i, fake in enumerate(fakes)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, stderr.decode()
    ids = {fake.format_calls()[0][3] for fake in fakes}
    assert ids == {"--cluster-id=" + share.joinpath("cluster_id").read_text().strip()}
    assert sorted(p.name for p in share.iterdir()) == sorted(["cluster_id", *(str(i) for i in range(16))])
