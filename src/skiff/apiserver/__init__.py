"""The HTTP API server: registry over the store, watch cache, admission, handlers, discovery."""
