"""The runc runtime: real containers (``runtime.RuncRuntime``), their per-container shim
(``shim``), OCI specs (``oci``), cgroups (``cgroups``) and sandbox namespaces (``netns``).

Kept free of imports so ``python -m skiff.runtime.runc.shim`` starts quickly; import
``skiff.runtime.runc.runtime`` for `RuncRuntime`.
"""
