"""The seed article's entrypoint.sh in the lab: each pod gets its own copy of the installation's
bin/ and config/ (the script rewrites ``$KAFKA_HOME/config/kraft/server.properties`` in place, as
inside its container), the script with only its ``/opt/kafka`` path replaced, and the seed
manifest's environment. :meth:`kraftlab.Lab.seed` gives a pod's :class:`SeedPod`;
:meth:`kraftlab.Lab.start_seed` starts it."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .network import Topology
from .versions import REPO

SEED_ENTRYPOINT_DEFAULT = REPO / "tests" / "fixtures" / "seed" / "entrypoint.sh"


@dataclass(frozen=True)
class SeedPod:
    """Pod ``ordinal`` as the seed's entrypoint.sh runs it: its files live in ``pod_dir``, its
    own KAFKA_HOME is made from ``installation`` (the pod's image)."""

    ordinal: int
    pod_dir: Path
    installation: Path

    def home(self) -> Path:
        """A per-pod KAFKA_HOME for the seed's entrypoint.sh, which rewrites
        ``$KAFKA_HOME/config/kraft/server.properties`` in place (in its container each pod has
        its own copy): ``bin/`` and ``config/`` copied, ``libs`` linked to the pod's installation."""
        home = self.pod_dir / "seed-kafka-home"
        if not home.exists():
            home.mkdir()
            shutil.copytree(self.installation / "bin", home / "bin")
            shutil.copytree(self.installation / "config", home / "config")
            (home / "libs").symlink_to(self.installation / "libs")
        return home

    def script(self, seed: Path = SEED_ENTRYPOINT_DEFAULT) -> Path:
        """The seed's entrypoint.sh with only its ``/opt/kafka`` path replaced."""
        script = self.pod_dir / "seed-entrypoint.sh"
        text = seed.read_text()
        script.write_text(text.replace("/opt/kafka", str(self.home())))
        script.chmod(0o755)
        return script

    def env(
        self, base: Mapping[str, str], topology: Topology, share_dir: Path, heap: str, replicas: int = 3
    ) -> dict[str, str]:
        """The seed manifest's environment over ``base``; the pod's Kafka bin/ first on PATH."""
        home = self.home()
        env = dict(base)
        env.update(
            {
                "HOSTNAME": topology.pod(self.ordinal),
                "REPLICAS": str(replicas),
                "SERVICE": topology.service,
                "NAMESPACE": topology.namespace,
                "SHARE_DIR": str(share_dir),
                "PATH": f"{home / 'bin'}:{env['PATH']}",
                "LOG_DIR": str(self.pod_dir / "logs"),
                "KAFKA_HEAP_OPTS": heap,
            }
        )
        return env
