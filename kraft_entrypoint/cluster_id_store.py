"""Obtain the cluster id: CLUSTER_ID, else the shared file, created exactly once across pods."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Optional

from kraft_entrypoint import cluster_id, files
from kraft_entrypoint.errors import ClusterIdUnavailable, InvalidInput
from kraft_entrypoint.retrying import NotYet, call_until
from kraft_entrypoint.settings import Settings, name

FILE_NAME = "cluster_id"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClusterId:
    value: Optional[str]  # None only in a dry run that could not read one
    source: str


def obtain(settings: Settings, stored: Optional[str], *, dry_run: bool = False) -> ClusterId:
    """The cluster id for this start.

    ``stored`` is the id in this node's meta.properties, if formatted: such a node restores a
    missing shared file from it and never invents a new id. A dry run reads once, writes
    nothing and waits for nothing.
    """
    given = settings.cluster_id
    if settings.share_dir is None:
        assert given is not None  # parse_settings requires it without SHARE_DIR
        return ClusterId(given, "CLUSTER_ID")
    share_dir = settings.share_dir
    path = os.path.join(share_dir, FILE_NAME)

    def attempt() -> ClusterId:
        shared = _read_shared(share_dir, path)
        if given is not None:
            if shared is not None and shared != given:
                raise InvalidInput(
                    f"{name('CLUSTER_ID')} is {given} but {path} holds {shared}; one cluster has one "
                    f"id: unset CLUSTER_ID, or set it to {shared}"
                )
            if shared is None and not dry_run:
                _record(path, given)
            return ClusterId(given, "CLUSTER_ID")
        if shared is not None:
            return ClusterId(shared, path)
        if dry_run:
            return ClusterId(stored, f"{path} (missing; would be "
                                     f"{'restored from meta.properties' if stored else 'created'})")
        if stored is not None:
            log.warning("%s is missing; restoring it from this node's meta.properties: %s", path, stored)
        candidate = stored or cluster_id.generate()
        if _publish(path, candidate):
            return ClusterId(candidate, f"{path} ({'restored' if stored else 'created'} here)")
        winner = _read_shared(share_dir, path)  # another pod published first: take its id
        if winner is None:
            raise NotYet(f"{path} vanished right after another pod created it")
        return ClusterId(winner, path)

    if dry_run:
        try:
            return attempt()
        except NotYet as reason:
            return ClusterId(given, f"{path} (not readable yet, a real start would wait: {reason})")
    try:
        return call_until(
            attempt,
            timeout=settings.cluster_id_timeout,
            on_first_wait=lambda reason: log.info(
                "waiting up to %gs for the cluster id: %s", settings.cluster_id_timeout, reason
            ),
        )
    except NotYet as reason:
        raise ClusterIdUnavailable(
            f"no cluster id from {path} within {name('CLUSTER_ID_TIMEOUT')}="
            f"{settings.cluster_id_timeout:g}s: {reason}; check that SHARE_DIR is the shared volume "
            f"and that {path} holds one id such as {cluster_id.EXAMPLE}, or set CLUSTER_ID"
        ) from None


def _read_shared(share_dir: str, path: str) -> Optional[str]:
    """The id in the shared file, None if there is no file; NotYet while it is not usable."""
    if not os.path.isdir(share_dir):
        raise NotYet(f"{share_dir} does not exist (volume not mounted yet?)")
    try:
        with open(path, "rb") as source:
            content = source.read(1024)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise NotYet(f"{path} is not readable: {error.strerror}") from None
    text = content.decode("ascii", "replace").strip()
    if not text:
        raise NotYet(f"{path} is empty")
    problem = cluster_id.problem_with(text)
    if problem is not None:
        raise NotYet(f"{path} does not hold a cluster id ({problem})")
    return text


def _record(path: str, value: str) -> None:
    """Leave CLUSTER_ID in the shared file for pods that start without it; not needed to start."""
    try:
        _publish(path, value)
    except NotYet as reason:
        log.warning("%s; starting with CLUSTER_ID anyway", reason)


def _publish(path: str, value: str) -> bool:
    try:
        return files.publish_exclusive(path, (value + "\n").encode("ascii"))
    except OSError as error:
        raise NotYet(f"cannot create {path}: {error.strerror}") from None
