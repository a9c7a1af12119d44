"""Replace this process with Kafka, so Kafka is PID 1 and receives SIGTERM itself."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import NoReturn, Optional

from kraft_entrypoint.errors import StartScriptNotExecutable, StartScriptNotFound


def check_start_script(path: str) -> None:
    """Fail before touching storage if the server cannot be started."""
    if not os.path.isfile(path):
        raise StartScriptNotFound(f"{path} not found; check KAFKA_HOME")
    if not os.access(path, os.X_OK):
        raise StartScriptNotExecutable(f"{path} is not executable; chmod +x it or check KAFKA_HOME")


def exec_server(argv: Sequence[str], env: Optional[Mapping[str, str]] = None) -> NoReturn:
    """Become ``argv`` (env None: with our environment)."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        if env is None:
            os.execv(argv[0], list(argv))
        else:
            os.execve(argv[0], list(argv), dict(env))
    except FileNotFoundError:
        raise StartScriptNotFound(f"{argv[0]} not found; check KAFKA_HOME") from None
    except OSError as error:
        raise StartScriptNotExecutable(f"{argv[0]} cannot be executed: {error.strerror}") from None
