"""kraftlab: real Kafka KRaft clusters whose "pods" are Linux network namespaces.

Shared by the real-Kafka tests (``tests/kafka``), ``scripts/demo`` (:mod:`kraftlab.demo`) and
``bench/``, imported from the repository root (pytest's ``pythonpath``, ``python -m``). Each pod
``kafka-N`` is a network namespace with its own address on a bridge, its own hostname, and an
``/etc/netns/<ns>/hosts`` that maps every pod's FQDN ``kafka-N.<service>.<namespace>.svc.<domain>``,
so Kafka advertises and resolves the same names as in a StatefulSet. A pod is started exactly like
a container (``<python> -m kraft_entrypoint`` with the pod's environment); the entrypoint execs
Kafka, so the started process *is* the Kafka JVM. The test client (``KraftProbe.java``, compiled
against the installation's own kafka-clients jar) runs in a separate client namespace.

Where things are:

* :mod:`kraftlab.versions`: supported Kafka versions, ``fetch_dist`` (scripts/kafka-dist), a
  KAFKA_HOME's version, what differs between 3.x and 4.x, ``compile_probe``
* :mod:`kraftlab.network`: ``Topology`` (the StatefulSet's names), ``Network`` (bridge,
  namespaces, hosts files, per-pod hostname), ``reap_stale``
* :mod:`kraftlab.pods`: ``Lab`` (working directory, pods' environment, start/stop, per-pod
  installation for upgrades), ``PodRun``
* :mod:`kraftlab.client`: the probe client (``status``, topics, acks=all producer, consumer) and
  the installation's tools (``kafka-features.sh``)
* :mod:`kraftlab.seed`: the seed article's entrypoint.sh in a pod (``Lab.seed``, ``Lab.start_seed``)
* :mod:`kraftlab.kept`: stopping a lab left running by another process (``scripts/demo --keep``)
* :mod:`kraftlab.util`: ``LabError``, ``log``, ``run`` (bounded subprocess), ``wait_until``,
  ``tree_digest``
* :mod:`kraftlab.pki`: real certificates and Secret volumes made with openssl (the secure lab,
  the security tests)
* :mod:`kraftlab.container`: the image built with podman from docker/Dockerfile, the Kafka
  tarball on a loopback file server (the container tests and the P5/P6 bench); not imported here

Needs root (``ip netns``, ``unshare``). Every name carries a per-run prefix, and
:meth:`Lab.close` removes every process, namespace, bridge, ``/etc/netns`` entry and temporary
file it created.
"""

from .client import Feature, Partition, Producer, ProduceResult, Status
from .kept import stop_saved
from .network import NETNS_ETC, SUBNET_BASE, Network, Topology, reap_stale
from .pods import DEFAULT_HEAP, Lab, PodRun
from .seed import SEED_ENTRYPOINT_DEFAULT
from .util import LabError, log, pid_alive, require_root, run, timed, tree_digest, wait_until
from .versions import (
    DEFAULT_VERSION,
    DIST_SCRIPT,
    PROBE_SOURCE,
    REPO,
    compile_probe,
    fetch_dist,
    kafka_version,
    major,
    supported,
    template_path,
)

__all__ = [
    "DEFAULT_HEAP",
    "DEFAULT_VERSION",
    "DIST_SCRIPT",
    "NETNS_ETC",
    "PROBE_SOURCE",
    "REPO",
    "SEED_ENTRYPOINT_DEFAULT",
    "SUBNET_BASE",
    "Feature",
    "Lab",
    "LabError",
    "Network",
    "Partition",
    "PodRun",
    "ProduceResult",
    "Producer",
    "Status",
    "Topology",
    "compile_probe",
    "fetch_dist",
    "kafka_version",
    "log",
    "major",
    "pid_alive",
    "reap_stale",
    "require_root",
    "run",
    "stop_saved",
    "supported",
    "template_path",
    "timed",
    "tree_digest",
    "wait_until",
]
