"""The world outside the lab's Kubernetes: one network namespace that reaches the pods only at
their "node" addresses, as a client outside a cluster reaches NodePorts.

Each pod is on its own node (externalTrafficPolicy Local, as k8s/components/external-nodeport
has it): pod ``kafka-N`` gets a second interface ``eth1`` with the node's address
``10.214.<k>.(10+N)`` on a bridge that lives inside the outside namespace, and a NodePort:
``iptables`` in the pod's namespace redirects ``<node address>:<BASE+N>`` to the pod's EXTERNAL
container port, as kube-proxy's DNAT does. The outside namespace has no route to the pods'
cluster addresses (``10.213.<k>.0/24``) and its hosts file knows none of their names, so a client
there reaches the cluster only through what the brokers advertise on EXTERNAL.

Deleting the outside namespace removes its bridge and every ``eth1`` with it; ``reap_stale``
removes the namespace of a dead run like the others (``<prefix>-outside``)."""

from __future__ import annotations

import shutil
import socket

from .network import NETNS_ETC, Network
from .util import LabError, run

#: The first node port, as in k8s/components/external-nodeport (kafka-N: 30092 + N).
NODE_PORT_BASE = 30092
#: The EXTERNAL listener's container port (the entrypoint's default EXTERNAL_PORT).
EXTERNAL_PORT = 9094


class Outside:
    def __init__(self, net: Network, *, port_base: int = NODE_PORT_BASE, container_port: int = EXTERNAL_PORT):
        if not net.subnet:
            raise LabError("open the lab first: the outside network follows the lab's subnet")
        self.net = net
        self.ns = f"{net.prefix}-outside"
        self.subnet = "10.214." + net.subnet.rsplit(".", 1)[1]
        self.port_base = port_base
        self.container_port = container_port
        self._created = False

    def node_address(self, ordinal: int) -> str:
        """The address of the node pod ``ordinal`` runs on: what it advertises on EXTERNAL."""
        return f"{self.subnet}.{10 + ordinal}"

    def node_port(self, ordinal: int) -> int:
        return self.port_base + ordinal

    def endpoint(self, ordinal: int) -> str:
        return f"{self.node_address(ordinal)}:{self.node_port(ordinal)}"

    @property
    def client_address(self) -> str:
        return f"{self.subnet}.200"

    def create(self) -> Outside:
        if shutil.which("iptables") is None:
            raise LabError("iptables is needed for the node ports (scripts/container-tools installs it)")
        run(["ip", "netns", "add", self.ns])
        self._created = True
        etc = NETNS_ETC / self.ns
        etc.mkdir(parents=True, exist_ok=True)
        (etc / "hosts").write_text(
            f"127.0.0.1\tlocalhost\n127.0.1.1\t{socket.gethostname()}\n{self.client_address}\toutside\n"
        )
        bridge = "nodes"
        run(["ip", "-n", self.ns, "link", "set", "lo", "up"])
        run(["ip", "-n", self.ns, "link", "add", bridge, "type", "bridge"])
        run(["ip", "-n", self.ns, "addr", "add", f"{self.client_address}/24", "dev", bridge])
        run(["ip", "-n", self.ns, "link", "set", bridge, "up"])
        for ordinal in range(self.net.pods):
            pod_ns = self.net.ns(ordinal)
            outer, inner = f"{self.net.prefix}o{ordinal}", f"{self.net.prefix}i{ordinal}"
            run(["ip", "link", "add", outer, "type", "veth", "peer", "name", inner])
            run(["ip", "link", "set", outer, "netns", self.ns])
            run(["ip", "link", "set", inner, "netns", pod_ns])
            run(["ip", "-n", self.ns, "link", "set", outer, "master", bridge])
            run(["ip", "-n", self.ns, "link", "set", outer, "up"])
            run(["ip", "-n", pod_ns, "link", "set", inner, "name", "eth1"])
            run(["ip", "-n", pod_ns, "addr", "add", f"{self.node_address(ordinal)}/24", "dev", "eth1"])
            run(["ip", "-n", pod_ns, "link", "set", "eth1", "up"])
            run([
                "ip", "netns", "exec", pod_ns, "iptables", "-t", "nat", "-A", "PREROUTING",
                "-i", "eth1", "-p", "tcp", "--dport", str(self.node_port(ordinal)),
                "-j", "REDIRECT", "--to-ports", str(self.container_port),
            ])
        return self

    def destroy(self) -> list[str]:
        """Remove the namespace (its bridge and the pods' eth1 go with it) and its hosts file."""
        problems: list[str] = []
        if self._created:
            for pid in run(["ip", "netns", "pids", self.ns], check=False).stdout.split():
                run(["kill", "-9", pid], check=False)
            result = run(["ip", "netns", "del", self.ns], check=False)
            if result.returncode != 0:
                problems.append(f"ip netns del {self.ns}: {result.stderr.strip()}")
            shutil.rmtree(NETNS_ETC / self.ns, ignore_errors=True)
            self._created = False
        return problems
