"""Faults and hostile inputs of SPEC's hardening section, each through the real program: files
Kafka would not accept, odd file types, path identity, own-id starts, exit-2-first checks,
messages that name the real cause, and the order of effects."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Callable

import pytest

from kraft_entrypoint import cluster_id

from .support import FakeKafka, meta_properties, run, tree

VALID_ID = "MkU3OEVBNTcwNTJENDM2Qg"
OTHER_ID = "q1Sh-9_ISia_zwGINzRvyQ"
META_OK = f"#\n#Tue Jan 10 12:00:00 UTC 2023\nnode.id=0\nversion=1\ncluster.id={VALID_ID}\n"
STATE_OK = {
    "clusterId": "",
    "leaderId": 0,
    "leaderEpoch": 1,
    "votedId": -1,
    "appliedOffset": 0,
    "currentVoters": [{"voterId": 0}, {"voterId": 1}, {"voterId": 2}],
    "data_version": 0,
}


def _digest(root: Path) -> str:
    return hashlib.sha256(repr(tree(root)).encode()).hexdigest()


def _fifo(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)


def _text(content: str) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)

    return make


def _bytes(content: bytes) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)

    return make


def _dangling(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.symlink_to(path.parent / "nowhere")


def _directory(path: Path) -> None:
    path.mkdir(parents=True)


META_CASES = [
    ("empty", _text(""), 3, "it is empty"),
    ("truncated", _text(META_OK[:-12]), 3, "is not a cluster id"),
    ("garbage", _bytes(b"\x00\xff\xfe garbage \x01\x02"), 3, "not a meta.properties Kafka would accept"),
    ("no-cluster-id", _text("node.id=0\nversion=1\n"), 3, "cluster.id is missing"),
    ("no-node-id", _text(f"version=1\ncluster.id={VALID_ID}\n"), 3, "node.id is missing"),
    ("bad-node-id", _text(f"node.id=zero\nversion=1\ncluster.id={VALID_ID}\n"), 3, "not a whole number"),
    ("no-version", _text(f"node.id=0\ncluster.id={VALID_ID}\n"), 3, "version is 'missing'"),
    ("version-0", _text(f"broker.id=0\nversion=0\ncluster.id={VALID_ID}\n"), 3, "version is '0'"),
    ("huge", _text(META_OK + "x=" + "y" * 100_000 + "\n"), 3, "larger than"),
    ("fifo", _fifo, 3, "is a FIFO"),
    ("dangling-symlink", _dangling, 3, "dangling symlink"),
    ("directory", _directory, 3, "is a directory"),
    ("extra-directory-id", _text(META_OK + "directory.id=J8aAPcfLQt2bqs1JT_rMgQ\n"), 0, "format: skipped"),
]


@pytest.mark.parametrize(
    ("make", "code", "words"), [case[1:] for case in META_CASES], ids=[case[0] for case in META_CASES]
)
def test_meta_properties_fixtures(
    fake: FakeKafka, base_environ: dict[str, str], make: Callable[[Path], None], code: int, words: str
) -> None:
    """meta.properties counts as formatted only when Kafka would accept it; else exit 3, nothing changed."""
    make(fake.share / "0" / "meta.properties")
    before = _digest(fake.share)
    result = run([], fake.env(base_environ), timeout=20)
    assert result.returncode == code, result.stderr
    assert words in result.stderr
    assert "Traceback" not in result.stderr
    if code:
        assert _digest(fake.share) == before  # no id published, nothing formatted
        assert fake.format_calls() == []
        assert str(fake.share / "0" / "meta.properties") in result.stderr


STATE_CASES = [
    ("garbage", _text("{not json"), 3, "cannot read"),
    ("nested", _text("[" * 200_000 + "]" * 200_000), 3, "nested too deeply"),
    ("huge", _text(json.dumps({**STATE_OK, "pad": "x" * 2_000_000})), 3, "larger than"),
    ("fifo", _fifo, 3, "is a FIFO"),
    ("not-an-object", _text("[1, 2]"), 3, "cannot read"),
    (
        "other-voters",
        _text(json.dumps({**STATE_OK, "currentVoters": [{"voterId": 0}]})),
        3,
        "records the voters 0",
    ),
    ("same-voters", _text(json.dumps(STATE_OK)), 0, "format: skipped"),
]


@pytest.mark.parametrize(
    ("make", "code", "words"), [case[1:] for case in STATE_CASES], ids=[case[0] for case in STATE_CASES]
)
def test_quorum_state_fixtures(
    fake: FakeKafka, base_environ: dict[str, str], make: Callable[[Path], None], code: int, words: str
) -> None:
    """quorum-state is read bounded and without recursion errors; what cannot be read exits 3."""
    meta_properties(fake.share / "0", VALID_ID, 0)
    make(fake.share / "0" / "__cluster_metadata-0" / "quorum-state")
    before = _digest(fake.share)
    result = run([], fake.env(base_environ, CLUSTER_ID=VALID_ID), timeout=20)
    assert result.returncode == code, result.stderr
    assert words in result.stderr
    assert "Traceback" not in result.stderr
    if code:
        assert _digest(fake.share) == before


def _template_paths(fake: FakeKafka, tmp_path: Path) -> dict[str, tuple[str, str]]:
    """(KRAFT_TEMPLATE, KRAFT_CONFIG) spellings that reach one file."""
    template = fake.home / "config" / "kraft" / "server.properties"
    (tmp_path / "linked-dir").symlink_to(template.parent)
    (tmp_path / "link-to-template").symlink_to(template)
    return {
        "double-slash": (str(template), "/" + str(template)),
        "dot-dot": (str(template), str(template.parent / ".." / "kraft" / "server.properties")),
        "symlinked-dir": (str(template), str(tmp_path / "linked-dir" / "server.properties")),
        "symlink-to-template": (str(template), str(tmp_path / "link-to-template")),
    }


@pytest.mark.parametrize("spelling", ["double-slash", "dot-dot", "symlinked-dir", "symlink-to-template"])
def test_config_reaching_the_template_exits_2(
    fake: FakeKafka, base_environ: dict[str, str], tmp_path: Path, spelling: str
) -> None:
    """KRAFT_CONFIG that reaches the template by another spelling exits 2; the template is unchanged."""
    template_path, config = _template_paths(fake, tmp_path)[spelling]
    before = Path(template_path).read_bytes()
    result = run([], fake.env(base_environ, KRAFT_TEMPLATE=template_path, KRAFT_CONFIG=config))
    assert result.returncode == 2, result.stderr
    assert "KRAFT_CONFIG" in result.stderr
    assert "same file as the template" in result.stderr
    assert Path(template_path).read_bytes() == before
    assert not (fake.share / "cluster_id").exists()


def test_template_that_is_a_symlink_to_the_config_exits_2(
    fake: FakeKafka, base_environ: dict[str, str], tmp_path: Path
) -> None:
    """A template that is a symlink to the config would be replaced by the output: exit 2."""
    real = tmp_path / "config" / "server.properties"
    real.parent.mkdir()
    real.write_bytes((fake.home / "config" / "kraft" / "server.properties").read_bytes())
    link = tmp_path / "template-link.properties"
    link.symlink_to(real)
    result = run([], fake.env(base_environ, KRAFT_TEMPLATE=str(link), KRAFT_CONFIG=str(real)))
    assert result.returncode == 2, result.stderr
    assert "same file as the template" in result.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="a bind mount needs root")
def test_config_through_a_bind_mount_exits_2(
    fake: FakeKafka, base_environ: dict[str, str], tmp_path: Path
) -> None:
    """The template's directory bind-mounted elsewhere: same file by inode, exit 2, template intact."""
    template = fake.home / "config" / "kraft" / "server.properties"
    mount = tmp_path / "mnt"
    mount.mkdir()
    subprocess.run(["mount", "--bind", str(template.parent), str(mount)], check=True)
    try:
        before = template.read_bytes()
        result = run([], fake.env(base_environ, KRAFT_CONFIG=str(mount / "server.properties")))
        assert result.returncode == 2, result.stderr
        assert "same file as the template" in result.stderr
        assert template.read_bytes() == before
        # Neither file there yet: the same name in the same directory (by inode) is the same file.
        fresh_template = fake.env(
            base_environ,
            KRAFT_TEMPLATE=str(template.parent / "server.generated.properties"),
            KRAFT_CONFIG=str(mount / "server.generated.properties"),
        )
        assert "same file as the template" in run([], fresh_template).stderr
    finally:
        subprocess.run(["umount", str(mount)], check=True)


@pytest.mark.parametrize("problem", ["missing", "empty", "garbage", "read-only-share"])
def test_formatted_node_starts_with_its_own_id(
    fake: FakeKafka, base_environ: dict[str, str], problem: str
) -> None:
    """A formatted node does not wait for the shared file: it starts with meta.properties' id, warning."""
    meta_properties(fake.share / "0", VALID_ID, 0)
    shared = fake.share / "cluster_id"
    if problem == "empty":
        shared.write_text("")
    elif problem == "garbage":
        shared.write_text("not an id at all\n")
    elif problem == "read-only-share":
        fake.share.chmod(0o555)
    started = time.monotonic()
    try:
        result = run([], fake.env(base_environ, CLUSTER_ID_TIMEOUT="300"), timeout=60)
    finally:
        fake.share.chmod(0o755)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 30
    assert "WARNING" in result.stderr
    assert f"cluster id {VALID_ID}" in result.stderr
    assert fake.format_calls() == []
    if problem == "missing":
        assert shared.read_text().split() == [VALID_ID]  # restored


def test_formatted_node_refuses_another_valid_shared_id(
    fake: FakeKafka, base_environ: dict[str, str]
) -> None:
    """Only a shared file holding a different valid id refuses a formatted node (exit 3)."""
    meta_properties(fake.share / "0", VALID_ID, 0)
    (fake.share / "cluster_id").write_text(OTHER_ID + "\n")
    result = run([], fake.env(base_environ))
    assert result.returncode == 3, result.stderr
    assert OTHER_ID in result.stderr
    assert VALID_ID in result.stderr


@pytest.mark.parametrize(
    "content", ["", "garbage\n", "\ufeff" + VALID_ID + "\n"], ids=["empty", "garbage", "bom"]
)
def test_cluster_id_given_never_waits_for_a_bad_shared_file(
    fake: FakeKafka, base_environ: dict[str, str], content: str
) -> None:
    """CLUSTER_ID set: an unusable shared file is a warning, never a wait."""
    (fake.share / "cluster_id").write_text(content)
    started = time.monotonic()
    result = run([], fake.env(base_environ, CLUSTER_ID=OTHER_ID, CLUSTER_ID_TIMEOUT="300"), timeout=60)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 30
    assert "WARNING" in result.stderr
    assert fake.format_calls()[0][-2] == f"--cluster-id={OTHER_ID}"


def test_cluster_id_given_and_another_valid_shared_id_exits_2(
    fake: FakeKafka, base_environ: dict[str, str]
) -> None:
    """CLUSTER_ID differing from a valid shared id exits 2 at once."""
    (fake.share / "cluster_id").write_text(VALID_ID + "\n")
    result = run([], fake.env(base_environ, CLUSTER_ID=OTHER_ID, CLUSTER_ID_TIMEOUT="300"))
    assert result.returncode == 2, result.stderr
    assert "CLUSTER_ID" in result.stderr


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (_fifo, "is a FIFO"),
        (_directory, "is a directory"),
        (_dangling, "dangling symlink"),
        (_text("x" * 10_000), "larger than"),
    ],
    ids=["fifo", "directory", "dangling-symlink", "huge"],
)
def test_unusable_shared_file_exits_4_at_once(
    fake: FakeKafka, base_environ: dict[str, str], make: Callable[[Path], None], words: str
) -> None:
    """A shared cluster_id that can never be read ends the start with exit 4 naming it, no hang."""
    path = fake.share / "cluster_id"
    make(path)
    result = run([], fake.env(base_environ, CLUSTER_ID_TIMEOUT="300"), timeout=30)
    assert result.returncode == 4, result.stderr
    assert words in result.stderr
    assert str(path) in result.stderr
    assert "vanished" not in result.stderr
    assert fake.format_calls() == []


def test_bom_in_shared_id_is_shown_escaped(fake: FakeKafka, base_environ: dict[str, str]) -> None:
    """A UTF-8 BOM before the id is named in the message (escaped), not only counted."""
    (fake.share / "cluster_id").write_bytes(b"\xef\xbb\xbf" + VALID_ID.encode() + b"\n")
    result = run([], fake.env(base_environ, CLUSTER_ID_TIMEOUT="0.3"))
    assert result.returncode == 4, result.stderr
    assert "\\ufeff" + VALID_ID in result.stderr


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"KAFKA_CFG_NODE_ID": "7"}, "KAFKA_CFG_NODE_ID"),
        ({"KAFKA_CFG_BROKER_ID": "0", "HOSTNAME": "kafka-1"}, "KAFKA_CFG_BROKER_ID"),
        ({"KAFKA_CFG_PROCESS_ROLES": "broker"}, "KAFKA_CFG_PROCESS_ROLES"),
        (
            {
                "KAFKA_CFG_PROCESS_ROLES": "broker,controller",
                "HOSTNAME": "kafka-5",
                "CONTROLLER_REPLICAS": "3",
                "REPLICAS": "6",
            },
            "KAFKA_CFG_PROCESS_ROLES",
        ),
        ({"KAFKA_CFG_LOG_DIRS": "/d,/d"}, "KAFKA_CFG_LOG_DIRS"),
        ({"KAFKA_CFG_LOG_DIRS": "/d/a,/d/a/"}, "KAFKA_CFG_LOG_DIRS"),
        (
            {
                "HOSTNAME": "k" * 60 + "-1",
                "SERVICE": "s" * 63,
                "NAMESPACE": "n" * 63,
                "CLUSTER_DOMAIN": "d" * 60 + ".local",
            },
            "CLUSTER_DOMAIN",
        ),
    ],
    ids=[
        "node-id",
        "broker-id",
        "roles-on-voter",
        "controller-on-broker",
        "duplicate-dirs",
        "duplicate-dirs-slash",
        "long-fqdn",
    ],
)
def test_what_kafka_would_reject_exits_2_first(
    fake: FakeKafka, base_environ: dict[str, str], changes: dict[str, str], variable: str
) -> None:
    """Inputs that Kafka 3.3.2 rejects at start exit 2 before anything is written, naming the variable."""
    result = run([], fake.env(base_environ, **changes))
    assert result.returncode == 2, result.stderr
    assert variable in result.stderr
    assert not (fake.share / "cluster_id").exists()
    assert fake.format_calls() == []


def test_template_broker_id_contradicting_the_pod_exits_2(
    fake: FakeKafka, base_environ: dict[str, str], tmp_path: Path
) -> None:
    """A template with broker.id=0 on kafka-1 exits 2 naming KRAFT_TEMPLATE and the value."""
    template = tmp_path / "template.properties"
    template.write_text("broker.id=0\nnum.partitions=1\n")
    result = run([], fake.env(base_environ, HOSTNAME="kafka-1", KRAFT_TEMPLATE=str(template)))
    assert result.returncode == 2, result.stderr
    assert "KRAFT_TEMPLATE" in result.stderr
    assert "broker.id to '0'" in result.stderr


def test_log_dir_that_is_a_file_exits_2(
    fake: FakeKafka, base_environ: dict[str, str], tmp_path: Path
) -> None:
    """A log directory that exists as a file exits 2 naming it and where it came from."""
    path = tmp_path / "data-file"
    path.write_text("not a directory")
    result = run([], fake.env(base_environ, DATA_DIR=str(path)))
    assert result.returncode == 2, result.stderr
    assert str(path) in result.stderr
    assert "DATA_DIR" in result.stderr
    assert not (fake.share / "cluster_id").exists()


def test_unwritable_config_directory_exits_2_before_an_id_is_published(
    fake: FakeKafka, base_environ: dict[str, str], tmp_path: Path
) -> None:
    """An unwritable KRAFT_CONFIG directory on an empty share: exit 2, and no id published."""
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "config-is-a-file").write_text("")
    result = run(
        [], fake.env(base_environ, KRAFT_CONFIG=str(locked / "config-is-a-file" / "server.properties"))
    )
    assert result.returncode == 2, result.stderr
    assert "KRAFT_CONFIG" in result.stderr
    assert not (fake.share / "cluster_id").exists()
    assert fake.format_calls() == []


@pytest.mark.skipif(os.geteuid() != 0, reason="a read-only mount needs root (root writes through mode bits)")
def test_read_only_config_mount_exits_2_before_an_id_is_published(
    fake: FakeKafka, base_environ: dict[str, str], tmp_path: Path
) -> None:
    """KRAFT_CONFIG on a read-only mount (as root, where mode bits do not stop writes): exit 2 first."""
    config_dir = tmp_path / "ro"
    config_dir.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(config_dir)], check=True)
    try:
        result = run([], fake.env(base_environ, KRAFT_CONFIG=str(config_dir / "server.properties")))
    finally:
        subprocess.run(["umount", str(config_dir)], check=True)
    assert result.returncode == 2, result.stderr
    assert "not writable" in result.stderr
    assert not (fake.share / "cluster_id").exists()


def test_start_script_with_a_missing_interpreter_exits_126_before_formatting(
    fake: FakeKafka, base_environ: dict[str, str]
) -> None:
    """#!/no/such/shell: exit 126 saying so, before anything is formatted or published."""
    script = fake.home / "bin" / "kafka-server-start.sh"
    script.write_text("#!/no/such/shell\nexit 0\n")
    result = run([], fake.env(base_environ))
    assert result.returncode == 126, result.stderr
    assert "/no/such/shell" in result.stderr
    assert fake.format_calls() == []
    assert not (fake.share / "cluster_id").exists()


def test_secrets_never_in_stderr_and_config_is_0600(fake: FakeKafka, base_environ: dict[str, str]) -> None:
    """A PEM key and the delegation token key: masked in every line, written in full, mode 0600."""
    key = "-----BEGIN PRIVATE KEY-----\\nMIIEvSECRETBODYxyz\\n-----END PRIVATE KEY-----"
    env = fake.env(
        base_environ, KAFKA_CFG_SSL_KEYSTORE_KEY=key, KAFKA_CFG_DELEGATION_TOKEN_MASTER_KEY="tok3n-S3cret",  # noqa: S106
    )
    dry = run(["--dry-run"], env)
    real = run([], env)
    assert dry.returncode == 0, dry.stderr
    assert real.returncode == 0, real.stderr
    for output in (dry.stderr, dry.stdout.decode(), real.stderr):
        assert "SECRETBODY" not in output
        assert "tok3n-S3cret" not in output
    written = fake.config.read_text()
    assert "SECRETBODY" in written
    assert "tok3n-S3cret" in written
    assert fake.config.stat().st_mode & 0o777 == 0o600


def test_new_cluster_id_prints_a_fresh_valid_id(base_environ: dict[str, str]) -> None:
    """--new-cluster-id prints one valid id and exits 0, a different one each time, needing no input."""
    first, second = run(["--new-cluster-id"], base_environ), run(["--new-cluster-id"], base_environ)
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    ids = [first.stdout.decode().strip(), second.stdout.decode().strip()]
    assert [cluster_id.problem_with(value) for value in ids] == [None, None]
    assert ids[0] != ids[1]
    assert not ids[0].startswith("-")


@pytest.mark.parametrize("example", sorted(cluster_id.EXAMPLE_IDS))
def test_example_cluster_id_starts_with_a_warning(
    fake: FakeKafka, base_environ: dict[str, str], example: str
) -> None:
    """A start with a documented example id works but warns that it must be replaced."""
    result = run([], fake.env(base_environ, CLUSTER_ID=example))
    assert result.returncode == 0, result.stderr
    assert "example id" in result.stderr
    assert "--new-cluster-id" in result.stderr
