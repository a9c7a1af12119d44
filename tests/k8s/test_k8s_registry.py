"""The article's workflow on the real cluster: the image pushed to the registry that ``scripts/k8s
up`` runs in the cluster (NodePort 31500 on the node address), ``k8s/base`` pointed at it with a
kustomize ``images:`` overlay (docs/registry.md), and the kubelet pulling it from there into a
node whose containerd did not have it."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from pathlib import Path

from kraftlab import container as ch
from kraftlab import k8s as kh

REGISTRY = "10.244.0.1:31500"
REPOSITORY = "kafka-kraft"
#: The manifests' image name (without its tag), which the overlay's ``images:`` rewrites.
MANIFEST_IMAGE_NAME = kh.MANIFEST_IMAGE.rsplit(":", 1)[0]
REPLICAS = 3
CONTAINERD_SOCK = "/run/kraft-entrypoint-k8s/containerd.sock"


def registry_get(path: str) -> dict[str, object]:
    """A JSON answer of the registry's HTTP API (``/v2/...``), as ``curl`` would fetch it."""
    with urllib.request.urlopen(f"http://{REGISTRY}{path}", timeout=30) as answer:
        data = json.loads(answer.read())
    assert isinstance(data, dict), data
    return data


def ctr(*args: str, timeout: float = 300) -> str:
    """``ctr`` on the cluster's containerd, in the kubelet's namespace ``k8s.io``."""
    return kh.run(["ctr", "--address", CONTAINERD_SOCK, "--namespace", "k8s.io", *args],
                  timeout=timeout).stdout


def node_images() -> dict[str, str]:
    """The node's image records: name -> target (manifest) digest."""
    records = {}
    for line in ctr("images", "ls").splitlines()[1:]:
        fields = line.split()
        records[fields[0]] = fields[2]
    return records


def forget_image(repository: str, digest: str) -> list[str]:
    """Every image record of the node that names ``repository`` or points at ``digest`` or at the
    same manifest as such a name (the CRI's ``sha256:<config>`` record) removed, their content
    garbage-collected (``--sync``); returns the names removed."""
    records = node_images()
    targets = {digest} | {target for name, target in records.items()
                          if name.startswith((f"{repository}:", f"{repository}@"))}
    names = [name for name, target in records.items() if target in targets]
    if names:
        ctr("images", "rm", "--sync", *names)
    return names


def pod_events(ns: str, pod: str) -> list[tuple[str, str]]:
    """The pod's events as (reason, message), oldest first."""
    proc = kh.kubectl("-n", ns, "get", "events", "--field-selector", f"involvedObject.name={pod}",
                      "-o", "json")
    items = sorted(json.loads(proc.stdout)["items"],
                   key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
    return [(str(e.get("reason")), str(e.get("message"))) for e in items]


def test_push_pull_from_in_cluster_registry(namespace: kh.Namespace, manifests: Path, image: str,
                                            tmp_path: Path, report: kh.Report) -> None:
    """The image pushed to the in-cluster registry is listed in its catalog, pulled by the kubelet
    into a node that holds none of it (pod events, imageID, every layer in the registry's log),
    and its 3 pods serve a round trip."""
    tag = f"0.1.0-{uuid.uuid4().hex[:6]}"
    remote = f"{REGISTRY}/{REPOSITORY}:{tag}"

    digest_file = tmp_path / "digest"
    started = time.monotonic()
    kh.run(["podman", "push", "--tls-verify=false", "--digestfile", str(digest_file),
            ch.IMAGE_TAG, remote], timeout=600)
    report.time(f"podman push to {REGISTRY} (plain HTTP)", time.monotonic() - started)
    digest = digest_file.read_text().strip()
    assert digest.startswith("sha256:"), digest

    catalog = registry_get("/v2/_catalog")
    assert REPOSITORY in catalog["repositories"], catalog  # type: ignore[operator]
    tags = registry_get(f"/v2/{REPOSITORY}/tags/list")
    assert tag in tags["tags"], tags  # type: ignore[operator]
    report.figure(f"catalog {catalog}; {REPOSITORY} tags include {tag}")

    # An empty image store for this image: no record of it under any name (the registry's, and the
    # manifests' local one the other scenarios use, restored at the end), none of its blobs.
    layers = image_layers(digest)
    removed = forget_image(f"{REGISTRY}/{REPOSITORY}", digest) + forget_image(MANIFEST_IMAGE_NAME, digest)
    kh.log(f"removed from the node: {removed}")
    try:
        _pull_and_use(namespace, manifests, tmp_path, report, remote, tag, digest, layers)
    finally:
        kh.k8s("load-image", ch.IMAGE_TAG, kh.MANIFEST_IMAGE, timeout=600)


def image_layers(digest: str) -> list[str]:
    """The layer digests of the pushed image, from the registry's manifest of it."""
    request = urllib.request.Request(
        f"http://{REGISTRY}/v2/{REPOSITORY}/manifests/{digest}",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json, "
                           "application/vnd.docker.distribution.manifest.v2+json"})
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 (a fixed http:// URL)
        manifest = json.loads(answer.read())
    return [str(layer["digest"]) for layer in manifest["layers"]]


def _pull_and_use(namespace: kh.Namespace, manifests: Path, tmp_path: Path, report: kh.Report,
                  remote: str, tag: str, digest: str, layers: list[str]) -> None:
    """Apply the overlay pointed at the registry; the kubelet pulls every layer from there."""
    # this repository under either name, any tag or digest (not a repository that merely starts
    # with the same letters, e.g. a bench's localhost/kafka-kraft-seed)
    ours = tuple(f"{repo}{sep}" for repo in (f"{REGISTRY}/{REPOSITORY}", MANIFEST_IMAGE_NAME) for sep in ":@")
    assert not [n for n, t in node_images().items() if n.startswith(ours) or t == digest]
    held = set(ctr("content", "ls", "-q").split())
    assert digest not in held
    assert not set(layers) & held, "the node still holds layers of the image: the pull would not fetch them"

    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        "apiVersion: kustomize.config.k8s.io/v1beta1\n"
        "kind: Kustomization\n"
        f"resources:\n  - {Path('..') / manifests.relative_to(tmp_path) / 'base'}\n"
        "images:\n"
        f"  - name: {MANIFEST_IMAGE_NAME}\n"
        f"    newName: {REGISTRY}/{REPOSITORY}\n"
        f"    newTag: {tag}\n")
    rendered = kh.kubectl("kustomize", str(overlay)).stdout
    assert f"image: {remote}\n" in rendered, rendered
    assert "imagePullPolicy: IfNotPresent" in rendered

    namespace.volumes(*(f"data-kafka-{n}" for n in range(REPLICAS)))
    started = time.monotonic()
    kh.kubectl("apply", "-k", str(overlay))
    kh.wait_ready(namespace.name, "kafka", REPLICAS)
    report.time("apply -k overlay -> 3 pods Ready, image pulled from the registry",
                time.monotonic() - started)

    pulled = []
    for n in range(REPLICAS):
        pod = f"kafka-{n}"
        spec = json.loads(kh.kubectl("-n", namespace.name, "get", "pod", pod, "-o", "json").stdout)
        assert spec["spec"]["containers"][0]["image"] == remote
        status = spec["status"]["containerStatuses"][0]
        assert status["imageID"] == f"{REGISTRY}/{REPOSITORY}@{digest}", status
        events = pod_events(namespace.name, pod)
        image_events = [(r, m) for r, m in events if r in ("Pulling", "Pulled")]
        kh.log(f"{pod}: {image_events}")
        if ("Pulling", f'Pulling image "{remote}"') in image_events:
            assert any(r == "Pulled" and m.startswith(f'Successfully pulled image "{remote}"')
                       for r, m in image_events), events
            pulled.append(pod)
            report.figure(f"{pod}: {next(m for r, m in image_events if r == 'Pulled')}")
        else:
            # Pods that started after another pod's pull find the image already on the node.
            assert ("Pulled", f'Container image "{remote}" already present on machine') \
                in image_events, events
    assert pulled, "no pod pulled the image"

    # The registry served the image's manifest and every layer to the node's containerd, which
    # held none of them.
    registry_log = kh.kubectl("-n", "kraft-registry", "logs", "deployment/registry",
                              "--since=30m", "--tail=-1").stdout
    by_containerd = [line for line in registry_log.splitlines()
                     if "containerd/" in line and "response completed" in line
                     and "http.request.method=GET" in line and "http.response.status=200" in line]
    manifest_gets = [line for line in by_containerd
                     if f"/v2/{REPOSITORY}/manifests/{digest}" in line]
    assert manifest_gets, registry_log[-3000:]
    blob_gets = [line for line in by_containerd if f"/v2/{REPOSITORY}/blobs/" in line]
    assert all(any(f"/blobs/{layer}" in line for line in blob_gets) for layer in layers), (
        f"not every layer of {layers} was fetched from the registry")
    report.figure(f"registry log: containerd fetched the manifest {len(manifest_gets)}x and "
                  f"{len(blob_gets)} blobs; pulled by {pulled}")

    client = kh.Client(namespace.name, remote)
    client.create_topic("pulled", partitions=3, replication_factor=3, min_insync=2)
    produced = client.produce("pulled", 500, prefix=23)
    assert len(produced.acked) == 500, produced
    assert produced.failed == 0, produced
    read = client.consume("pulled", expected=500)
    assert produced.acked <= set(read), sorted(produced.acked - set(read))[:20]
