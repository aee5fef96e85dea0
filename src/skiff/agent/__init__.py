"""The node agent (kubelet's role): ``skiff agent``.

- `skiff.agent.agent`: `Agent`, one node's agent, wiring the parts; implements ``PodLookup`` for
  the HTTPS endpoint.
- `skiff.agent.node`: Node registration and status, the heartbeat Lease (`LeaseRenewer`).
- `skiff.agent.podworkers`: per-pod serialised syncs over a work queue.
- `skiff.agent.kuberuntime`: `PodSyncer`, one pod against the Runtime Protocol (sandbox, init
  containers, sidecars, app and ephemeral containers, restarts, termination).
- `skiff.agent.status`: pod status computation and the status manager.
- `skiff.agent.pleg`: the relist that turns runtime changes into pod syncs.
- `skiff.agent.backoff`: crash back-off.
- `skiff.agent.parts`: the seam to env, probes, volumes and hooks.
- `skiff.agent.simulate`: ``--simulate N`` fake nodes in one process.
"""
