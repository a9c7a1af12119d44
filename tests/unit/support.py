"""Run the click command in-process with an exact environment and capture what it reports."""

from __future__ import annotations

import inspect
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from click.testing import CliRunner

from kraft_entrypoint.cli import command

VALID_ID = "MkU3OEVBNTcwNTJENDM2Qg"
OTHER_ID = "q1Sh-9_ISia_zwGINzRvyQ"


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    stdout: bytes
    log: str  # every log record of the run, one line each, plus click's own stderr
    exception: Optional[BaseException]


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname}: {record.getMessage()}")


@dataclass(frozen=True)
class Cli:
    """The entrypoint's click command, run in this process with only the given inputs set."""

    spec_variables: tuple[str, ...]

    def run(self, args: Sequence[str], env: Mapping[str, str]) -> Outcome:
        cleared: dict[str, Optional[str]] = {name: None for name in self.spec_variables}
        cleared.update({name: None for name in os.environ if name.startswith("KAFKA_CFG_")})
        cleared.update(env)
        logger = logging.getLogger("kraft_entrypoint")
        handler, level = _Collect(), logger.level
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        try:
            result = _runner().invoke(command, list(args), env=cleared)
        finally:
            logger.removeHandler(handler)
            logger.setLevel(level)
        exception = None if isinstance(result.exception, SystemExit) else result.exception
        return Outcome(
            result.exit_code, result.stdout_bytes, "\n".join([*handler.lines, result.stderr]), exception
        )


def _runner() -> CliRunner:
    """Click 8.1 (the Python 3.9 floor) mixes stderr into stdout unless told not to; 8.2+ never does."""
    if "mix_stderr" in inspect.signature(CliRunner).parameters:
        return CliRunner(mix_stderr=False)  # type: ignore[call-arg,unused-ignore]
    return CliRunner()


def valid_env(tmp_path: Path, template: Path, **changes: Optional[str]) -> dict[str, str]:
    """A complete, valid set of inputs for pod kafka-0 of three, all paths under tmp_path.

    KAFKA_HOME is a stand-in with no Kafka in it, so KAFKA_VERSION names the version (3.3.2); a
    test that puts a broker jar into KAFKA_HOME/libs passes KAFKA_VERSION=None to drop it."""
    env: dict[str, Optional[str]] = {
        "HOSTNAME": "kafka-0",
        "REPLICAS": "3",
        "SERVICE": "kafka-svc",
        "NAMESPACE": "kafka-kraft",
        "SHARE_DIR": str(tmp_path / "share"),
        "KAFKA_HOME": str(tmp_path / "kafka"),
        "KRAFT_TEMPLATE": str(template),
        "KRAFT_CONFIG": str(tmp_path / "config" / "server.properties"),
        "KAFKA_VERSION": "3.3.2",
    }
    env.update(changes)
    return {key: value for key, value in env.items() if value is not None}
