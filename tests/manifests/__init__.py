"""Static proof for the kustomize overlays (k8s/overlays, k8s/components): every overlay renders
with the pinned kustomize, passes the schemas and yamllint, and its pods, Secrets, Services and
budgets agree with each other and with the entrypoint's contract. No container runs here.

* support.py: the overlays rendered from a copy of k8s/ with passwords of its own, and how a
  rendered pod is read (its fixtures are this directory's, through conftest.py);
* test_kustomize_rendering.py: the documented overlays, the pinned kustomize, the base, the
  example cluster id, no secure overlay without passwords;
* test_linters_and_kubernetes_schemas.py: kubernetes-validate --strict, yamllint;
* test_cert_manager_schemas.py: Certificates and Issuers against cert-manager.io/v1 schemas;
* test_overlay_objects_agree.py: namespace, variables, Secrets, mounts, ports, Services, budgets;
* test_overlay_layouts.py: what each overlay is for (NodePorts, security, dedicated, dynamic);
* test_pods_dry_run.py: the entrypoint's --dry-run with each rendered pod's environment.
"""
