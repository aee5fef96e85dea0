"""The in-tree plugins, one module each, and the default profile's plugin set.

`in_tree_registry` maps each plugin's name to its factory (``new(args, handle)``);
`DEFAULT_PLUGINS` lists, per extension point, the plugins a profile runs when its configuration
does not change them, and `DEFAULT_WEIGHTS` their score weights (kube-scheduler's
``getDefaultPlugins`` for kubescheduler.config.k8s.io/v1, without ImageLocality and the volume
plugins skiff has no use for).
"""

from __future__ import annotations

from skiff.scheduler.framework import Registry
from skiff.scheduler.plugins import (
    balancedallocation,
    defaultbinder,
    defaultpreemption,
    interpodaffinity,
    nodeaffinity,
    nodename,
    nodeports,
    noderesourcesfit,
    nodeunschedulable,
    podtopologyspread,
    schedulinggates,
    tainttoleration,
    volumebinding,
)

__all__ = ["DEFAULT_PLUGINS", "DEFAULT_WEIGHTS", "EXTENSION_POINTS", "in_tree_registry"]

_MODULES = (
    schedulinggates,
    nodeunschedulable,
    nodename,
    tainttoleration,
    nodeaffinity,
    nodeports,
    noderesourcesfit,
    volumebinding,
    podtopologyspread,
    interpodaffinity,
    balancedallocation,
    defaultpreemption,
    defaultbinder,
)

EXTENSION_POINTS = (
    "preEnqueue",
    "preFilter",
    "filter",
    "postFilter",
    "preScore",
    "score",
    "reserve",
    "permit",
    "bind",
)


def in_tree_registry() -> Registry:
    registry = Registry()
    for module in _MODULES:
        registry.register(module.NAME, module.new)
    return registry


DEFAULT_PLUGINS: dict[str, list[str]] = {
    "preEnqueue": ["SchedulingGates"],
    "preFilter": [
        "NodeAffinity",
        "NodePorts",
        "NodeResourcesFit",
        "VolumeBinding",
        "PodTopologySpread",
        "InterPodAffinity",
        "NodeName",
    ],
    "filter": [
        "NodeUnschedulable",
        "NodeName",
        "TaintToleration",
        "NodeAffinity",
        "NodePorts",
        "NodeResourcesFit",
        "VolumeBinding",
        "PodTopologySpread",
        "InterPodAffinity",
    ],
    "postFilter": ["DefaultPreemption"],
    "preScore": ["TaintToleration", "NodeAffinity", "PodTopologySpread", "InterPodAffinity"],
    "score": [
        "TaintToleration",
        "NodeAffinity",
        "NodeResourcesFit",
        "PodTopologySpread",
        "InterPodAffinity",
        "NodeResourcesBalancedAllocation",
    ],
    "reserve": [],
    "permit": [],
    "bind": ["DefaultBinder"],
}

DEFAULT_WEIGHTS: dict[str, int] = {
    "TaintToleration": 3,
    "NodeAffinity": 2,
    "NodeResourcesFit": 1,
    "PodTopologySpread": 2,
    "InterPodAffinity": 2,
    "NodeResourcesBalancedAllocation": 1,
}
