"""Kafka's cluster id format: 16 bytes as URL-safe base64 without padding (22 characters)."""

from __future__ import annotations

import base64
import binascii
import os

ZERO_ID = "AAAAAAAAAAAAAAAAAAAAAA"
METADATA_TOPIC_ID = "AAAAAAAAAAAAAAAAAAAAAQ"
EXAMPLE = "MkU3OEVBNTcwNTJENDM2Qg"
#: Ids printed in documentation and shipped manifests: valid, but shared with everyone who copied them.
EXAMPLE_IDS = frozenset({EXAMPLE, "59AQxW_URq66JWEb-dMvUA"})


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
