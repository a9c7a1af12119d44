"""The server JVM's name cache option (kraft_entrypoint.name_cache): appended to the user's
KAFKA_OPTS, left out when the user already decides it, and the file it names says 1 s and 0 s."""

from __future__ import annotations

import pytest

from kraft_entrypoint import name_cache


def test_appended_after_the_users_options() -> None:
    opts, said = name_cache.server_kafka_opts("-Dmine=1 ", "/opt/x/name_cache.security")
    assert opts == "-Dmine=1 -Djava.security.properties=/opt/x/name_cache.security"
    assert "1 s" in said


def test_alone_when_kafka_opts_is_empty() -> None:
    assert name_cache.server_kafka_opts("", "/f")[0] == "-Djava.security.properties=/f"


@pytest.mark.parametrize("choice", name_cache.USER_CHOICES)
def test_the_users_own_choice_wins(choice: str) -> None:
    opts, said = name_cache.server_kafka_opts(f"-Xlog:cds {choice}=5", "/f")
    assert opts is None
    assert choice in said


def test_a_path_with_white_space_is_left_out() -> None:
    opts, said = name_cache.server_kafka_opts("-Dmine=1", "/opt/my kafka/name_cache.security")
    assert opts is None
    assert "white space" in said


def test_the_shipped_file_sets_both_caches() -> None:
    with open(name_cache.SECURITY_FILE, encoding="utf-8") as handle:
        lines = [line.strip() for line in handle if line.strip() and not line.startswith("#")]
    assert dict(line.split("=", 1) for line in lines) == {
        "networkaddress.cache.ttl": "1", "networkaddress.cache.negative.ttl": "0"}
