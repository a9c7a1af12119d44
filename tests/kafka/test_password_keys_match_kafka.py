"""The masking tests' list of Kafka's password-type configs is the one Kafka 3.3.2 itself defines."""

from __future__ import annotations

import subprocess
from pathlib import Path

from kraft_entrypoint.plan import is_secret

FIXTURES = Path(__file__).parent.parent / "fixtures"


def test_pinned_password_keys_match_kafkas_config_definitions(kafka_home: Path, tmp_path: Path) -> None:
    """KafkaConfig.configDef's PASSWORD keys equal the pinned list, and the entrypoint masks each."""
    classpath = f"{kafka_home}/libs/*"
    subprocess.run(["javac", "-d", str(tmp_path), "-cp", classpath, str(FIXTURES / "ListPasswordKeys.java")],
                   check=True, capture_output=True, timeout=120)
    listed = subprocess.run(["java", "-cp", f"{classpath}:{tmp_path}", "ListPasswordKeys"],
                            check=True, capture_output=True, text=True, timeout=120).stdout.split()
    pinned = (FIXTURES / "kafka-3.3.2-password-keys.txt").read_text().split()
    assert sorted(listed) == sorted(pinned)
    assert [key for key in listed if not is_secret(key)] == []
