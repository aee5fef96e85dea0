"""Object and list metadata, label selectors, Status and DeleteOptions (meta/v1).

These types are shared by every group; Status and DeleteOptions travel with the core group's
``apiVersion: v1`` (or ``meta.k8s.io/v1``) on the wire.
"""

from pydantic import ConfigDict, Field

from skiff.api.types._base import KubeModel, Time
from skiff.api.types._fields import FieldsV1, atomic_list, merge_list, set_list, struct_extensions

__all__ = [
    "Condition",
    "DeleteOptions",
    "LabelSelector",
    "LabelSelectorRequirement",
    "ListMeta",
    "ManagedFieldsEntry",
    "ObjectMeta",
    "OwnerReference",
    "Preconditions",
    "Status",
    "StatusCause",
    "StatusDetails",
]


class Condition(KubeModel):
    """One observation of an object's state (Ready, Available, ...) in the standard condition shape used by newer APIs."""

    last_transition_time: Time = Field(
        alias="lastTransitionTime",
        description="When the status last flipped from one value to another.",
    )
    message: str = Field(
        alias="message", description="Human-readable detail about the transition; may be empty."
    )
    observed_generation: int | None = Field(
        None,
        alias="observedGeneration",
        description="The metadata.generation the condition was computed from; lower than the current generation means it is stale.",
    )
    reason: str = Field(
        alias="reason", description="Machine-readable CamelCase reason for the last transition."
    )
    status: str = Field(alias="status", description="One of True, False or Unknown.")
    type: str = Field(
        alias="type",
        description="The condition's name in CamelCase, e.g. Ready; unique within the list.",
    )


class Preconditions(KubeModel):
    """Conditions that must hold at the time of a delete for it to proceed."""

    resource_version: str | None = Field(
        None,
        alias="resourceVersion",
        description="The object's resourceVersion must equal this value.",
    )
    uid: str | None = Field(
        None, alias="uid", description="The object's UID must equal this value."
    )


class DeleteOptions(KubeModel):
    """Options for a DELETE request: grace period, preconditions and how dependents are handled."""

    api_version: str | None = Field(
        None,
        alias="apiVersion",
        description="Versioned schema of this object, e.g. ``v1`` or ``apps/v1``; set by the server.",
    )
    kind: str | None = Field(
        None,
        alias="kind",
        description="The object's type name in CamelCase, e.g. ``Pod``; set by the server.",
    )
    dry_run: list[str] | None = Field(
        None,
        alias="dryRun",
        description="If set to [All], the request is validated and admitted but nothing is persisted.",
        json_schema_extra=atomic_list(),
    )
    grace_period_seconds: int | None = Field(
        None,
        alias="gracePeriodSeconds",
        description="Seconds the object gets to shut down before it is removed; 0 deletes immediately, unset uses the kind's default.",
    )
    ignore_store_read_error_with_cluster_breaking_potential: bool | None = Field(
        None,
        alias="ignoreStoreReadErrorWithClusterBreakingPotential",
        description="Force-deletes an object whose stored data cannot be decoded, skipping finalizers and checks; dangerous, default false.",
    )
    orphan_dependents: bool | None = Field(
        None,
        alias="orphanDependents",
        description="Deprecated: use propagationPolicy. True orphans dependents, false deletes them in the background.",
    )
    preconditions: Preconditions | None = Field(
        None,
        alias="preconditions",
        description="Conditions (uid, resourceVersion) that must still hold or the delete fails with 409 Conflict.",
    )
    propagation_policy: str | None = Field(
        None,
        alias="propagationPolicy",
        description="What happens to dependents: Orphan, Background (the default for most kinds) or Foreground.",
    )


class LabelSelectorRequirement(KubeModel):
    """One requirement of a label selector: a key, an operator and values."""

    key: str = Field(alias="key", description="The label key the requirement applies to.")
    operator: str = Field(alias="operator", description="One of In, NotIn, Exists or DoesNotExist.")
    values: list[str] | None = Field(
        None,
        alias="values",
        description="Values for In and NotIn (must be non-empty); must be empty for Exists and DoesNotExist.",
        json_schema_extra=atomic_list(),
    )


class LabelSelector(KubeModel):
    """A label query; matchLabels and matchExpressions are ANDed. An empty selector matches everything, a null one matches nothing."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(map_type="atomic"))
    match_expressions: list[LabelSelectorRequirement] | None = Field(
        None,
        alias="matchExpressions",
        description="Requirements on label keys, all of which must hold.",
        json_schema_extra=atomic_list(),
    )
    match_labels: dict[str, str] | None = Field(
        None,
        alias="matchLabels",
        description="Exact key=value pairs, each equivalent to an In requirement with one value.",
    )


class ListMeta(KubeModel):
    """Metadata of a list response: its resourceVersion and the token for the next page."""

    continue_: str | None = Field(
        None,
        alias="continue",
        description="Opaque token to pass as ?continue= to fetch the next page; empty when the list is complete.",
    )
    remaining_item_count: int | None = Field(
        None,
        alias="remainingItemCount",
        description="Number of items not yet returned when the list is paginated; an estimate that may be absent.",
    )
    resource_version: str | None = Field(
        None,
        alias="resourceVersion",
        description="The store revision the list was read at; start a watch from here to see every later change.",
    )
    self_link: str | None = Field(
        None, alias="selfLink", description="Deprecated and never set by current servers."
    )


class ManagedFieldsEntry(KubeModel):
    """Records which fields one manager (a client, by fieldManager name) owns, as tracked by server-side apply."""

    api_version: str | None = Field(
        None, alias="apiVersion", description="The API version the field set is expressed in."
    )
    fields_type: str | None = Field(
        None, alias="fieldsType", description="Format of fieldsV1; only FieldsV1 exists."
    )
    fields_v1: FieldsV1 | None = Field(
        None, alias="fieldsV1", description="The owned fields as a trie of f:/k:/v:/i: keys."
    )
    manager: str | None = Field(
        None,
        alias="manager",
        description="The field manager's name, e.g. kubectl-client-side-apply.",
    )
    operation: str | None = Field(
        None,
        alias="operation",
        description="Apply or Update: how the manager last wrote these fields.",
    )
    subresource: str | None = Field(
        None,
        alias="subresource",
        description="The subresource (e.g. status) the fields were written through; empty for the main resource.",
    )
    time: Time | None = Field(
        None, alias="time", description="When this manager last changed the entry."
    )


class OwnerReference(KubeModel):
    """Points to an object that owns this one; used by garbage collection."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(map_type="atomic"))
    api_version: str = Field(alias="apiVersion", description="API version of the owner.")
    block_owner_deletion: bool | None = Field(
        None,
        alias="blockOwnerDeletion",
        description="If true, a foreground deletion of the owner waits for this dependent to be deleted first.",
    )
    controller: bool | None = Field(
        None,
        alias="controller",
        description="True if the owner is the managing controller; at most one owner may set it.",
    )
    kind: str = Field(alias="kind", description="Kind of the owner.")
    name: str = Field(alias="name", description="Name of the owner.")
    uid: str = Field(
        alias="uid",
        description="UID of the owner; the reference is only valid for that exact object.",
    )


class ObjectMeta(KubeModel):
    """Metadata every persisted object carries: identity, labels and annotations, ownership and server-maintained bookkeeping."""

    annotations: dict[str, str] | None = Field(
        None,
        alias="annotations",
        description="Free-form string metadata for tools and humans; not used for selection.",
    )
    creation_timestamp: Time | None = Field(
        None,
        alias="creationTimestamp",
        description="When the server created the object (RFC 3339, UTC); read-only.",
    )
    deletion_grace_period_seconds: int | None = Field(
        None,
        alias="deletionGracePeriodSeconds",
        description="Seconds left for graceful termination once deletion started; read-only.",
    )
    deletion_timestamp: Time | None = Field(
        None,
        alias="deletionTimestamp",
        description="Set by the server when deletion was requested; the object goes away once its finalizers are empty. Read-only.",
    )
    finalizers: list[str] | None = Field(
        None,
        alias="finalizers",
        description="Keys that must all be removed before the object is deleted from storage.",
        json_schema_extra=set_list(strategy="merge"),
    )
    generate_name: str | None = Field(
        None,
        alias="generateName",
        description="Prefix from which the server builds a unique name when name is empty.",
    )
    generation: int | None = Field(
        None,
        alias="generation",
        description="Sequence number of spec changes, bumped by the server; read-only.",
    )
    labels: dict[str, str] | None = Field(
        None, alias="labels", description="Key/value pairs used to select and group objects."
    )
    managed_fields: list[ManagedFieldsEntry] | None = Field(
        None,
        alias="managedFields",
        description="Field ownership per manager, maintained by the server for server-side apply.",
        json_schema_extra=atomic_list(),
    )
    name: str | None = Field(
        None,
        alias="name",
        description="Unique name within the namespace (or the cluster for cluster-scoped kinds); immutable.",
    )
    namespace: str | None = Field(
        None,
        alias="namespace",
        description="Namespace of a namespaced object; empty for cluster-scoped kinds. Defaults to the request's namespace.",
    )
    owner_references: list[OwnerReference] | None = Field(
        None,
        alias="ownerReferences",
        description="Objects this one depends on; when all owners are gone the garbage collector deletes it.",
        json_schema_extra=merge_list("uid"),
    )
    resource_version: str | None = Field(
        None,
        alias="resourceVersion",
        description="Opaque version of the object, changed on every write; used for optimistic concurrency and watches.",
    )
    self_link: str | None = Field(
        None, alias="selfLink", description="Deprecated and never set by current servers."
    )
    uid: str | None = Field(
        None,
        alias="uid",
        description="Unique identifier assigned by the server at creation; never reused. Read-only.",
    )


class StatusCause(KubeModel):
    """One reason an operation failed, often tied to a specific field."""

    field: str | None = Field(
        None,
        alias="field",
        description="Path of the offending field, e.g. spec.containers[0].image; may be empty.",
    )
    message: str | None = Field(
        None, alias="message", description="Human-readable explanation of this cause."
    )
    reason: str | None = Field(
        None,
        alias="reason",
        description="Machine-readable cause, e.g. FieldValueRequired or FieldValueInvalid.",
    )


class StatusDetails(KubeModel):
    """Structured details of a Status: which object was involved and why the operation failed."""

    causes: list[StatusCause] | None = Field(
        None,
        alias="causes",
        description="Individual failure causes, typically one per invalid field.",
        json_schema_extra=atomic_list(),
    )
    group: str | None = Field(None, alias="group", description="API group of the object involved.")
    kind: str | None = Field(None, alias="kind", description="Kind of the object involved.")
    name: str | None = Field(
        None, alias="name", description="Name of the object involved, when there is one."
    )
    retry_after_seconds: int | None = Field(
        None,
        alias="retryAfterSeconds",
        description="Seconds the client should wait before retrying, when the error is temporary.",
    )
    uid: str | None = Field(
        None, alias="uid", description="UID of the object involved, when known."
    )


class Status(KubeModel):
    """The body the server returns for errors and for operations without an object result."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(gvk=("", "v1", "Status")))
    api_version: str | None = Field(
        None,
        alias="apiVersion",
        description="Versioned schema of this object, e.g. ``v1`` or ``apps/v1``; set by the server.",
    )
    kind: str | None = Field(
        None,
        alias="kind",
        description="The object's type name in CamelCase, e.g. ``Pod``; set by the server.",
    )
    metadata: ListMeta | None = Field(
        None, alias="metadata", description="Standard list metadata; usually empty."
    )
    code: int | None = Field(
        None, alias="code", description="The HTTP status code of the reply; 0 when not set."
    )
    details: StatusDetails | None = Field(
        None,
        alias="details",
        description="Extra data about the failure, such as the affected object and per-field causes.",
        json_schema_extra=atomic_list(),
    )
    message: str | None = Field(
        None, alias="message", description="Human-readable description of what happened."
    )
    reason: str | None = Field(
        None,
        alias="reason",
        description="Machine-readable CamelCase reason, e.g. NotFound, AlreadyExists, Conflict, Invalid.",
    )
    status: str | None = Field(None, alias="status", description="Success or Failure.")
