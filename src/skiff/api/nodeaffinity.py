"""Node selection rules shared by the scheduler and the DaemonSet controller: node selector
requirements (``matchExpressions`` on labels, ``matchFields`` on ``metadata.name``), a pod's
required node affinity and ``nodeSelector``, and taint/toleration matching
(``k8s.io/component-helpers/scheduling/corev1``). Pure functions over plain mappings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "find_untolerated_taint",
    "matches_node_selector_terms",
    "pod_matches_node",
    "requirement_matches",
    "tolerates",
]


def requirement_matches(req: Mapping[str, Any], value: str | None) -> bool:
    """One ``NodeSelectorRequirement`` against the node's value for its key (None: absent)."""
    op = req.get("operator")
    values = [str(v) for v in req.get("values") or ()]
    if op == "In":
        return value is not None and value in values
    if op == "NotIn":
        return value is None or value not in values
    if op == "Exists":
        return value is not None
    if op == "DoesNotExist":
        return value is None
    if op in ("Gt", "Lt"):
        if value is None or len(values) != 1:
            return False
        try:
            have, want = int(value), int(values[0])
        except ValueError:
            return False
        return have > want if op == "Gt" else have < want
    return False


def _term_matches(term: Mapping[str, Any], labels: Mapping[str, str], name: str) -> bool:
    exprs = term.get("matchExpressions") or ()
    fields = term.get("matchFields") or ()
    if not exprs and not fields:
        return False  # an empty term matches nothing
    for req in exprs:
        if not requirement_matches(req, labels.get(str(req.get("key")))):
            return False
    for req in fields:
        if req.get("key") != "metadata.name" or not requirement_matches(req, name):
            return False
    return True


def matches_node_selector_terms(
    terms: Iterable[Mapping[str, Any]], labels: Mapping[str, str], name: str
) -> bool:
    """``NodeSelectorTerms`` are ORed; the requirements inside one term are ANDed."""
    return any(_term_matches(t, labels, name) for t in terms)


def pod_matches_node(pod_spec: Mapping[str, Any], node: Mapping[str, Any]) -> bool:
    """``nodeSelector`` and required node affinity (``spec.nodeName`` too, when set)."""
    meta = node.get("metadata") or {}
    labels = meta.get("labels") or {}
    name = str(meta.get("name") or "")
    wanted_name = pod_spec.get("nodeName")
    if wanted_name and wanted_name != name:
        return False
    for key, value in (pod_spec.get("nodeSelector") or {}).items():
        if labels.get(key) != value:
            return False
    required = ((pod_spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    terms = required.get("nodeSelectorTerms")
    return terms is None or matches_node_selector_terms(terms, labels, name)


def tolerates(toleration: Mapping[str, Any], taint: Mapping[str, Any]) -> bool:
    """``Toleration.ToleratesTaint``: effect (empty tolerates all), key (empty with Exists
    tolerates every key), operator Exists or Equal (the default) with the value."""
    effect = toleration.get("effect") or ""
    if effect and effect != taint.get("effect"):
        return False
    key = toleration.get("key") or ""
    if key and key != taint.get("key"):
        return False
    operator = toleration.get("operator") or "Equal"
    if operator == "Exists":
        return True
    if not key:
        return False  # an empty key needs Exists
    return (toleration.get("value") or "") == (taint.get("value") or "")


def find_untolerated_taint(
    taints: Iterable[Mapping[str, Any]],
    tolerations: Iterable[Mapping[str, Any]],
    effects: Iterable[str] = ("NoSchedule", "NoExecute"),
) -> Mapping[str, Any] | None:
    """The first taint with one of ``effects`` that no toleration tolerates, or None."""
    wanted = set(effects)
    tols = list(tolerations)
    for taint in taints:
        if taint.get("effect") not in wanted:
            continue
        if not any(tolerates(t, taint) for t in tols):
            return taint
    return None
