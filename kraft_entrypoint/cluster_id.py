"""Kafka's ids: the cluster id (16 bytes as URL-safe base64 without padding, 22 characters) and the
metadata directory ids derived from it, the same on every pod of a dynamic quorum. Pure but for
:func:`generate`'s random bytes; the shared file lives in ``cluster_id_store.py``."""

from __future__ import annotations

import base64
import binascii
import itertools
import os
from typing import Optional

ZERO_ID = "AAAAAAAAAAAAAAAAAAAAAA"
METADATA_TOPIC_ID = "AAAAAAAAAAAAAAAAAAAAAQ"
EXAMPLE = "MkU3OEVBNTcwNTJENDM2Qg"
#: Ids printed in documentation and shipped manifests: valid, but shared with everyone who copied them.
EXAMPLE_IDS = frozenset({EXAMPLE, "59AQxW_URq66JWEb-dMvUA"})
#: Kafka's largest node id (a Java int).
MAX_NODE_ID = 2**31 - 1


def problem_with(text: str) -> str | None:
    """Why ``text`` is not a usable cluster id, or None when it is one."""
    if len(text) != 22:
        return f"it has {len(text)} characters, not 22"
    try:
        raw = base64.urlsafe_b64decode(text + "==")
    except (binascii.Error, ValueError):
        return "it is not URL-safe base64"
    if len(raw) != 16 or _encode(raw) != text:
        return "it is not the canonical base64 of 16 bytes"
    if text in (ZERO_ID, METADATA_TOPIC_ID):
        return "it is an id Kafka reserves"
    return None


def shown(text: str) -> str:
    """``text`` quoted with invisible characters (BOM, NUL, control bytes) escaped, cut at 60."""
    return ascii(text[:60] + ("..." if len(text) > 60 else ""))


def generate() -> str:
    """A new random id, as Kafka's Uuid.randomUuid makes one, never starting with '-'."""
    while True:
        candidate = _encode(os.urandom(16))
        if problem_with(candidate) is None and not candidate.startswith("-"):
            return candidate


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def is_node_id(value: int) -> bool:
    """A whole number Kafka takes as a node id: 0 to 2147483647."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_NODE_ID


# --- directory ids -------------------------------------------------------------------------

#: Domain separation for :func:`directory_id`: change the version suffix, change every id.
_DIRECTORY_ID_DOMAIN = b"kraft-entrypoint directory.id v1"


def directory_id(cluster_id: str, node_id: int) -> str:
    """The metadata directory id of ``node_id`` in ``cluster_id``: the same on every pod.

    A valid Kafka Uuid text (22 characters of canonical URL-safe base64 of 16 bytes), never one
    Kafka reserves and never starting with ``-`` (see :func:`directory_id_problem`); the first 16
    bytes of SHA-256 over a domain-separated encoding of the inputs and a counter, the counter
    stepping past the rare reserved or ``-`` result. ValueError for an invalid cluster id or a
    node id outside 0..2147483647.
    """
    problem = problem_with(cluster_id)
    if problem is not None:
        raise ValueError(f"cluster id {shown(cluster_id)} is not valid: {problem}")
    if not is_node_id(node_id):
        raise ValueError(f"node id {node_id!r} is not a whole number from 0 to 2147483647")
    import hashlib  # here, not at the top: it loads OpenSSL (~4 MiB), which only this needs

    for counter in itertools.count():
        message = b"\0".join(
            (_DIRECTORY_ID_DOMAIN, cluster_id.encode("ascii"), b"%d" % node_id, b"%d" % counter)
        )
        candidate = _encode(hashlib.sha256(message).digest()[:16])
        if directory_id_problem(candidate) is None:
            return candidate
    raise AssertionError("unreachable")  # pragma: no cover - itertools.count() never ends


def directory_id_problem(text: str) -> Optional[str]:
    """Why ``text`` is not a directory id to generate, or None when it is one.

    What Kafka accepts (:func:`kafka_directory_id_problem`) and, as ``Uuid.randomUuid`` ensures
    for Kafka's own ids, not starting with ``-`` (it would read as an option on a command line).
    """
    problem = kafka_directory_id_problem(text)
    if problem is None and text.startswith("-"):
        problem = "it starts with '-'"
    return problem


def kafka_directory_id_problem(text: str) -> Optional[str]:
    """Why Kafka would not take ``text`` as a directory id, or None when it would.

    A Uuid (``Uuid.fromString``: 16 bytes of URL-safe base64; canonical here, as Kafka writes
    them), not ``Uuid.ZERO_UUID`` / ``Uuid.ONE_UUID``, and not in ``DirectoryId.reserved``: most
    significant 64 bits zero and least significant, as a signed long, below 100 (MIGRATING,
    UNASSIGNED, LOST and room for more).
    """
    problem = problem_with(text)
    if problem is not None:
        return problem
    raw = base64.urlsafe_b64decode(text + "==")
    most = int.from_bytes(raw[:8], "big", signed=True)
    least = int.from_bytes(raw[8:], "big", signed=True)
    if most == 0 and least < 100:
        return "it is in the range Kafka reserves for directory ids (DirectoryId.reserved)"
    return None
