"""Storage decisions over meta.properties and quorum-state fixtures; refusals touch nothing."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from kraft_entrypoint import storage
from kraft_entrypoint.errors import StorageRefused

from .support import OTHER_ID, VALID_ID

FIXTURES = Path(__file__).parent.parent / "fixtures" / "storage"


def tree_digest(root: Path) -> list[tuple[str, str, int, int]]:
    """Every entry under root: relative name, content hash, mode and mtime (ns)."""
    entries = []
    for path in sorted([root, *root.rglob("*")]):
        info = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "dir"
        entries.append((str(path.relative_to(root)), digest, info.st_mode, info.st_mtime_ns))
    return entries


def formatted_dir(
    tmp_path: Path,
    *,
    cluster_id: str = VALID_ID,
    node_id: int = 0,
    voters: tuple[int, ...] | None = (0, 1, 2),
) -> Path:
    directory = tmp_path / "data"
    directory.mkdir()
    meta = (FIXTURES / "meta.properties").read_text()
    (directory / "meta.properties").write_text(
        meta.replace(VALID_ID, cluster_id).replace("node.id=0", f"node.id={node_id}")
    )
    if voters is not None:
        state = directory / "__cluster_metadata-0" / "quorum-state"
        state.parent.mkdir()
        text = (FIXTURES / "quorum-state").read_text()
        current = ",".join(f'{{"voterId":{v}}}' for v in voters)
        state.write_text(text.replace('{"voterId":0},{"voterId":1},{"voterId":2}', current))
        (directory / "__cluster_metadata-0" / "00000000000000000000.log").write_bytes(os.urandom(64))
    return directory


def _check(
    directory: Path,
    *,
    node_id: int = 0,
    voters: frozenset[int] = frozenset({0, 1, 2}),
    cluster_id: str = VALID_ID,
) -> storage.Storage:
    found = storage.inspect([str(directory)], "DATA_DIR")
    storage.check(
        found, node_id=node_id, voter_ids=voters, cluster_id=cluster_id, cluster_id_source="CLUSTER_ID"
    )
    return found


def test_fixture_meta_is_read() -> None:
    """The Kafka 3.3 meta.properties fixture yields its cluster.id and node.id."""
    found = storage.inspect([str(FIXTURES)], "DATA_DIR")
    assert [(m.cluster_id, m.node_id) for m in found.formatted] == [(VALID_ID, 0)]
    assert found.cluster_id == VALID_ID
    assert found.unformatted == ()


def test_same_ids_skip_format(tmp_path: Path) -> None:
    """Same cluster id, node id and voters: accepted, nothing left to format."""
    found = _check(formatted_dir(tmp_path))
    assert found.unformatted == ()


def test_missing_directory_is_unformatted(tmp_path: Path) -> None:
    """A data directory that does not exist yet is to be formatted, and is not created by inspecting."""
    found = _check(tmp_path / "new")
    assert found.unformatted == (str(tmp_path / "new"),)
    assert not (tmp_path / "new").exists()


def test_broker_only_storage_without_quorum_state(tmp_path: Path) -> None:
    """A broker's storage (no quorum-state) with matching ids is accepted."""
    _check(formatted_dir(tmp_path, node_id=4, voters=None), node_id=4)


REFUSALS = [
    ("other-cluster-id", {"cluster_id": OTHER_ID}, {}, (OTHER_ID, VALID_ID)),
    ("other-node-id", {"node_id": 1}, {}, ("node.id=1", "node 0")),
    (
        "other-voters",
        {"voters": (0, 1, 2, 3, 4)},
        {},
        ("0,1,2,3,4", "0,1,2", "REPLICAS", "CONTROLLER_REPLICAS"),
    ),
    ("fewer-voters", {"voters": (0,)}, {}, ("0", "0,1,2", "CONTROLLER_REPLICAS")),
    ("configured-voters-changed", {}, {"voters": frozenset({0, 1, 2, 3, 4})}, ("0,1,2,3,4", "0,1,2")),
]


@pytest.mark.parametrize(
    ("stored", "configured", "fragments"),
    [(s, c, f) for _, s, c, f in REFUSALS],
    ids=[r[0] for r in REFUSALS],
)
def test_foreign_storage_refused_touching_nothing(
    stored: dict[str, object], configured: dict[str, object], fragments: tuple[str, ...], tmp_path: Path
) -> None:
    """Another cluster id, node id or voter set: exit 3 naming both values and the directory; no change."""
    directory = formatted_dir(tmp_path, **stored)  # type: ignore[arg-type]
    before = tree_digest(directory)
    with pytest.raises(StorageRefused) as refused:
        _check(directory, **configured)  # type: ignore[arg-type]
    assert refused.value.exit_code == 3
    message = str(refused.value)
    assert str(directory) in message
    for fragment in fragments:
        assert fragment in message
    assert tree_digest(directory) == before


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("meta.properties", b"cluster.id=\\uZZZZ\n"),
        ("quorum-state", b"{not json"),
        ("quorum-state", b'{"currentVoters":[{"voterId":"x"}]}'),
        ("quorum-state", b"[1,2]"),
    ],
    ids=["meta-bad-escape", "state-not-json", "state-bad-voter", "state-not-object"],
)
def test_unreadable_metadata_refused_touching_nothing(name: str, content: bytes, tmp_path: Path) -> None:
    """Storage files that cannot be read refuse the start (exit 3) rather than crash or format."""
    directory = formatted_dir(tmp_path)
    target = directory / ("__cluster_metadata-0/quorum-state" if name == "quorum-state" else name)
    target.write_bytes(content)
    before = tree_digest(directory)
    with pytest.raises(StorageRefused) as refused:
        _check(directory)
    assert str(target) in str(refused.value)
    assert tree_digest(directory) == before


def test_two_log_dirs_one_foreign(tmp_path: Path) -> None:
    """With several log dirs, one formatted for another node refuses the whole start."""
    good = formatted_dir(tmp_path)
    bad = tmp_path / "other"
    shutil.copytree(good, bad)
    (bad / "meta.properties").write_text("version=1\nnode.id=7\ncluster.id=" + VALID_ID + "\n")
    found = storage.inspect([str(good), str(bad)], "DATA_DIR")
    with pytest.raises(StorageRefused, match=r"node\.id=7"):
        storage.check(
            found, node_id=0, voter_ids=frozenset({0, 1, 2}), cluster_id=VALID_ID, cluster_id_source="x"
        )
