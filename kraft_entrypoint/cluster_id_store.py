"""Obtain the cluster id: CLUSTER_ID, else the shared file, created exactly once across pods."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Callable, Optional, TypeVar

from kraft_entrypoint import cluster_id, files
from kraft_entrypoint.errors import ClusterIdUnavailable, InvalidInput
from kraft_entrypoint.options import name
from kraft_entrypoint.retrying import NotYet, call_until
from kraft_entrypoint.settings import Settings

FILE_NAME = "cluster_id"
MAX_FILE_BYTES = 4096
log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class ClusterId:
    value: Optional[str]  # None only in a dry run that could not read one
    source: str


class Unusable(Exception):
    """The shared file is there but can never be read as an id (FIFO, directory, dangling link...)."""


def obtain(settings: Settings, stored: Optional[str], *, dry_run: bool = False) -> ClusterId:
    """The cluster id for this start.

    ``stored`` is the id in this node's meta.properties, if formatted: such a node trusts it,
    reads the shared file once only to compare, restores a missing one, and never invents an id.
    A dry run reads once, writes nothing and waits for nothing.
    """
    given = settings.storage.cluster_id
    if settings.storage.share_dir is None:
        assert given is not None  # parse_settings requires it without SHARE_DIR
        return ClusterId(given, "CLUSTER_ID")
    share_dir, timeout = settings.storage.share_dir, settings.storage.cluster_id_timeout
    path = os.path.join(share_dir, FILE_NAME)
    if given is not None:
        if not dry_run:  # DATA_DIR may live on the share: never format into an unmounted path
            _wait(lambda: _read_directory(share_dir), path, timeout)
        return _with_given(given, share_dir, path, dry_run)
    if stored is not None:
        return _with_stored(stored, share_dir, path, dry_run)
    if dry_run:
        try:
            return _read_or_create(share_dir, path, dry_run=True)
        except NotYet as reason:
            return ClusterId(None, f"{path} (not readable yet, a real start would wait: {reason})")
        except Unusable as reason:
            raise ClusterIdUnavailable(f"{reason}; {_advice(path)}") from None
    return _wait(lambda: _read_or_create(share_dir, path, dry_run=False), path, timeout)


def _with_given(given: str, share_dir: str, path: str, dry_run: bool) -> ClusterId:
    """CLUSTER_ID wins; a valid shared id must agree, anything else there is only a warning."""
    try:
        shared = _read_shared(share_dir, path)
    except (NotYet, Unusable) as reason:
        log.warning("%s; starting with CLUSTER_ID", reason)
        return ClusterId(given, "CLUSTER_ID")
    if shared is not None and shared != given:
        raise InvalidInput(
            f"{name('CLUSTER_ID')} is {given} but {path} holds {shared}; one cluster has one "
            f"id: unset CLUSTER_ID, or set it to {shared}"
        )
    if shared is None and not dry_run:
        _restore(path, given, "CLUSTER_ID")
    return ClusterId(given, "CLUSTER_ID")


def _with_stored(stored: str, share_dir: str, path: str, dry_run: bool) -> ClusterId:
    """A formatted node starts with its own id unless the shared file holds another valid one."""
    try:
        shared = _read_shared(share_dir, path)
    except (NotYet, Unusable) as reason:
        log.warning("%s; starting with the id in this node's meta.properties, %s", reason, stored)
        return ClusterId(stored, "meta.properties")
    if shared is not None:
        return ClusterId(shared, path)
    if dry_run:
        return ClusterId(stored, f"meta.properties ({path} is missing; a start would restore it)")
    log.warning("%s is missing; restoring it from this node's meta.properties: %s", path, stored)
    _restore(path, stored, "the id in meta.properties")
    return ClusterId(stored, "meta.properties")


def _read_or_create(share_dir: str, path: str, *, dry_run: bool) -> ClusterId:
    """An unformatted node without CLUSTER_ID: the shared id, or a new one published exactly once."""
    shared = _read_shared(share_dir, path)
    if shared is not None:
        return ClusterId(shared, path)
    if dry_run:
        return ClusterId(None, f"{path} (missing; a start would create it)")
    candidate = cluster_id.generate()
    if _publish(path, candidate):
        return ClusterId(candidate, f"{path} (created here)")
    winner = _read_shared(share_dir, path)  # another pod published first: take its id
    if winner is None:
        raise NotYet(f"{path} vanished right after another pod created it")
    return ClusterId(winner, path)


def _wait(attempt: Callable[[], T], path: str, timeout: float) -> T:
    """Retry NotYet until CLUSTER_ID_TIMEOUT (then exit 4); an Unusable file ends it at once."""
    try:
        return call_until(
            attempt,
            timeout=timeout,
            on_first_wait=lambda reason: log.info("waiting up to %gs for the cluster id: %s", timeout,
                                                  reason),
        )
    except NotYet as reason:
        raise ClusterIdUnavailable(
            f"no cluster id from {path} within {name('CLUSTER_ID_TIMEOUT')}={timeout:g}s: {reason}; "
            + _advice(path)
        ) from None
    except Unusable as reason:
        raise ClusterIdUnavailable(f"{reason}; {_advice(path)}") from None


def _advice(path: str) -> str:
    return (f"check that SHARE_DIR is the shared volume and that {path} is a regular file holding "
            "one id (kraft-entrypoint --new-cluster-id prints a new one), or set CLUSTER_ID")


def check_share_dir(settings: Settings) -> None:
    """SHARE_DIR that exists but is not a directory is invalid input (exit 2), never waited on."""
    share_dir = settings.storage.share_dir
    if share_dir is not None and os.path.exists(share_dir) and not os.path.isdir(share_dir):
        raise InvalidInput(
            f"{name('SHARE_DIR')} {share_dir} is not a directory; it must be the directory where the shared "
            "volume is mounted, e.g. SHARE_DIR=/mnt/kafka"
        )


def _read_directory(share_dir: str) -> None:
    if not os.path.isdir(share_dir):
        raise NotYet(f"{share_dir} does not exist (volume not mounted yet?)")


def _read_shared(share_dir: str, path: str) -> Optional[str]:
    """The id in the shared file, None if there is no file; NotYet while it is not usable."""
    _read_directory(share_dir)
    try:
        content = files.read_regular(path, MAX_FILE_BYTES)
    except files.UnusableFile as reason:
        raise Unusable(str(reason)) from None
    except OSError as error:
        raise NotYet(f"{path} is not readable: {error.strerror}") from None
    if content is None:
        return None
    if not content:  # only a writer without hard links (_create_exclusive) shows this, briefly
        raise NotYet(f"{path} is empty")
    whole = content.decode("utf-8", "replace")
    text = whole.strip()
    problem = cluster_id.problem_with(text) if text else "it holds only white space"
    if problem is not None:  # ids are published whole, so this is no write in progress: never waited on
        raise Unusable(
            f"{path} does not hold a cluster id ({problem}): {cluster_id.shown(whole)}; delete the file "
            "(a start then creates a new id) or write this cluster's id into it"
        )
    return text


def _restore(path: str, value: str, source: str) -> None:
    """Leave the id in the shared file for pods that start without it; not needed to start."""
    try:
        _publish(path, value)
    except NotYet as reason:
        log.warning("%s; starting with %s anyway", reason, source)


def _publish(path: str, value: str) -> bool:
    try:
        return files.publish_exclusive(path, (value + "\n").encode("ascii"))
    except OSError as error:
        raise NotYet(f"cannot create {path}: {error.strerror}") from None
