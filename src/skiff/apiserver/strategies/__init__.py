"""Per-kind behaviour of the generic registry: one ``ResourceStrategy`` per kind.

The generic registry (``skiff.apiserver.registry``) knows no kind; at each step of a verb it
asks the kind's strategy (the protocol in ``_base``: prepare, validate, delete decisions,
selectable fields, allocation hooks, tables). ``DefaultStrategy`` derives the common rules from
``ResourceInfo``; a kind that needs more has its own module here (``pod``, ``namespace``,
``service``, ``node``, ``secret``, ``job``); ``build_strategies`` builds the typed
``{GroupKind: ResourceStrategy}`` table once per registry, with the server's range allocators
injected into the Service and Node strategies. docs/apiserver.md "Adding a kind" has the recipe.
"""

from __future__ import annotations

from skiff.apiserver.strategies._base import (
    Allocation,
    DefaultStrategy,
    GroupKind,
    NoAllocation,
    ResourceStrategy,
    spec_changed,
)
from skiff.apiserver.strategies._table import build_strategies, strategy_for
from skiff.apiserver.strategies.job import JobStrategy
from skiff.apiserver.strategies.namespace import NamespaceStrategy
from skiff.apiserver.strategies.node import NodeStrategy
from skiff.apiserver.strategies.pod import PodStrategy, qos_class
from skiff.apiserver.strategies.secret import SecretStrategy, merge_string_data
from skiff.apiserver.strategies.service import ServiceStrategy, keep_allocated_values

__all__ = [
    "Allocation",
    "DefaultStrategy",
    "GroupKind",
    "JobStrategy",
    "NamespaceStrategy",
    "NoAllocation",
    "NodeStrategy",
    "PodStrategy",
    "ResourceStrategy",
    "SecretStrategy",
    "ServiceStrategy",
    "build_strategies",
    "keep_allocated_values",
    "merge_string_data",
    "qos_class",
    "spec_changed",
    "strategy_for",
]
