"""The rendered overlays and their sources pass the linters and Kubernetes' own schemas:
``kubernetes-validate --strict`` (Kubernetes 1.27 and its latest) on every object of a built-in
kind, which must print no warning (it only warns, and skips, on kinds it has no schema for), and
yamllint on the sources and on kustomize's output.

No container runs here (these tests are in the normal test command)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import pytest

from .support import K8S, Rendered, assert_kubernetes_valid, run, tool


@pytest.mark.parametrize("version", ["1.27", None], ids=["k8s-1.27", "k8s-latest"])
def test_builtin_objects_pass_kubernetes_validate_strict(
    rendered: dict[str, Rendered], version: Optional[str], tmp_path: Path
) -> None:
    """Every object of a built-in kind is valid (strict: no unknown field); nothing is skipped."""
    assert_kubernetes_valid({name: result.docs for name, result in rendered.items()}, tmp_path, version)


def test_sources_pass_yamllint() -> None:
    """The overlay and component sources pass yamllint --strict with the manifests' settings."""
    sources = sorted(
        str(p)
        for directory in ("base", "components", "overlays")
        for p in (K8S / directory).rglob("*.yaml")
    )
    assert len(sources) >= 12, sources
    proc = run([tool("yamllint"), "--strict", "-c", str(K8S / ".yamllint.yaml"), *sources])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_rendered_output_passes_yamllint(rendered: dict[str, Rendered], tmp_path: Path) -> None:
    """kustomize's output passes yamllint (its own layout allowed: no '---' first, sequences
    not indented), so duplicate keys, truthy values and the like cannot hide in it."""
    config = tmp_path / "yamllint.yaml"
    config.write_text(
        "extends: default\nrules:\n  document-start: disable\n"
        "  indentation: {spaces: 2, indent-sequences: whatever}\n  line-length: {max: 120}\n"
    )
    files = []
    for name, result in rendered.items():
        path = tmp_path / f"{name}.yaml"
        path.write_text(result.text)
        files.append(str(path))
    proc = run([tool("yamllint"), "--strict", "-c", str(config), *files])
    assert proc.returncode == 0, proc.stdout + proc.stderr
