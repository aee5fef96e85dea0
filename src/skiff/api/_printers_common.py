"""Shared pieces of the Table printers: column building, safe field access, common cell formats.

Every helper tolerates partial objects: a missing or mistyped field reads as the zero value the Go
printer would see (``""``, ``0``, empty list), never as an exception.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from skiff.api.duration import age, parse_time
from skiff.api.quantity import QuantityError, canonical_quantity

__all__ = [
    "CONTAINERS_DOC",
    "CREATION_DOC",
    "IMAGES_DOC",
    "NAME_DOC",
    "Cells",
    "Column",
    "RowFunc",
    "age_col",
    "age_of",
    "col",
    "container_cells",
    "dct",
    "get",
    "i",
    "int_or_string",
    "join_host_port",
    "list_with_more",
    "lst",
    "name_col",
    "name_of",
    "opt_int",
    "quantity_string",
    "s",
    "time_of",
    "wide_template_cols",
]

Column = dict[str, Any]
Cells = list[Any]
RowFunc = Callable[[Mapping[str, Any], datetime], Cells]

# metav1.ObjectMeta{}.SwaggerDoc() texts, which every built-in printer uses for Name and Age.
NAME_DOC = (
    "Name must be unique within a namespace. Is required when creating resources, although some "
    "resources may allow a client to request the generation of an appropriate name automatically. "
    "Name is primarily intended for creation idempotence and configuration definition. Cannot be "
    "updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
)
CREATION_DOC = (
    "CreationTimestamp is a timestamp representing the server time when this object was created. "
    "It is not guaranteed to be set in happens-before order across separate operations. Clients "
    "may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the "
    "system. Read-only. Null for lists. More info: "
    "https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
)
CONTAINERS_DOC = "Names of each container in the template."
IMAGES_DOC = "Images referenced by each container in the template."


def col(
    name: str, type_: str = "string", description: str = "", *, priority: int = 0, fmt: str = ""
) -> Column:
    """One ``metav1.TableColumnDefinition`` as JSON (every key is always present on the wire)."""
    return {
        "name": name,
        "type": type_,
        "format": fmt,
        "description": description,
        "priority": priority,
    }


def name_col() -> Column:
    return col("Name", "string", NAME_DOC, fmt="name")


def age_col() -> Column:
    return col("Age", "string", CREATION_DOC)


def wide_template_cols(*, selector: str | None) -> list[Column]:
    """The ``Containers``/``Images`` (and optionally ``Selector``) wide columns of workloads."""
    cols = [
        col("Containers", description=CONTAINERS_DOC, priority=1),
        col("Images", description=IMAGES_DOC, priority=1),
    ]
    if selector is not None:
        cols.append(col("Selector", description=selector, priority=1))
    return cols


def get(obj: Any, *path: str | int) -> Any:
    """Walk dict keys / list indexes; ``None`` as soon as something is missing or mistyped."""
    cur = obj
    for part in path:
        if isinstance(part, int):
            if not isinstance(cur, list) or not -len(cur) <= part < len(cur):
                return None
            cur = cur[part]
        else:
            if not isinstance(cur, Mapping):
                return None
            cur = cur.get(part)
    return cur


def s(obj: Any, *path: str | int) -> str:
    """A string field; missing or non-string reads as ``""``."""
    value = get(obj, *path)
    return value if isinstance(value, str) else ""


def i(obj: Any, *path: str | int) -> int:
    """An integer field; missing or non-integer reads as ``0``."""
    value = get(obj, *path)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def opt_int(obj: Any, *path: str | int) -> int | None:
    value = get(obj, *path)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def lst(obj: Any, *path: str | int) -> list[Any]:
    value = get(obj, *path)
    return value if isinstance(value, list) else []


def dct(obj: Any, *path: str | int) -> dict[str, Any]:
    value = get(obj, *path)
    return dict(value) if isinstance(value, Mapping) else {}


def name_of(obj: Mapping[str, Any]) -> str:
    return s(obj, "metadata", "name")


def age_of(obj: Mapping[str, Any], now: datetime) -> str:
    """``translateTimestampSince(obj.CreationTimestamp)``."""
    return age(s(obj, "metadata", "creationTimestamp") or None, now)


def time_of(obj: Any, *path: str | int) -> datetime | None:
    """A timestamp field as a datetime; ``None`` when unset or unparsable (Go's zero time)."""
    text = s(obj, *path)
    if not text:
        return None
    try:
        return parse_time(text)
    except ValueError:
        return None


def container_cells(containers: list[Any]) -> tuple[str, str]:
    """``layoutContainerCells``: comma-joined container names and images."""
    names = ",".join(s(c, "name") for c in containers)
    images = ",".join(s(c, "image") for c in containers)
    return names, images


def quantity_string(value: Any) -> str:
    """``Quantity.String()`` of a JSON quantity; the raw text when it does not parse.

    Go's ``(*Quantity)(nil).String()`` is ``<nil>``, which is what an absent optional quantity
    prints as.
    """
    if value is None:
        return "<nil>"
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        try:
            return canonical_quantity(value)
        except QuantityError:
            return str(value)
    return str(value)


def int_or_string(value: Any) -> str:
    """``intstr.IntOrString.String()``."""
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def join_host_port(host: str, port: int) -> str:
    """``net.JoinHostPort``: brackets around IPv6 literals."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def list_with_more(items: list[str], count: int, maximum: int, *, empty: str) -> str:
    """``listWithMoreString``: at most ``maximum`` items, then `` + N more...``."""
    text = ",".join(items[:maximum])
    if count > maximum:
        return f"{text} + {count - maximum} more..."
    return text or empty
