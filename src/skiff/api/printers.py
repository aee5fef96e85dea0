"""Server-side Table printing: the columns and row cells ``kubectl get`` shows for each kind.

The API server answers ``Accept: ...;as=Table;g=meta.k8s.io;v=v1`` with a ``meta.k8s.io/v1``
``Table`` whose ``columnDefinitions`` come from ``column_definitions(kind)`` and whose rows carry
``row_cells(kind, obj, now=...)`` (plus ``row_conditions`` and the object or its metadata, which is
the handler's job). Columns and cells follow kubernetes/kubernetes
``pkg/printers/internalversion/printers.go`` at v1.32; kinds without a printer get the generic
``Name`` + ``Created At`` table of ``k8s.io/apiserver/pkg/registry/rest/table.go``.

Printers work on plain JSON dicts and never raise on partial objects: a missing field prints as
the zero value Go would print. The server always fills the wide (``priority 1``) cells; kubectl
hides those columns unless ``-o wide``. ``now`` is passed in so ages are deterministic in tests.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from skiff.api import _printers_core, _printers_extra, _printers_storage
from skiff.api._printers_common import CREATION_DOC, NAME_DOC, Column, RowFunc, col, s
from skiff.api.duration import format_time, parse_time

__all__ = [
    "column_definitions",
    "default_column_definitions",
    "default_row_cells",
    "has_printer",
    "printed_kinds",
    "row_cells",
    "row_conditions",
]

_COLUMNS: dict[str, list[Column]] = {
    **_printers_core.COLUMNS,
    **_printers_extra.COLUMNS,
    **_printers_storage.COLUMNS,
}
_ROWS: dict[str, RowFunc] = {
    **_printers_core.ROWS,
    **_printers_extra.ROWS,
    **_printers_storage.ROWS,
}

_DEFAULT_COLUMNS: list[Column] = [
    col("Name", "string", NAME_DOC, fmt="name"),
    col("Created At", "date", CREATION_DOC),
]

# Go's zero time formatted as RFC 3339: what the generic table prints for an unset timestamp.
_ZERO_TIME = "0001-01-01T00:00:00Z"


def has_printer(kind: str) -> bool:
    """Whether ``kind`` has a dedicated printer (else the generic Name/Created At table applies)."""
    return kind in _ROWS


def printed_kinds() -> list[str]:
    """Kinds with a dedicated printer, sorted."""
    return sorted(_ROWS)


def default_column_definitions() -> list[dict[str, Any]]:
    """The generic ``Name`` + ``Created At`` (type ``date``) columns."""
    return [dict(c) for c in _DEFAULT_COLUMNS]


def default_row_cells(obj: Mapping[str, Any]) -> list[Any]:
    """Cells of the generic table: the name and the creation time in RFC 3339 (not an age)."""
    created = s(obj, "metadata", "creationTimestamp")
    cell = _ZERO_TIME
    if created:
        try:
            cell = format_time(parse_time(created))
        except ValueError:
            cell = _ZERO_TIME
    return [s(obj, "metadata", "name"), cell]


def column_definitions(kind: str) -> list[dict[str, Any]]:
    """``columnDefinitions`` for a kind: ``{"name","type","format","description","priority"}`` each.

    Returns fresh dicts, so callers may mutate them.
    """
    return [dict(c) for c in _COLUMNS.get(kind, _DEFAULT_COLUMNS)]


def row_cells(kind: str, obj: Mapping[str, Any], *, now: datetime) -> list[Any]:
    """The row cells for ``obj`` of ``kind``, one per entry of ``column_definitions(kind)``.

    Cells are ``str``, ``int``, ``bool`` or ``None`` (JSON null), matching the real server's types
    per column (e.g. a pod's Restarts is a string such as ``"3 (5m ago)"``).
    """
    printer = _ROWS.get(kind)
    if printer is None:
        return default_row_cells(obj)
    return printer(obj, now)


def row_conditions(kind: str, obj: Mapping[str, Any]) -> list[dict[str, str]]:
    """``TableRow.conditions``: pods that completed carry a ``Completed`` condition; others none."""
    if kind == "Pod":
        return _printers_core.pod_conditions(obj)
    return []
