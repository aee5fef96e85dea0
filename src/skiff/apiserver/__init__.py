"""The HTTP API server: the only component that touches the store.

A request flows ``app`` (parse the path, authenticate, authorize, negotiate JSON/Table) ->
``registry`` (decode through the kind's model, default, strategy, admission, validate, track
managed fields, compare-and-swap write; every per-kind rule is the kind's ``strategies``
entry) -> ``watchcache`` -> ``skiff.store``. Reads and watches
are served by the watch cache (``watch`` frames events for each client); ``discovery`` and
``openapi`` describe what is served; ``allocator`` hands out pod CIDRs, ClusterIPs and NodePorts;
``encryption`` keeps Secrets encrypted at rest; ``tls`` writes the cluster's credentials;
``server`` wires it all into one process.

Guarantees: every failure a client can cause is a ``Status`` with the right code (never a 500);
a write is acknowledged only once durable and is visible to the writer's next read; a dry run
persists nothing. Components reach this server only over HTTP, through ``skiff.client``.
"""
