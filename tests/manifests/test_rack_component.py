"""k8s/components/rack and k8s/components/rack-pod-label, rendered with the pinned kustomize onto
the base and the dedicated layout: the broker pods (only they) get RACK_FILE at the path where
the init container writes the node's zone (or where the downward API puts the pod's zone
label); the init container runs the image's node_zone with NODE_NAME from spec.nodeName under a
service account whose ClusterRole may get nodes and nothing else; everything passes
kubernetes-validate --strict. What a real cluster does with it: tests/k8s/test_k8s_rack.py."""

from __future__ import annotations

import posixpath
from pathlib import Path

import pytest
import yaml

from .support import NAMESPACE, Obj, assert_kubernetes_valid, copy_k8s, run

RENDERS = {
    "rack": ("../../base", "rack"),
    "rack+dedicated-controllers": ("../dedicated-controllers", "rack"),
    "rack-pod-label": ("../../base", "rack-pod-label"),
    "rack-pod-label+dedicated-controllers": ("../dedicated-controllers", "rack-pod-label"),
}
ZONE_LABEL = "topology.kubernetes.io/zone"


@pytest.fixture(scope="module")
def renders(kustomize: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Obj]]:
    root = copy_k8s(tmp_path_factory.mktemp("rack") / "k8s")
    result = {}
    for name, (base, component) in RENDERS.items():
        directory = root / "overlays" / name
        directory.mkdir()
        (directory / "kustomization.yaml").write_text(yaml.safe_dump({
            "apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
            "resources": [base], "components": [f"../../components/{component}"],
        }))
        proc = run([kustomize, "build", str(directory)])
        assert proc.returncode == 0, f"kustomize build {name}:\n{proc.stderr}"
        result[name] = [d for d in yaml.safe_load_all(proc.stdout) if d]
    return result


def statefulsets(docs: list[Obj]) -> dict[str, Obj]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == "StatefulSet"}


def kafka_container(sts: Obj) -> Obj:
    (found,) = [c for c in sts["spec"]["template"]["spec"]["containers"] if c["name"] == "kafka"]
    return found


def rack_file(sts: Obj) -> str | None:
    values = [e.get("value") for e in kafka_container(sts).get("env", []) if e["name"] == "RACK_FILE"]
    assert len(values) <= 1
    return values[0] if values else None


def mounted_volume(sts: Obj, container: Obj, path: str) -> tuple[Obj, str]:
    """The pod volume that holds ``path`` in ``container``, and the path inside the volume."""
    for mount in container.get("volumeMounts", []):
        prefix = mount["mountPath"].rstrip("/") + "/"
        if path.startswith(prefix):
            (volume,) = [v for v in sts["spec"]["template"]["spec"]["volumes"] if v["name"] == mount["name"]]
            return volume, posixpath.relpath(path, mount["mountPath"])
    raise AssertionError(f"{path} is on no volume of container {container['name']}")


@pytest.mark.parametrize("name", RENDERS)
def test_only_brokers_get_a_rack_file(renders: dict[str, list[Obj]], name: str) -> None:
    """RACK_FILE on every StatefulSet whose pods run the broker role, on no controller-only one."""
    found = {sts_name: rack_file(sts) for sts_name, sts in statefulsets(renders[name]).items()}
    assert found["kafka"] is not None
    if "dedicated" in name:
        assert found == {"kafka": found["kafka"], "kafka-controller": None}


@pytest.mark.parametrize("name", [n for n in RENDERS if n.startswith("rack+") or n == "rack"])
def test_init_container_writes_where_kafka_reads(renders: dict[str, list[Obj]], name: str) -> None:
    """The init container's file argument is RACK_FILE, on the same emptyDir (read-only for Kafka);
    NODE_NAME comes from spec.nodeName; it runs the image's node_zone as the Kafka container's user
    with the same hardening, under the kafka-rack service account."""
    sts = statefulsets(renders[name])["kafka"]
    spec = sts["spec"]["template"]["spec"]
    (init,) = spec["initContainers"]
    kafka = kafka_container(sts)
    path = rack_file(sts)
    assert path is not None
    assert init["command"] == ["/opt/kraft-entrypoint/bin/python3", "-m", "kraft_entrypoint.node_zone", path]
    assert init["image"] == kafka["image"]
    env = {e["name"]: e for e in init["env"]}
    assert env["NODE_NAME"]["valueFrom"] == {"fieldRef": {"fieldPath": "spec.nodeName"}}
    assert init["securityContext"] == kafka["securityContext"]
    written, inside = mounted_volume(sts, init, path)
    read, inside_too = mounted_volume(sts, kafka, path)
    assert written is read
    assert inside == inside_too == "zone"
    assert "emptyDir" in written
    (kafka_mount,) = [m for m in kafka["volumeMounts"] if m["name"] == read["name"]]
    assert kafka_mount.get("readOnly") is True
    assert spec["serviceAccountName"] == "kafka-rack"


@pytest.mark.parametrize("name", [n for n in RENDERS if n.startswith("rack+") or n == "rack"])
def test_the_service_account_may_get_nodes_and_nothing_else(renders: dict[str, list[Obj]], name: str) -> None:
    """ServiceAccount kafka-rack in the namespace, bound cluster-wide to a ClusterRole whose one
    rule is get on nodes (no list, no watch, no other resource, no write)."""
    docs = renders[name]
    (account,) = [d for d in docs if d["kind"] == "ServiceAccount"]
    assert account["metadata"] == {**account["metadata"], "name": "kafka-rack", "namespace": NAMESPACE}
    (binding,) = [d for d in docs if d["kind"] == "ClusterRoleBinding"]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "kafka-rack", "namespace": NAMESPACE}]
    (role,) = [d for d in docs if d["kind"] == "ClusterRole"]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                  "name": role["metadata"]["name"]}
    assert role["rules"] == [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}]
    assert not [d for d in docs if d["kind"] in ("Role", "RoleBinding")]


@pytest.mark.parametrize("name", [n for n in RENDERS if n.startswith("rack-pod-label")])
def test_pod_label_variant_reads_the_zone_label_through_the_downward_api(
    renders: dict[str, list[Obj]], name: str
) -> None:
    """RACK_FILE is the downward-API file of the pod's own zone label; no init container, no
    service account, no RBAC object."""
    docs = renders[name]
    sts = statefulsets(docs)["kafka"]
    path = rack_file(sts)
    assert path is not None
    volume, inside = mounted_volume(sts, kafka_container(sts), path)
    items = {i["path"]: i for i in volume["downwardAPI"]["items"]}
    assert items[inside]["fieldRef"]["fieldPath"] == f"metadata.labels['{ZONE_LABEL}']"
    assert "initContainers" not in sts["spec"]["template"]["spec"]
    assert "serviceAccountName" not in sts["spec"]["template"]["spec"]
    assert not [d for d in docs if d["kind"] in ("ServiceAccount", "ClusterRole", "ClusterRoleBinding")]


@pytest.mark.parametrize("version", ["1.27", None], ids=["k8s-1.27", "k8s-latest"])
def test_rack_renders_pass_kubernetes_validate_strict(
    renders: dict[str, list[Obj]], tmp_path: Path, version: str | None
) -> None:
    """Every object of every rack render is valid for Kubernetes 1.27 and the latest schemas."""
    assert_kubernetes_valid(renders, tmp_path, version)
