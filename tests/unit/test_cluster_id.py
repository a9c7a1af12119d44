"""Kafka's cluster id format: generation and validation."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kraft_entrypoint import cluster_id


def _kafka_accepts(text: str) -> bool:
    """Independent check: canonical URL-safe base64 of 16 bytes, not reserved."""
    if len(text) != 22 or not all(c.isascii() and (c.isalnum() or c in "-_") for c in text):
        return False
    raw = base64.urlsafe_b64decode(text + "==")
    return (
        len(raw) == 16
        and base64.urlsafe_b64encode(raw).rstrip(b"=").decode() == text
        and raw not in (bytes(16), bytes(15) + b"\x01")
    )


def test_generated_ids_are_valid_and_never_start_with_dash() -> None:
    """5000 generated ids: 22 chars, canonical, not reserved, no leading '-', all different."""
    ids = [cluster_id.generate() for _ in range(5000)]
    assert len(set(ids)) == len(ids)
    for value in ids:
        assert len(value) == 22
        assert not value.startswith("-")
        assert _kafka_accepts(value), value
        assert cluster_id.problem_with(value) is None


INVALID = [
    ("empty", ""),
    ("short", "MkU3OEVBNTcwNTJENDM2Q"),
    ("long", "MkU3OEVBNTcwNTJENDM2QgA"),
    ("non-canonical-last-char", "MkU3OEVBNTcwNTJENDM2Qh"),
    ("standard-alphabet-plus", "MkU3OEVBNTcwNTJENDM2+g"),
    ("padding", "MkU3OEVBNTcwNTJENDM2Q="),
    ("space", "MkU3OEVBNTcwNTJENDM2 g"),
    ("non-ascii", "MkU3OEVBNTcwNTJENDM2Qé"),
    ("all-zero", "AAAAAAAAAAAAAAAAAAAAAA"),
    ("metadata-topic-id", "AAAAAAAAAAAAAAAAAAAAAQ"),
]


@pytest.mark.parametrize("text", [t for _, t in INVALID], ids=[i for i, _ in INVALID])
def test_invalid_ids_are_rejected_with_a_reason(text: str) -> None:
    """Each malformed or reserved id gets a reason."""
    assert cluster_id.problem_with(text)


@pytest.mark.parametrize(
    "text",
    ["MkU3OEVBNTcwNTJENDM2Qg", "-3Xy5ZpXQ8ie9gl3rTw8wA", "_____________________w"],
    ids=["example", "leading-dash", "underscores"],
)
def test_valid_ids_are_accepted(text: str) -> None:
    """Canonical ids are accepted, including one starting with '-' (valid for Kafka)."""
    assert cluster_id.problem_with(text) is None


@given(st.binary(min_size=16, max_size=16))
def test_every_16_byte_value_is_accepted_unless_reserved(raw: bytes) -> None:
    """The canonical encoding of any 16 bytes is valid exactly when it is not a reserved id."""
    text = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    assert (cluster_id.problem_with(text) is None) == _kafka_accepts(text)


@given(
    st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=é ",
        min_size=20,
        max_size=24,
    )
)
def test_validation_agrees_with_kafkas_rules(text: str) -> None:
    """problem_with accepts exactly the texts Kafka accepts."""
    assert (cluster_id.problem_with(text) is None) == _kafka_accepts(text)
