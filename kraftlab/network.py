"""The network of a lab: a bridge, one network namespace per pod plus one for the client, and
the hosts files that let every pod resolve every pod's FQDN (a stand-in for the cluster DNS).

Each pod also gets its own host name, as in Kubernetes, where a pod's hostname is its name and
the pod's /etc/hosts maps that name to the pod's address: its process runs in a UTS namespace of
its own whose hostname is the pod name, and the hosts file ``ip netns exec`` binds over
/etc/hosts maps that name (Kafka 4 resolves ``InetAddress.getLocalHost()`` when it starts)."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import re
import shutil
import signal
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .util import LabError, pid_alive, require_root, run

NETNS_ETC = Path("/etc/netns")
SUBNET_BASE = "10.213"  # pods get 10.213.<k>.0/24 with a free <k>

#: Run as ``sh -c SCRIPT <hostname> <argv...>`` inside the pod's new UTS namespace: set the
#: hostname, then exec the pod's command (the PID stays the one Popen returned).
_SET_HOSTNAME = 'printf %s "$0" > /proc/sys/kernel/hostname && exec "$@"'


@dataclass(frozen=True)
class Topology:
    """The StatefulSet's names (the seed manifest's by default)."""

    statefulset: str = "kafka"
    service: str = "kafka-svc"
    namespace: str = "kafka-kraft"
    domain: str = "cluster.local"
    broker_port: int = 9092
    controller_port: int = 9093

    def pod(self, ordinal: int) -> str:
        return f"{self.statefulset}-{ordinal}"

    def fqdn(self, ordinal: int) -> str:
        return f"{self.pod(ordinal)}.{self.service}.{self.namespace}.svc.{self.domain}"

    def bootstrap(self, ordinals: Iterable[int]) -> str:
        return ",".join(f"{self.fqdn(i)}:{self.broker_port}" for i in ordinals)


def used_subnets() -> set[str]:
    out = run(["ip", "-o", "-4", "addr", "show"]).stdout
    return set(re.findall(rf"inet ({re.escape(SUBNET_BASE)}\.\d+)\.", out))


class Network:
    """A bridge, one network namespace per pod plus one for the client, and their hosts files."""

    def __init__(self, prefix: str, pods: int, topology: Topology) -> None:
        self.prefix = prefix
        self.pods = pods
        self.topology = topology
        self.bridge = f"{prefix}br"
        self.client_ns = f"{prefix}-client"
        self.subnet = ""
        self._created_ns: list[str] = []
        self._bridge_created = False

    def ordinals(self) -> list[int]:
        """The pods of the network (a lab of two StatefulSets numbers them otherwise)."""
        return list(range(self.pods))

    def ns(self, ordinal: int) -> str:
        return f"{self.prefix}-{self.topology.pod(ordinal)}"

    def address(self, ordinal: int) -> str:
        return f"{self.subnet}.{10 + ordinal}"

    @property
    def client_address(self) -> str:
        return f"{self.subnet}.200"

    def all_ns(self) -> list[str]:
        return [self.ns(i) for i in self.ordinals()] + [self.client_ns]

    def hosts_text(self) -> str:
        lines = [
            "127.0.0.1\tlocalhost",
            "::1\tlocalhost ip6-localhost ip6-loopback",
            # The machine's own name, which the client namespace keeps (no UTS namespace of its own).
            f"127.0.1.1\t{socket.gethostname()}",
        ]
        for i in self.ordinals():
            t = self.topology
            short = f"{t.pod(i)}.{t.service}"
            # As a pod's /etc/hosts in Kubernetes: its address, FQDN and hostname (the pod name).
            lines.append(f"{self.address(i)}\t{t.fqdn(i)} {short}.{t.namespace} {short} {t.pod(i)}")
        lines.append(f"{self.client_address}\tkraftlab-client")
        return "\n".join(lines) + "\n"

    def create(self) -> None:
        require_root()
        used = used_subnets()
        start = os.getpid() % 200
        for k in range(200):
            candidate = f"{SUBNET_BASE}.{(start + k) % 200 + 20}"
            if candidate not in used:
                self.subnet = candidate
                break
        else:
            raise LabError(f"no free {SUBNET_BASE}.x.0/24 subnet")
        ipaddress.ip_network(f"{self.subnet}.0/24")  # sanity
        run(["ip", "link", "add", self.bridge, "type", "bridge"])
        self._bridge_created = True
        run(["ip", "addr", "add", f"{self.subnet}.1/24", "dev", self.bridge])
        run(["ip", "link", "set", self.bridge, "up"])
        hosts = self.hosts_text()
        addresses = [self.address(i) for i in self.ordinals()] + [self.client_address]
        for index, (ns, addr) in enumerate(zip(self.all_ns(), addresses)):
            run(["ip", "netns", "add", ns])
            self._created_ns.append(ns)
            host_end, ns_end = f"{self.prefix}v{index}", f"{self.prefix}p{index}"
            run(["ip", "link", "add", host_end, "type", "veth", "peer", "name", ns_end])
            run(["ip", "link", "set", host_end, "master", self.bridge])
            run(["ip", "link", "set", host_end, "up"])
            run(["ip", "link", "set", ns_end, "netns", ns])
            run(["ip", "-n", ns, "link", "set", ns_end, "name", "eth0"])
            run(["ip", "-n", ns, "addr", "add", f"{addr}/24", "dev", "eth0"])
            run(["ip", "-n", ns, "link", "set", "eth0", "up"])
            run(["ip", "-n", ns, "link", "set", "lo", "up"])
            etc = NETNS_ETC / ns
            etc.mkdir(parents=True, exist_ok=True)
            (etc / "hosts").write_text(hosts)

    def exec_argv(self, ns: str, argv: Sequence[str], hostname: Optional[str] = None) -> list[str]:
        """``argv`` inside namespace ``ns``; with ``hostname``, in a UTS namespace of its own with
        that hostname (every step execs: the process Popen starts becomes ``argv``)."""
        if hostname is None:
            return ["ip", "netns", "exec", ns, *argv]
        unshare = ["unshare", "--uts", "--", "sh", "-c", _SET_HOSTNAME, hostname]
        return ["ip", "netns", "exec", ns, *unshare, *argv]

    def destroy(self) -> list[str]:
        """Remove everything created; returns the problems met (cleanup goes on past them)."""
        problems: list[str] = []
        for ns in self._created_ns:
            pids = run(["ip", "netns", "pids", ns], check=False).stdout.split()
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
            result = run(["ip", "netns", "del", ns], check=False)
            if result.returncode != 0:
                problems.append(f"ip netns del {ns}: {result.stderr.strip()}")
            shutil.rmtree(NETNS_ETC / ns, ignore_errors=True)
        self._created_ns.clear()
        if self._bridge_created:
            result = run(["ip", "link", "del", self.bridge], check=False)
            if result.returncode != 0:
                problems.append(f"ip link del {self.bridge}: {result.stderr.strip()}")
            self._bridge_created = False
        return problems


def reap_stale(prefix_pattern: str = r"kl(\d+)[a-z]") -> list[str]:
    """Remove namespaces, bridges and /etc/netns entries of labs whose process is gone.

    Only names matching ``prefix_pattern`` (the tests' ``kl<pid><letter>``) are considered;
    a lab of a living process is never touched.
    """
    removed: list[str] = []
    listing = run(["ip", "netns", "list"], check=False).stdout.split("\n")
    for line in listing:
        name = line.split(" ")[0]
        match = re.match(prefix_pattern + "-", name)
        if not match or pid_alive(int(match.group(1))):
            continue
        for pid in run(["ip", "netns", "pids", name], check=False).stdout.split():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(int(pid), signal.SIGKILL)
        run(["ip", "netns", "del", name], check=False)
        shutil.rmtree(NETNS_ETC / name, ignore_errors=True)
        removed.append(name)
    links = run(["ip", "-o", "link", "show", "type", "bridge"], check=False).stdout
    for name in re.findall(r"^\d+: ([^:@]+)", links, flags=re.M):
        match = re.fullmatch(prefix_pattern + "br", name)
        if match and not pid_alive(int(match.group(1))):
            run(["ip", "link", "del", name], check=False)
            removed.append(name)
    return removed
