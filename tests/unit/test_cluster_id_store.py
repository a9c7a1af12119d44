"""Obtaining the cluster id from CLUSTER_ID or the shared file, with tmp share directories."""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Optional

import pytest

from kraft_entrypoint import cluster_id, cluster_id_store
from kraft_entrypoint.errors import ClusterIdUnavailable, InvalidInput
from kraft_entrypoint.settings import Settings, parse_settings

from .support import OTHER_ID, VALID_ID

FORK = multiprocessing.get_context("fork")


def settings_for(share: Path, *, given: Optional[str] = None, timeout: float = 0.5) -> Settings:
    values = {
        "HOSTNAME": "kafka-0",
        "REPLICAS": "3",
        "SERVICE": "s",
        "NAMESPACE": "n",
        "SHARE_DIR": str(share),
        "CLUSTER_ID": given,
        "CLUSTER_ID_TIMEOUT": str(timeout),
    }
    return parse_settings(values, {})


def test_creates_the_shared_file_once(tmp_path: Path) -> None:
    """No id anywhere: a valid new id is created in SHARE_DIR/cluster_id and read back next time."""
    first = cluster_id_store.obtain(settings_for(tmp_path), None)
    assert first.value is not None
    assert cluster_id.problem_with(first.value) is None
    assert (tmp_path / "cluster_id").read_text().strip() == first.value
    stamp = (tmp_path / "cluster_id").stat().st_mtime_ns
    assert cluster_id_store.obtain(settings_for(tmp_path), None).value == first.value
    assert (tmp_path / "cluster_id").stat().st_mtime_ns == stamp


@pytest.mark.parametrize(
    "content",
    [VALID_ID, VALID_ID + "\n", f"  {VALID_ID}\r\n"],
    ids=["bare", "newline-as-echo-writes", "whitespace"],
)
def test_reads_an_existing_file(content: str, tmp_path: Path) -> None:
    """An existing file (as the seed's echo wrote it) is used as is and not rewritten."""
    (tmp_path / "cluster_id").write_bytes(content.encode())
    obtained = cluster_id_store.obtain(settings_for(tmp_path), None)
    assert obtained.value == VALID_ID
    assert (tmp_path / "cluster_id").read_bytes() == content.encode()


def test_cluster_id_wins_and_is_published(tmp_path: Path) -> None:
    """CLUSTER_ID is used and written to the missing shared file for pods started without it."""
    obtained = cluster_id_store.obtain(settings_for(tmp_path, given=OTHER_ID), None)
    assert obtained.value == OTHER_ID
    assert (tmp_path / "cluster_id").read_text().strip() == OTHER_ID


def test_cluster_id_equal_to_the_file_is_fine(tmp_path: Path) -> None:
    """CLUSTER_ID equal to the shared file: used, file untouched."""
    (tmp_path / "cluster_id").write_text(VALID_ID + "\n")
    assert cluster_id_store.obtain(settings_for(tmp_path, given=VALID_ID), None).value == VALID_ID


def test_cluster_id_differing_from_the_file_is_invalid_input(tmp_path: Path) -> None:
    """CLUSTER_ID and a different shared file: exit 2 naming both ids; the file is kept."""
    (tmp_path / "cluster_id").write_text(VALID_ID + "\n")
    with pytest.raises(InvalidInput) as raised:
        cluster_id_store.obtain(settings_for(tmp_path, given=OTHER_ID), None)
    assert raised.value.exit_code == 2
    assert VALID_ID in str(raised.value)
    assert OTHER_ID in str(raised.value)
    assert "CLUSTER_ID" in str(raised.value)
    assert (tmp_path / "cluster_id").read_text() == VALID_ID + "\n"


def test_empty_file_exits_4_after_the_timeout(tmp_path: Path) -> None:
    """An empty file (a writer without hard links fills it in place) is waited on for
    CLUSTER_ID_TIMEOUT, then exit 4 naming the file."""
    (tmp_path / "cluster_id").write_bytes(b"")
    started = time.monotonic()
    with pytest.raises(ClusterIdUnavailable) as raised:
        cluster_id_store.obtain(settings_for(tmp_path, timeout=0.5), None)
    elapsed = time.monotonic() - started
    assert 0.5 <= elapsed < 2.5
    assert raised.value.exit_code == 4
    assert str(tmp_path / "cluster_id") in str(raised.value)
    assert "CLUSTER_ID_TIMEOUT" in str(raised.value)
    assert (tmp_path / "cluster_id").read_bytes() == b""


@pytest.mark.parametrize(
    ("content", "shown"),
    [
        (b"\n  \n", r"'\n  \n'"),
        (b"not-an-id\n", r"'not-an-id\n'"),
        (b"AAAAAAAAAAAAAAAAAAAAAA\n", "Kafka reserves"),
        (b"\xff\xfe" * 11, r"\ufffd"),
        (b"\x1b[2J" + VALID_ID.encode() + b"\r\n", r"'\x1b[2J" + VALID_ID + r"\r\n'"),
    ],
    ids=["blank", "garbage", "reserved", "binary", "escape-sequence"],
)
@pytest.mark.parametrize("dry_run", [False, True], ids=["start", "dry-run"])
def test_file_without_an_id_exits_4_at_once(
    content: bytes, shown: str, dry_run: bool, tmp_path: Path
) -> None:
    """A non-empty file holding no valid id is never a write in progress (ids are published whole):
    exit 4 at once, also in a dry run, the content escaped, saying to delete it or write the id."""
    (tmp_path / "cluster_id").write_bytes(content)
    with pytest.raises(ClusterIdUnavailable) as raised:
        cluster_id_store.obtain(settings_for(tmp_path, timeout=300), None, dry_run=dry_run)
    message = str(raised.value)
    assert raised.value.exit_code == 4
    assert f"{tmp_path / 'cluster_id'} does not hold a cluster id" in message
    assert shown in message
    assert "delete the file" in message
    assert "write this cluster's id into it" in message
    assert not any(char in message for char in "\n\r\x1b")
    assert (tmp_path / "cluster_id").read_bytes() == content


def test_missing_share_dir_exits_4_after_the_timeout(tmp_path: Path) -> None:
    """SHARE_DIR not mounted: waited on, then exit 4 naming the file; nothing created."""
    share = tmp_path / "not-mounted"
    started = time.monotonic()
    with pytest.raises(ClusterIdUnavailable) as raised:
        cluster_id_store.obtain(settings_for(share, timeout=0.5), None)
    assert 0.5 <= time.monotonic() - started < 2.5
    assert str(share / "cluster_id") in str(raised.value)
    assert not share.exists()


def test_formatted_node_restores_missing_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A formatted node whose shared file is gone restores it from meta.properties, with a warning."""
    caplog.set_level(logging.INFO)
    obtained = cluster_id_store.obtain(settings_for(tmp_path), OTHER_ID)
    assert obtained.value == OTHER_ID
    assert (tmp_path / "cluster_id").read_text().strip() == OTHER_ID
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings
    assert OTHER_ID in warnings[0].getMessage()


def test_formatted_node_never_invents_an_id(tmp_path: Path) -> None:
    """With the shared file present and different, the node takes the file's id (storage then refuses)."""
    (tmp_path / "cluster_id").write_text(VALID_ID + "\n")
    assert cluster_id_store.obtain(settings_for(tmp_path), OTHER_ID).value == VALID_ID


def test_dry_run_creates_nothing_and_waits_for_nothing(tmp_path: Path) -> None:
    """A dry run neither creates the file nor waits for a missing share dir or an empty file."""
    started = time.monotonic()
    cluster_id_store.obtain(settings_for(tmp_path, timeout=300), None, dry_run=True)
    cluster_id_store.obtain(settings_for(tmp_path, given=VALID_ID, timeout=300), None, dry_run=True)
    cluster_id_store.obtain(settings_for(tmp_path / "missing", timeout=300), None, dry_run=True)
    (tmp_path / "cluster_id").write_bytes(b"")
    cluster_id_store.obtain(settings_for(tmp_path, timeout=300), None, dry_run=True)
    assert time.monotonic() - started < 1
    assert os.listdir(tmp_path) == ["cluster_id"]
    assert (tmp_path / "cluster_id").read_bytes() == b""


def _mount_late(staging: str, share: str, delay: float) -> None:
    time.sleep(delay)
    os.rename(staging, share)  # the volume appears, already holding the id


def _fill_late(path: str, delay: float, value: str) -> None:
    time.sleep(delay)
    with open(path, "r+") as out:  # another pod's writer finishing an empty file in place
        out.write(value + "\n")


@pytest.mark.parametrize("scenario", ["share-dir-appears-with-file", "empty-file-filled-later"])
def test_late_file_is_picked_up(scenario: str, tmp_path: Path) -> None:
    """An id another process provides after 0.5 s is waited for and used; no new id is invented."""
    share = tmp_path / "share"
    if scenario == "share-dir-appears-with-file":
        staging = tmp_path / "staging"
        staging.mkdir()
        (staging / "cluster_id").write_text(OTHER_ID + "\n")
        other = FORK.Process(target=_mount_late, args=(str(staging), str(share), 0.5))
    else:
        share.mkdir()
        (share / "cluster_id").write_bytes(b"")
        other = FORK.Process(target=_fill_late, args=(str(share / "cluster_id"), 0.5, OTHER_ID))
    other.start()
    started = time.monotonic()
    try:
        obtained = cluster_id_store.obtain(settings_for(share, timeout=10), None)
    finally:
        other.join()
    assert obtained.value == OTHER_ID
    assert 0.45 <= time.monotonic() - started < 5
    assert (share / "cluster_id").read_text() == OTHER_ID + "\n"


# The bench's R2 figure run raises these to 32 processes x 200 trials.
WORKERS = int(os.environ.get("KRAFT_RACE_PROCESSES", "16"))
ROUNDS = int(os.environ.get("KRAFT_RACE_TRIALS", "30"))


def _race_worker(
    rounds: list[str], barrier: Barrier, results: Queue[tuple[object, object]]
) -> None:
    for index, share in enumerate(rounds):
        barrier.wait()
        results.put((index, cluster_id_store.obtain(settings_for(Path(share), timeout=10), None).value))


def _race_reader(
    rounds: list[str], barrier: Barrier, results: Queue[tuple[object, object]]
) -> None:
    bad = []
    for share in rounds:
        barrier.wait()
        path, complete_reads, deadline = os.path.join(share, "cluster_id"), 0, time.monotonic() + 1
        while complete_reads < 20 and time.monotonic() < deadline:
            try:
                with open(path, "rb") as source:
                    content = source.read()
            except FileNotFoundError:
                continue
            if len(content) != 23 or cluster_id.problem_with(content.decode("ascii", "replace").strip()):
                bad.append(content)
            complete_reads += 1
    results.put(("reader", bad))


def test_racing_processes_agree_on_one_id(tmp_path: Path) -> None:
    """Many processes at once on an empty share dir, many times: one id each round, never a partial file."""
    rounds = []
    for index in range(ROUNDS):
        (tmp_path / str(index)).mkdir()
        rounds.append(str(tmp_path / str(index)))
    barrier = FORK.Barrier(WORKERS + 1)
    results: Queue[tuple[object, object]] = FORK.Queue()
    processes = [FORK.Process(target=_race_worker, args=(rounds, barrier, results)) for _ in range(WORKERS)]
    processes.append(FORK.Process(target=_race_reader, args=(rounds, barrier, results)))
    for process in processes:
        process.start()
    seen: dict[int, set[str]] = {index: set() for index in range(ROUNDS)}
    reader_bad = None
    for _ in range(WORKERS * ROUNDS + 1):
        key, value = results.get(timeout=60)
        if key == "reader":
            reader_bad = value
        else:
            assert isinstance(key, int)
            assert isinstance(value, str)
            seen[key].add(value)
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    assert reader_bad == [], "a reader saw a partial or empty cluster_id"
    for index, ids in seen.items():
        assert len(ids) == 1, f"round {index}: {ids}"
        (only,) = ids
        assert (tmp_path / str(index) / "cluster_id").read_text() == only + "\n"
        assert sorted(os.listdir(tmp_path / str(index))) == ["cluster_id"], "temp files left behind"
    assert len({next(iter(ids)) for ids in seen.values()}) == ROUNDS
    print(f"\nR2 processes per trial: {WORKERS}")
    print(f"R2 trials: {ROUNDS}")
    print(f"R2 trials with exactly one id: {sum(len(ids) == 1 for ids in seen.values())}")
    print(f"R2 empty or partial reads: {len(reader_bad)}")
