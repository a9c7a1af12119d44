"""A real JVM given the entrypoint's name cache option reads both properties from the shipped
file, on top of the JDK's own java.security (whose negative cache is 10 s without it)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from kraft_entrypoint import name_cache
from kraftlab.jvm_security import NAME_CACHE_KEYS, PROGRAM


def _show(tmp_path: Path, *options: str) -> list[str]:
    source = tmp_path / "Show.java"
    source.write_text(PROGRAM)
    java = shutil.which("java")
    assert java, "java is on every machine this project tests on (README: Java 17)"
    proc = subprocess.run([java, *options, str(source), *NAME_CACHE_KEYS], capture_output=True, text=True,
                          timeout=120, check=True)
    return proc.stdout.splitlines()


def test_the_jvm_takes_both_caches_from_the_file(tmp_path: Path) -> None:
    option = name_cache.option()
    assert option is not None
    assert _show(tmp_path, option) == ["networkaddress.cache.ttl=1", "networkaddress.cache.negative.ttl=0"]


def test_without_it_the_jdk_caches_failed_lookups_10_s(tmp_path: Path) -> None:
    assert _show(tmp_path) == ["networkaddress.cache.ttl=null", "networkaddress.cache.negative.ttl=10"]
