"""core/v1 Event (the ``v1`` events that ``kubectl get events`` lists)."""

from pydantic import ConfigDict, Field

from skiff.api.types._base import KubeModel, MicroTime, Time
from skiff.api.types._core_common import ObjectReference
from skiff.api.types._fields import struct_extensions
from skiff.api.types.meta_v1 import ListMeta, ObjectMeta

__all__ = ["Event", "EventList", "EventSeries", "EventSource"]


class EventSeries(KubeModel):
    count: int | None = Field(None, alias="count")
    last_observed_time: MicroTime | None = Field(None, alias="lastObservedTime")


class EventSource(KubeModel):
    component: str | None = Field(None, alias="component")
    host: str | None = Field(None, alias="host")


class Event(KubeModel):
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
    action: str | None = Field(None, alias="action")
    count: int | None = Field(None, alias="count")
    event_time: MicroTime | None = Field(None, alias="eventTime")
    first_timestamp: Time | None = Field(None, alias="firstTimestamp")
    involved_object: ObjectReference = Field(alias="involvedObject")
    last_timestamp: Time | None = Field(None, alias="lastTimestamp")
    message: str | None = Field(None, alias="message")
    reason: str | None = Field(None, alias="reason")
    related: ObjectReference | None = Field(None, alias="related")
    reporting_component: str | None = Field(None, alias="reportingComponent")
    reporting_instance: str | None = Field(None, alias="reportingInstance")
    series: EventSeries | None = Field(None, alias="series")
    source: EventSource | None = Field(None, alias="source")
    type: str | None = Field(None, alias="type")


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
