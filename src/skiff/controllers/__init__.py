"""Controllers: control loops on ``skiff.client`` informers and work queues, run by the
controller-manager.

- `base`: `run_workers` (client-go sample-controller's worker loop), the `Controller` seam, the
  `ControllerContext` every controller is built from, and `metadata_informer`;
- one module per controller: `garbagecollector`, `namespace`, `serviceaccount`, `rootcacert`,
  `disruption`, `eventttl` (independent of each other: an import-linter contract);
- `manager`: the table of controllers, ``--controllers`` parsing and `ControllerManager` (leader
  election, shared informers). ``skiff controller-manager`` (``skiff.cmd``) runs it as a process.

Controllers talk to the API server only through ``skiff.client``; they never import the API
server or the store.
"""

from skiff.controllers.base import (
    Controller,
    ControllerContext,
    ControllerOptions,
    metadata_informer,
    process_next_work_item,
    run_workers,
)
from skiff.controllers.manager import (
    ALIASES,
    CONTROLLERS,
    ControllerManager,
    LeadershipLost,
    enabled_controllers,
)

__all__ = [
    "ALIASES",
    "CONTROLLERS",
    "Controller",
    "ControllerContext",
    "ControllerManager",
    "ControllerOptions",
    "LeadershipLost",
    "enabled_controllers",
    "metadata_informer",
    "process_next_work_item",
    "run_workers",
]
