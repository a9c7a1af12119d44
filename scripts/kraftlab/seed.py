"""The seed article's entrypoint.sh in the lab: each pod gets its own copy of the installation's
bin/ and config/ (the script rewrites ``$KAFKA_HOME/config/kraft/server.properties`` in place, as
inside its container), the script with only its ``/opt/kafka`` path replaced, and the seed
manifest's environment. :class:`SeedMixin` is part of :class:`kraftlab.Lab`."""

from __future__ import annotations

import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Optional

from .versions import REPO

if TYPE_CHECKING:
    from .network import Topology
    from .pods import PodRun

SEED_ENTRYPOINT_DEFAULT = REPO / "tests" / "fixtures" / "seed" / "entrypoint.sh"


class SeedMixin:
    topology: Topology
    share_dir: Path
    heap: str

    if TYPE_CHECKING:

        def pod_dir(self, ordinal: int) -> Path: ...

        def home(self, ordinal: int) -> Path: ...

        def base_env(self) -> dict[str, str]: ...

        def start(
            self,
            ordinal: int,
            env: Optional[Mapping[str, str]] = None,
            argv: Optional[Sequence[str]] = None,
            cwd: Optional[Path] = None,
        ) -> PodRun: ...

    def seed_home(self, ordinal: int) -> Path:
        """A per-pod KAFKA_HOME for the seed's entrypoint.sh, which rewrites
        ``$KAFKA_HOME/config/kraft/server.properties`` in place (in its container each pod has
        its own copy): ``bin/`` and ``config/`` copied, ``libs`` linked to the pod's installation."""
        home = self.pod_dir(ordinal) / "seed-kafka-home"
        if not home.exists():
            home.mkdir()
            source = self.home(ordinal)
            shutil.copytree(source / "bin", home / "bin")
            shutil.copytree(source / "config", home / "config")
            (home / "libs").symlink_to(source / "libs")
        return home

    def seed_script(self, ordinal: int, seed: Path = SEED_ENTRYPOINT_DEFAULT) -> Path:
        """The seed's entrypoint.sh with only its ``/opt/kafka`` path replaced."""
        script = self.pod_dir(ordinal) / "seed-entrypoint.sh"
        text = seed.read_text()
        script.write_text(text.replace("/opt/kafka", str(self.seed_home(ordinal))))
        script.chmod(0o755)
        return script

    def seed_env(self, ordinal: int, replicas: int = 3) -> dict[str, str]:
        """The seed manifest's environment; the pod's Kafka bin/ first on PATH."""
        home = self.seed_home(ordinal)
        env = self.base_env()
        env.update(
            {
                "HOSTNAME": self.topology.pod(ordinal),
                "REPLICAS": str(replicas),
                "SERVICE": self.topology.service,
                "NAMESPACE": self.topology.namespace,
                "SHARE_DIR": str(self.share_dir),
                "PATH": f"{home / 'bin'}:{env['PATH']}",
                "LOG_DIR": str(self.pod_dir(ordinal) / "logs"),
                "KAFKA_HEAP_OPTS": self.heap,
            }
        )
        return env

    def start_seed(self, ordinal: int, replicas: int = 3) -> PodRun:
        """Start pod ``ordinal`` with the seed's entrypoint.sh (cwd: the pod's own directory,
        where the script writes its ``server.properties.updated``)."""
        script = self.seed_script(ordinal)
        return self.start(ordinal, env=self.seed_env(ordinal, replicas), argv=["bash", str(script)])
