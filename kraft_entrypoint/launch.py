"""Replace this process with Kafka, so Kafka is PID 1 and receives SIGTERM itself."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from typing import NoReturn, Optional

from kraft_entrypoint.errors import StartScriptNotExecutable, StartScriptNotFound


def check_start_script(path: str) -> None:
    """Fail before touching storage if the server cannot be started (126 / 127, with the reason)."""
    if not os.path.isfile(path):
        raise StartScriptNotFound(f"{path} not found; check KAFKA_HOME")
    if not os.access(path, os.X_OK):
        raise StartScriptNotExecutable(f"{path} is not executable; chmod +x it or check KAFKA_HOME")
    problem = _interpreter_problem(path)
    if problem is not None:
        raise StartScriptNotExecutable(f"{path} cannot be executed: {problem}; check KAFKA_HOME")


def _interpreter_problem(path: str) -> Optional[str]:
    """What is wrong with the ``#!`` line of a script, if it has one and it cannot run."""
    try:
        with open(path, "rb") as script:
            first = script.readline(256)
    except OSError as error:
        return f"it cannot be read ({error.strerror})"
    if not first.startswith(b"#!"):
        return None
    words = first[2:].decode("utf-8", "replace").split()
    if not words:
        return "its #! line names no interpreter"
    interpreter = words[0]
    if not os.access(interpreter, os.X_OK) or os.path.isdir(interpreter):
        return f"its interpreter {interpreter} (from the #! line) is missing or not executable"
    if os.path.basename(interpreter) == "env" and len(words) > 1 and shutil.which(words[1]) is None:
        return f"its interpreter {words[1]} (from '#!{interpreter} {words[1]}') is not on PATH"
    return None


def exec_server(argv: Sequence[str], env: Optional[Mapping[str, str]] = None) -> NoReturn:
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
