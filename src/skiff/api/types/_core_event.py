"""core/v1 Event (the ``v1`` events that ``kubectl get events`` lists)."""

from pydantic import ConfigDict, Field

from skiff.api.types._base import KubeModel, MicroTime, Time
from skiff.api.types._core_common import ObjectReference
from skiff.api.types._fields import struct_extensions
from skiff.api.types.meta_v1 import ListMeta, ObjectMeta

__all__ = ["Event", "EventList", "EventSeries", "EventSource"]


class EventSeries(KubeModel):
    """A series of repeated occurrences of an event."""

    count: int | None = Field(None, alias="count", description="Occurrences observed so far.")
    last_observed_time: MicroTime | None = Field(
        None, alias="lastObservedTime", description="When the last occurrence was observed."
    )


class EventSource(KubeModel):
    """The component that reported an event."""

    component: str | None = Field(
        None, alias="component", description="Component name, e.g. kubelet."
    )
    host: str | None = Field(
        None, alias="host", description="Node on which the event was generated."
    )


class Event(KubeModel):
    """A report of something that happened to an object, e.g. a pod being scheduled or an image failing to pull."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(gvk=("", "v1", "Event")))
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
    metadata: ObjectMeta | None = Field(
        None,
        alias="metadata",
        description="Standard object metadata: name, namespace, labels, annotations and the fields the server maintains.",
    )
    action: str | None = Field(
        None,
        alias="action",
        description="What the reporting component did or failed to do, e.g. Binding.",
    )
    count: int | None = Field(
        None, alias="count", description="How many times this event has occurred."
    )
    event_time: MicroTime | None = Field(
        None,
        alias="eventTime",
        description="When the event was first observed, with microsecond precision.",
    )
    first_timestamp: Time | None = Field(
        None, alias="firstTimestamp", description="When the event was first recorded."
    )
    involved_object: ObjectReference = Field(
        alias="involvedObject", description="The object the event is about."
    )
    last_timestamp: Time | None = Field(
        None, alias="lastTimestamp", description="When the event most recently occurred."
    )
    message: str | None = Field(
        None, alias="message", description="Human-readable description of what happened."
    )
    reason: str | None = Field(
        None, alias="reason", description="Short CamelCase reason, e.g. Scheduled or FailedMount."
    )
    related: ObjectReference | None = Field(
        None, alias="related", description="A second object involved, if any."
    )
    reporting_component: str | None = Field(
        None,
        alias="reportingComponent",
        description="Name of the component that emitted the event, e.g. default-scheduler.",
    )
    reporting_instance: str | None = Field(
        None,
        alias="reportingInstance",
        description="ID of the instance of that component, e.g. a host name.",
    )
    series: EventSeries | None = Field(
        None, alias="series", description="Data about a series of repeated events."
    )
    source: EventSource | None = Field(
        None, alias="source", description="Component and host that reported the event."
    )
    type: str | None = Field(None, alias="type", description="Normal or Warning.")


class EventList(KubeModel):
    """A list of Event objects, as returned by the list endpoint."""

    model_config = ConfigDict(json_schema_extra=struct_extensions(gvk=("", "v1", "EventList")))
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
        None,
        alias="metadata",
        description="List metadata: the resourceVersion of the list and the continue token.",
    )
    items: list[Event] = Field(alias="items", description="The Event objects.")
