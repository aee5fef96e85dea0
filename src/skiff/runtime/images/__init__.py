"""Images: a content-addressed store of blobs and unpacked layers, an OCI distribution client,
archive import, and the registry policy (registries.yaml, offline mode). See `base`."""
