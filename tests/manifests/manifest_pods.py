"""A StatefulSet's pod as the kubelet would make it, read from a manifest, for the static checks.

What real Kubernetes does with the manifests is proven in tests/k8s; this reads only what the
static checks need (each pod's environment for a ``--dry-run``, its mounts and security
context), and deliberately stays small. It reads, for pod
``<sts>-<ordinal>``, what the kubelet would give it (hostname, DNS names, ``env`` from values,
``fieldRef``, ``secretKeyRef`` and ``resourceFieldRef: limits.memory``, volumes, Secret mounts,
security context, memory limit), and refuses (raises) anything it does not know instead of
ignoring it.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kraftlab import pki

Obj = dict[str, Any]

_QUANTITY = re.compile(r"^(\d+)(Ki|Mi|Gi|Ti|k|M|G|T)?$")
_FACTORS = {
    None: 1,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}


class NotEmulated(Exception):
    """The manifest uses a feature this emulation does not reproduce."""


def load(path: Path) -> list[Obj]:
    """All documents of a multi-document YAML manifest (empty documents dropped)."""
    with path.open(encoding="utf-8") as fh:
        return [doc for doc in yaml.safe_load_all(fh) if doc]


def find(docs: Sequence[Obj], kind: str, name: str | None = None) -> Obj:
    """The single object of ``kind`` (and ``name``); fails when absent or ambiguous."""
    found = [d for d in docs if d.get("kind") == kind and (name is None or d["metadata"]["name"] == name)]
    if len(found) != 1:
        raise LookupError(f"expected one {kind} {name or ''}, found {len(found)}")
    return found[0]


def memory_bytes(quantity: str) -> int:
    """A Kubernetes memory quantity (``1Gi``, ``512Mi``, ``1G``) in bytes."""
    match = _QUANTITY.match(str(quantity))
    if not match:
        raise NotEmulated(f"memory quantity {quantity!r}")
    return int(match.group(1)) * _FACTORS[match.group(2)]


def secret_value(docs: Sequence[Obj], name: str, key: str) -> str:
    secret = find(docs, "Secret", name)
    if key in secret.get("stringData", {}):
        return str(secret["stringData"][key])
    if key in secret.get("data", {}):
        return base64.b64decode(secret["data"][key]).decode()
    raise LookupError(f"Secret {name} has no key {key}")


def secret_data(docs: Sequence[Obj], name: str, made: Mapping[str, Mapping[str, bytes]]) -> dict[str, bytes]:
    """Every key of Secret ``name``: one made outside the manifest (``made``), or the manifest's."""
    if name in made:
        return dict(made[name])
    secret = find(docs, "Secret", name)
    data = {key: base64.b64decode(value) for key, value in secret.get("data", {}).items()}
    data.update({key: str(value).encode() for key, value in secret.get("stringData", {}).items()})
    return data


def selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


@dataclass
class Pod:
    """One emulated pod of the StatefulSet: what ``podman run`` needs to start it."""

    name: str
    namespace: str
    hostname: str
    aliases: list[str]
    env: dict[str, str]
    #: (podman volume name, mount path) for each claim-backed mount
    volumes: list[tuple[str, str]]
    #: (volume name suffix, mount path) for each emptyDir; a fresh directory per pod instance
    empty_dirs: list[tuple[str, str]]
    user: str | None
    group_add: list[str]
    read_only: bool
    cap_drop_all: bool
    no_new_privileges: bool
    memory: int | None
    stop_timeout: int
    ports: dict[str, int] = field(default_factory=dict)
    #: (host directory laid out as a Secret volume, mount path) for each secret volume
    secret_mounts: list[tuple[str, str]] = field(default_factory=list)


def pod(
    docs: Sequence[Obj],
    sts_name: str,
    ordinal: int,
    *,
    volume_prefix: str,
    cluster_domain: str = "cluster.local",
    secrets: Mapping[str, Mapping[str, bytes]] | None = None,
    secrets_root: Path | None = None,
) -> Pod:
    """Emulate pod ``<sts_name>-<ordinal>`` of the StatefulSet ``sts_name`` in ``docs``.

    ``secrets``: Secrets that exist in the cluster without being in ``docs`` (cert-manager's),
    by name; ``secrets_root``: where the pod's secret volumes are laid out (needed if it has any).
    """
    sts = find(docs, "StatefulSet", sts_name)
    meta, spec = sts["metadata"], sts["spec"]
    namespace = meta.get("namespace", "default")
    name = f"{meta['name']}-{ordinal}"
    template = spec["template"]
    labels = template["metadata"].get("labels", {})
    podspec = template["spec"]
    containers = podspec["containers"]
    if len(containers) != 1 or podspec.get("initContainers"):
        raise NotEmulated("exactly one container and no init containers")
    ctr = containers[0]
    if ctr.get("command") or ctr.get("args"):
        raise NotEmulated("command/args: the image's ENTRYPOINT is what is under test")

    suffix = f"svc.{cluster_domain}"
    aliases = [f"{name}.{spec['serviceName']}.{namespace}.{suffix}"]
    for svc in docs:
        if (
            svc.get("kind") == "Service"
            and svc["metadata"].get("namespace") == namespace
            and selects(svc["spec"].get("selector", {}), labels)
        ):
            aliases.append(f"{svc['metadata']['name']}.{namespace}.{suffix}")

    field_values = {"metadata.name": name, "metadata.namespace": namespace}
    env: dict[str, str] = {}
    for var in ctr.get("env", []):
        if "value" in var:
            env[var["name"]] = str(var["value"])
            continue
        source = var.get("valueFrom", {})
        if "fieldRef" in source:
            path = source["fieldRef"]["fieldPath"]
            if path not in field_values:
                raise NotEmulated(f"fieldRef {path}")
            env[var["name"]] = field_values[path]
        elif "secretKeyRef" in source:
            ref = source["secretKeyRef"]
            env[var["name"]] = secret_value(docs, ref["name"], ref["key"])
        elif source.get("resourceFieldRef", {}).get("resource") == "limits.memory":
            # the kubelet: the container's limit in bytes, divided by the divisor (default 1)
            ref = source["resourceFieldRef"]
            limit = memory_bytes(ctr["resources"]["limits"]["memory"])
            env[var["name"]] = str(limit // memory_bytes(str(ref.get("divisor", "1"))))
        else:
            raise NotEmulated(f"env {var['name']}: {sorted(source)}")
    if ctr.get("envFrom"):
        raise NotEmulated("envFrom")

    pod_volumes = {v["name"]: v for v in podspec.get("volumes", [])}
    claim_templates = {c["metadata"]["name"] for c in spec.get("volumeClaimTemplates", [])}
    volumes: list[tuple[str, str]] = []
    empty_dirs: list[tuple[str, str]] = []
    secret_mounts: list[tuple[str, str]] = []
    psc = podspec.get("securityContext", {})
    for mount in ctr.get("volumeMounts", []):
        vname, path = mount["name"], mount["mountPath"]
        source = pod_volumes.get(vname, {}).get("secret")
        if source is not None and not mount.get("subPath"):
            if source.get("items") or secrets_root is None:
                raise NotEmulated(f"secret volume {vname}: items, or no secrets_root given")
            directory = secrets_root / name / vname
            data = secret_data(docs, source["secretName"], secrets or {})
            pki.write_secret_volume(directory, data, mode=int(source.get("defaultMode", 0o644)))
            if psc.get("fsGroup") is not None:  # the kubelet gives the files to fsGroup
                for key in data:
                    os.chown(directory / key, 0, int(psc["fsGroup"]), follow_symlinks=True)
            secret_mounts.append((str(directory), path))
            continue
        if mount.get("subPath") or mount.get("readOnly"):
            raise NotEmulated(f"volumeMount {vname}: subPath/readOnly")
        if vname in claim_templates:
            volumes.append((f"{volume_prefix}-{vname}-{name}", path))
        elif vname in pod_volumes and "persistentVolumeClaim" in pod_volumes[vname]:
            claim = pod_volumes[vname]["persistentVolumeClaim"]["claimName"]
            volumes.append((f"{volume_prefix}-{claim}", path))
        elif vname in pod_volumes and "emptyDir" in pod_volumes[vname]:
            empty_dirs.append((vname, path))
        else:
            raise NotEmulated(f"volume {vname}")

    csc = ctr.get("securityContext", {})
    uid = csc.get("runAsUser", psc.get("runAsUser"))
    gid = csc.get("runAsGroup", psc.get("runAsGroup"))
    user = None if uid is None else (f"{uid}:{gid}" if gid is not None else str(uid))
    fs_group = psc.get("fsGroup")
    memory = ctr.get("resources", {}).get("limits", {}).get("memory")
    drop = csc.get("capabilities", {}).get("drop", [])
    return Pod(
        name=name,
        namespace=namespace,
        hostname=name,
        aliases=aliases,
        env=env,
        volumes=volumes,
        empty_dirs=empty_dirs,
        user=user,
        group_add=[] if fs_group is None else [str(fs_group)],
        read_only=bool(csc.get("readOnlyRootFilesystem")),
        cap_drop_all="ALL" in drop,
        no_new_privileges=csc.get("allowPrivilegeEscalation") is False,
        memory=None if memory is None else memory_bytes(memory),
        stop_timeout=int(podspec.get("terminationGracePeriodSeconds", 30)),
        ports={p["name"]: int(p["containerPort"]) for p in ctr.get("ports", []) if "name" in p},
        secret_mounts=secret_mounts,
    )
