"""The fixtures of the static manifest tests (tests/manifests/support.py): kustomize, the k8s/ copy,
every overlay and combination rendered, and ``out``, each of them in turn."""

from .support import kustomize, out, rendered, tree  # noqa: F401  (fixtures)
