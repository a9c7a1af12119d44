"""The overlays as kustomize renders them: the documented overlay directories, the pinned
kustomize, the base that is k8s/kafka.yaml itself, the example cluster id marked for replacement,
and no secure overlay rendered from a clean clone (no password in the repository).

No container runs here (these tests are in the normal test command)."""

from __future__ import annotations

import os
from pathlib import Path

import yaml

from .support import K8S, OVERLAYS, REPO, USERS_DIR, copy_k8s, run


def test_overlay_directories_are_the_documented_ones() -> None:
    """Every overlay directory is rendered and checked here (and in the README)."""
    found = sorted(p.name for p in (K8S / "overlays").iterdir() if p.is_dir())
    assert found == sorted(OVERLAYS)
    readme = (K8S / "README.md").read_text()
    for name in OVERLAYS:
        assert f"kubectl apply -k k8s/overlays/{name}" in readme, name


def test_kustomize_script_gives_the_pinned_version(kustomize: str) -> None:
    """scripts/kustomize prints the path of kustomize v5.7.1; a second run is a cache hit."""
    assert run([kustomize, "version"]).stdout.strip() == "v5.7.1"
    again = run([str(REPO / "scripts" / "kustomize")])
    assert again.returncode == 0
    assert again.stdout.strip().splitlines()[-1] == kustomize
    assert "cached" in again.stderr


def test_base_is_kafka_yaml_unchanged(kustomize: str) -> None:
    """k8s/kafka.yaml is the base itself (a link, so the two cannot drift), and the base
    renders exactly its objects."""
    link = K8S / "kafka.yaml"
    assert link.is_symlink()
    assert os.readlink(link) == "base/kafka.yaml"
    proc = run([kustomize, "build", str(K8S / "base")])
    assert proc.returncode == 0, proc.stderr
    as_set = lambda docs: sorted(yaml.safe_dump(d, sort_keys=True) for d in docs if d)  # noqa: E731
    assert as_set(yaml.safe_load_all(proc.stdout)) == as_set(yaml.safe_load_all(link.read_text()))


def test_example_cluster_id_is_marked_for_replacement() -> None:
    """The shipped cluster id says it must be replaced, and how a new one is made (the image's
    entrypoint, --new-cluster-id), in the manifest and in k8s/README.md."""
    manifest = (K8S / "base" / "kafka.yaml").read_text()
    (line,) = [x for x in manifest.splitlines() if "CLUSTER_ID: 59AQxW_URq66JWEb-dMvUA" in x]
    assert "REPLACE" in line
    comment = manifest[: manifest.index(line)].rsplit("stringData:", 1)[1]
    assert "MUST be replaced" in comment
    assert "--new-cluster-id" in comment
    readme = (K8S / "README.md").read_text()
    assert "MUST NOT be used" in readme
    assert "--new-cluster-id" in readme
    assert "python3 -c" not in readme + manifest, "the id comes from the entrypoint, not a one-liner"


def test_secure_overlay_does_not_render_without_passwords(kustomize: str, tmp_path: Path) -> None:
    """A clean clone has no password: kustomize refuses to render the secure overlay until the
    user made them, so no cluster runs with a password from the repository; git ignores them."""
    root = copy_k8s(tmp_path / "k8s")
    proc = run([kustomize, "build", str(root / "overlays" / "secure")])
    assert proc.returncode != 0
    assert "users/kafka" in proc.stderr, proc.stderr
    probe = K8S / USERS_DIR / "some-user"
    assert run(["git", "-C", str(REPO), "check-ignore", "-q", str(probe)]).returncode == 0
    gitignore = K8S / USERS_DIR / ".gitignore"
    assert run(["git", "-C", str(REPO), "check-ignore", "-q", str(gitignore)]).returncode == 1
