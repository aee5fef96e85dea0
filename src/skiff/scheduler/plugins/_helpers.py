"""Matching rules several plugins share: tolerations, node selector terms, pod affinity terms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from skiff.api.nodeaffinity import find_untolerated_taint, requirement_matches, tolerates
from skiff.api.selector import LabelSelector, SelectorError, label_selector_from_object
from skiff.scheduler.types import NodeInfo, PodInfo

__all__ = [
    "AffinityTerm",
    "affinity_terms",
    "find_untolerated",
    "node_matches_required",
    "node_selector_term_matches",
    "tolerates",
]


# tolerations and node selector requirements are matched as everywhere else in skiff
find_untolerated = find_untolerated_taint


def node_selector_term_matches(term: Mapping[str, Any], node: NodeInfo) -> bool:
    """One NodeSelectorTerm: every matchExpression on labels and matchField holds; an empty term
    matches nothing (nodeaffinity.NodeSelector semantics)."""
    exprs = term.get("matchExpressions") or ()
    fields = term.get("matchFields") or ()
    if not exprs and not fields:
        return False
    for e in exprs:
        key = str(e.get("key") or "")
        if not requirement_matches(e, node.labels.get(key)):
            return False
    for f in fields:
        if f.get("key") != "metadata.name":
            return False
        if not requirement_matches(f, node.name):
            return False
    return True


def node_matches_required(pod: PodInfo, node: NodeInfo) -> bool:
    """nodeSelector and the required node affinity (GetRequiredNodeAffinity.Match)."""
    for k, v in pod.node_selector.items():
        if node.labels.get(k) != v:
            return False
    required = (pod.affinity.get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    )
    if required:
        terms = required.get("nodeSelectorTerms") or ()
        if not any(node_selector_term_matches(t, node) for t in terms):
            return False
    return True


class AffinityTerm:
    """A PodAffinityTerm prepared for matching (framework.AffinityTerm)."""

    __slots__ = ("all_namespaces", "namespaces", "selector", "topology_key", "weight")

    def __init__(self, term: Mapping[str, Any], owner_namespace: str, weight: int = 0) -> None:
        try:
            self.selector: LabelSelector = label_selector_from_object(term.get("labelSelector"))
        except SelectorError:
            self.selector = label_selector_from_object(None)
        self.topology_key = str(term.get("topologyKey") or "")
        namespaces = {str(n) for n in term.get("namespaces") or ()}
        ns_selector = term.get("namespaceSelector")
        # an empty namespaceSelector ({}) means every namespace; other namespace selectors are
        # not evaluated here (the scheduler has no Namespace informer) and add nothing
        self.all_namespaces = isinstance(ns_selector, Mapping) and not ns_selector
        if not namespaces and ns_selector is None:
            namespaces = {owner_namespace}
        self.namespaces = namespaces
        self.weight = weight

    def matches(self, pod: PodInfo) -> bool:
        if not self.all_namespaces and pod.namespace not in self.namespaces:
            return False
        return self.selector.matches(pod.labels)


def affinity_terms(pod: PodInfo, kind: str, *, preferred: bool = False) -> list[AffinityTerm]:
    """``kind`` is ``podAffinity`` or ``podAntiAffinity``."""
    section = pod.affinity.get(kind) or {}
    if preferred:
        out = []
        for w in section.get("preferredDuringSchedulingIgnoredDuringExecution") or ():
            term = w.get("podAffinityTerm") or {}
            out.append(AffinityTerm(term, pod.namespace, int(w.get("weight") or 0)))
        return out
    return [
        AffinityTerm(t, pod.namespace)
        for t in section.get("requiredDuringSchedulingIgnoredDuringExecution") or ()
    ]
