"""Schema table for apimachinery ``meta/v1`` (ObjectMeta, LabelSelector, DeleteOptions, Condition...).

Transcribed from k8s.io/apimachinery/pkg/apis/meta/v1/generated.proto; the text format is
described in :mod:`skiff.api.protobuf._schema`.
"""

from __future__ import annotations

__all__ = ["META"]

META = (
    "meta/v1",
    """
Condition: type=1! status=2! observedGeneration=3:i64 lastTransitionTime=4:Time reason=5! message=6!
DeleteOptions: gracePeriodSeconds=1:i64* preconditions=2:Preconditions orphanDependents=3:bool*
  propagationPolicy=4:str* dryRun=5:[]str ignoreStoreReadErrorWithClusterBreakingPotential=6:bool*
FieldSelectorRequirement: key=1! operator=2! values=3:[]str
LabelSelector: matchLabels=1:{} matchExpressions=2:[]LabelSelectorRequirement
LabelSelectorRequirement: key=1! operator=2! values=3:[]str
ManagedFieldsEntry: manager=1 operation=2 apiVersion=3 time=4:Time fieldsType=6 fieldsV1=7:FieldsV1 subresource=8
ObjectMeta: name=1 generateName=2 namespace=3 selfLink=4 uid=5 resourceVersion=6 generation=7:i64
  creationTimestamp=8:Time deletionTimestamp=9:Time deletionGracePeriodSeconds=10:i64* labels=11:{}
  annotations=12:{} ownerReferences=13:[]OwnerReference finalizers=14:[]str managedFields=17:[]ManagedFieldsEntry
OwnerReference: apiVersion=5! kind=1! name=3! uid=4! controller=6:bool* blockOwnerDeletion=7:bool*
Preconditions: uid=1:str* resourceVersion=2:str*
""",
)
