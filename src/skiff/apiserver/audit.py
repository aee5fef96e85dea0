"""Audit log: one JSON line per request, in Kubernetes' ``audit.k8s.io/v1`` Event shape.

Enabled with ``--audit-log-path``. Each line records who (user, groups, source address, user
agent) did what (verb, resource, namespace, name, subresource, request URI) with which outcome
(HTTP code), at level ``Metadata`` (no bodies, so Secrets never reach the log). The file rotates
by size, keeping a few old files, through the standard library's ``RotatingFileHandler``. The
event loop only puts each line on a queue (``QueueHandler``); a ``QueueListener`` thread does the
writing and rotating, so a slow disk never stalls request handling. ``close()`` flushes what is
queued.
"""

from __future__ import annotations

import datetime as dt
import logging
import logging.handlers
import queue
import uuid
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import orjson

__all__ = ["AuditLog"]


def _micro(when: float) -> str:
    return dt.datetime.fromtimestamp(when, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class AuditLog:
    def __init__(self, path: Path, *, max_bytes: int = 100 * 1024 * 1024, backups: int = 5) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._logger = logging.getLogger(f"skiff.audit.{path}")
        self._logger.propagate = False
        self._logger.setLevel(logging.INFO)
        self._handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
        )
        self._handler.setFormatter(logging.Formatter("%(message)s"))
        lines: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
        self._queue_handler = logging.handlers.QueueHandler(lines)
        self._listener = logging.handlers.QueueListener(lines, self._handler)
        self._listener.start()
        self._logger.addHandler(self._queue_handler)

    def record(
        self,
        scope: MutableMapping[str, Any],
        *,
        user: str,
        groups: tuple[str, ...],
        code: int,
        received: float,
        finished: float,
    ) -> None:
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        query = scope.get("query_string", b"").decode("latin-1")
        uri = scope.get("path", "") + (f"?{query}" if query else "")
        event: dict[str, Any] = {
            "kind": "Event",
            "apiVersion": "audit.k8s.io/v1",
            "level": "Metadata",
            "auditID": str(uuid.uuid4()),
            "stage": "ResponseComplete",
            "requestURI": uri,
            "verb": str(scope.get("skiff.verb") or scope.get("method", "")).lower(),
            "user": {"username": user, "groups": list(groups)},
            "sourceIPs": [scope["client"][0]] if scope.get("client") else [],
            "userAgent": headers.get("user-agent", ""),
            "responseStatus": {"metadata": {}, "code": code},
            "requestReceivedTimestamp": _micro(received),
            "stageTimestamp": _micro(finished),
        }
        if scope.get("skiff.resource"):
            ref: dict[str, Any] = {"resource": scope["skiff.resource"]}
            for key, name in (
                ("skiff.namespace", "namespace"),
                ("skiff.name", "name"),
                ("skiff.group", "apiGroup"),
                ("skiff.subresource", "subresource"),
            ):
                if scope.get(key):
                    ref[name] = scope[key]
            event["objectRef"] = ref
        self._logger.info(orjson.dumps(event).decode())

    def close(self) -> None:
        """Stop taking lines, write out what is queued, close the file."""
        self._logger.removeHandler(self._queue_handler)
        self._listener.stop()
        self._handler.close()
