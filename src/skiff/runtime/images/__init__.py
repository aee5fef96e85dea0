"""Images: a content-addressed store of blobs and unpacked layers, an OCI distribution client,
archive import, and the registry policy (registries.yaml, offline mode).

- `base`: the seam (ImageService and its types) the agent and the runc runtime use;
- `store`: ImageStore, the implementation (index, layers, ensure/pull, remove, gc);
- `registry`: the distribution API client (manifests, blobs, token/basic auth, platforms);
- `layer`: safe layer extraction, whiteouts, flattening;
- `archive`: OCI layout and ``docker save`` import;
- `policy`: RegistryPolicy (mirrors, auth, TLS, allowlist, offline) - asked before any network use;
- `reference`: reference parsing and normalisation.
"""
