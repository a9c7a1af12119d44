"""One exception hierarchy; each class carries the exit code SPEC.md gives it."""

from __future__ import annotations


class EntrypointError(Exception):
    """Base of every error the entrypoint reports; ``exit_code`` is what the process returns."""

    exit_code = 1


class InvalidInput(EntrypointError):
    """A missing, malformed or contradictory option or variable."""

    exit_code = 2


class StorageRefused(EntrypointError):
    """The data directory belongs to another cluster, node or voter set; nothing was changed."""

    exit_code = 3


class ClusterIdUnavailable(EntrypointError):
    """The shared cluster id could not be read or created within CLUSTER_ID_TIMEOUT."""

    exit_code = 4


class FormatFailed(EntrypointError):
    """``kafka-storage.sh format`` failed."""

    exit_code = 5


class Interrupted(EntrypointError):
    """SIGTERM or SIGINT arrived before Kafka was started; the exit code is 128 + the signal."""

    def __init__(self, signum: int, name: str) -> None:
        super().__init__(f"stopped by {name} before Kafka was started; nothing was left half-written")
        self.signum = signum
        self.exit_code = 128 + signum


class StartScriptNotExecutable(EntrypointError):
    """The Kafka start script exists but cannot be executed."""

    exit_code = 126


class StartScriptNotFound(EntrypointError):
    """The Kafka start script does not exist."""

    exit_code = 127
