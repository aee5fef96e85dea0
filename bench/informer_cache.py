"""Informer cache cost per object: CPU to transform and cache a pod, and bytes it keeps.

``python -m bench informer_cache [--pods 10000] [--rounds 3]``

Builds ``--pods`` realistic Deployment pods (two containers with env, probes, resources and
mounts; the projected service-account volume; four conditions and container statuses; three
``managedFields`` entries as kube-controller-manager, the scheduler and the kubelet write them),
serializes each to JSON and decodes it again, as an informer receives it. Then, per variant,
applies the informer transform to every decoded pod and inserts the result into an `Indexer`
(the informer's cache), and reports:

* CPU µs per object for transform + cache insert (``time.process_time``, median of ``--rounds``;
  JSON decoding is excluded, it is the same for every variant);
* bytes per cached pod: ``tracemalloc``'s traced memory held once the decoded input is dropped,
  divided by the number of pods (strings shared between the input and the cached form are
  counted once, as in a running informer); and again after every field of every cached pod was
  read once (the frozen cache wraps nested values lazily, on first read, so a long-running
  informer whose readers touch everything ends near that second figure).

Variants: ``frozen`` (`keep_everything`, the cache before this change), ``frozen-no-mf``
(`drop_managed_fields`, the new default), ``pod-view`` (`pod_view`, a typed frozen view holding
the frozen pod without managedFields), and two references that are not informer transforms:
``pydantic`` (``skiff.api.types.Pod.model_validate``, the typed models, mutable, managedFields
dropped) and ``dict`` (the decoded dict kept as is: no freezing, no safety).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
import tracemalloc
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from bench._common import print_json_line, print_table
from skiff.api.types.core_v1 import Pod
from skiff.client import Indexer, drop_managed_fields, keep_everything, pod_view

__all__ = ["add_arguments", "realistic_pod", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pods", type=int, default=10_000, help="pods per variant")
    parser.add_argument("--rounds", type=int, default=3, help="CPU rounds (median reported)")
    parser.add_argument("--timeout", type=float, default=600.0, help="unused; for symmetry")
    parser.add_argument("--tmp-dir", default=None, help="unused; for symmetry")


def _container(name: str, image: str, i: int) -> dict[str, Any]:
    return {
        "name": name,
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": 8080, "protocol": "TCP"}],
        "env": [
            {"name": "LOG_LEVEL", "value": "info"},
            {"name": "REPLICA", "value": str(i)},
            {"name": "REGION", "value": "eu-west-1"},
            {
                "name": "POD_NAME",
                "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}},
            },
            {
                "name": "POD_IP",
                "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "status.podIP"}},
            },
        ],
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"},
        },
        "volumeMounts": [
            {"name": "config", "mountPath": "/etc/app", "readOnly": True},
            {
                "name": "kube-api-access-x7k2p",
                "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                "readOnly": True,
            },
        ],
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": 8080, "scheme": "HTTP"},
            "initialDelaySeconds": 10,
            "timeoutSeconds": 1,
            "periodSeconds": 10,
            "successThreshold": 1,
            "failureThreshold": 3,
        },
        "readinessProbe": {
            "httpGet": {"path": "/ready", "port": 8080, "scheme": "HTTP"},
            "timeoutSeconds": 1,
            "periodSeconds": 5,
            "successThreshold": 1,
            "failureThreshold": 3,
        },
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
    }


def _managed_fields(ts: str) -> list[dict[str, Any]]:
    container_fields = {
        "f:image": {},
        "f:imagePullPolicy": {},
        "f:name": {},
        "f:env": {'k:{"name":"LOG_LEVEL"}': {".": {}, "f:name": {}, "f:value": {}}},
        "f:ports": {'k:{"containerPort":8080,"protocol":"TCP"}': {".": {}, "f:containerPort": {}}},
        "f:resources": {"f:limits": {"f:cpu": {}, "f:memory": {}}, "f:requests": {"f:cpu": {}}},
        "f:volumeMounts": {'k:{"mountPath":"/etc/app"}': {".": {}, "f:mountPath": {}}},
    }
    return [
        {
            "manager": "kube-controller-manager",
            "operation": "Update",
            "apiVersion": "v1",
            "time": ts,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:metadata": {
                    "f:generateName": {},
                    "f:labels": {".": {}, "f:app": {}, "f:pod-template-hash": {}, "f:tier": {}},
                    "f:ownerReferences": {".": {}, 'k:{"uid":"0f3c"}': {}},
                },
                "f:spec": {
                    "f:containers": {
                        'k:{"name":"app"}': container_fields,
                        'k:{"name":"sidecar"}': container_fields,
                    },
                    "f:dnsPolicy": {},
                    "f:restartPolicy": {},
                    "f:schedulerName": {},
                    "f:volumes": {'k:{"name":"config"}': {".": {}, "f:configMap": {}}},
                },
            },
        },
        {
            "manager": "kube-scheduler",
            "operation": "Update",
            "apiVersion": "v1",
            "time": ts,
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:status": {"f:conditions": {'k:{"type":"PodScheduled"}': {}}}},
            "subresource": "status",
        },
        {
            "manager": "kubelet",
            "operation": "Update",
            "apiVersion": "v1",
            "time": ts,
            "fieldsType": "FieldsV1",
            "fieldsV1": {
                "f:status": {
                    "f:conditions": {
                        'k:{"type":"ContainersReady"}': {
                            ".": {},
                            "f:lastProbeTime": {},
                            "f:status": {},
                            "f:type": {},
                        },
                        'k:{"type":"Initialized"}': {".": {}, "f:status": {}, "f:type": {}},
                        'k:{"type":"Ready"}': {".": {}, "f:status": {}, "f:type": {}},
                    },
                    "f:containerStatuses": {},
                    "f:hostIP": {},
                    "f:phase": {},
                    "f:podIP": {},
                    "f:podIPs": {".": {}, 'k:{"ip":"10.42.0.1"}': {".": {}, "f:ip": {}}},
                    "f:startTime": {},
                }
            },
            "subresource": "status",
        },
    ]


def realistic_pod(i: int) -> dict[str, Any]:
    """A scheduled, running pod of a Deployment, as the API server returns it."""
    ts = f"2026-12-06T10:{i // 60 % 60:02d}:{i % 60:02d}Z"
    ip = f"10.42.{i // 250 % 250}.{i % 250 + 2}"
    name = f"web-7d9f8c6b5-{i:05x}"
    conditions = [
        {"type": t, "status": "True", "lastProbeTime": None, "lastTransitionTime": ts}
        for t in ("Initialized", "Ready", "ContainersReady", "PodScheduled")
    ]
    statuses = [
        {
            "name": cname,
            "state": {"running": {"startedAt": ts}},
            "lastState": {},
            "ready": True,
            "restartCount": 0,
            "image": f"registry.example/{cname}:1.4.2",
            "imageID": f"registry.example/{cname}@sha256:{i:064x}",
            "containerID": f"containerd://{i:064x}",
            "started": True,
        }
        for cname in ("app", "sidecar")
    ]
    return {
        "kind": "Pod",
        "apiVersion": "v1",
        "metadata": {
            "name": name,
            "generateName": "web-7d9f8c6b5-",
            "namespace": f"team-{i % 20}",
            "uid": f"{i:08x}-1f2e-4d3c-9b8a-{i:012x}",
            "resourceVersion": str(100_000 + i),
            "creationTimestamp": ts,
            "labels": {"app": "web", "pod-template-hash": "7d9f8c6b5", "tier": "frontend"},
            "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-12-01T09:00:00Z"},
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "name": "web-7d9f8c6b5",
                    "uid": "0f3c1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
            "managedFields": _managed_fields(ts),
        },
        "spec": {
            "volumes": [
                {"name": "config", "configMap": {"name": "web-config", "defaultMode": 420}},
                {
                    "name": "kube-api-access-x7k2p",
                    "projected": {
                        "sources": [
                            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                            {
                                "configMap": {
                                    "name": "kube-root-ca.crt",
                                    "items": [{"key": "ca.crt", "path": "ca.crt"}],
                                }
                            },
                        ],
                        "defaultMode": 420,
                    },
                },
            ],
            "containers": [
                _container("app", "registry.example/app:1.4.2", i),
                _container("sidecar", "registry.example/sidecar:1.4.2", i),
            ],
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": "default",
            "nodeName": f"node-{i % 100}",
            "securityContext": {},
            "schedulerName": "default-scheduler",
            "tolerations": [
                {
                    "key": "node.kubernetes.io/not-ready",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                },
                {
                    "key": "node.kubernetes.io/unreachable",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 300,
                },
            ],
            "priority": 0,
            "enableServiceLinks": True,
            "preemptionPolicy": "PreemptLowerPriority",
        },
        "status": {
            "phase": "Running",
            "conditions": conditions,
            "hostIP": f"192.0.2.{i % 100}",
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "startTime": ts,
            "containerStatuses": statuses,
            "qosClass": "Burstable",
        },
    }


def _pydantic(obj: dict[str, Any]) -> Pod:
    obj["metadata"].pop("managedFields", None)
    return Pod.model_validate(obj)


_Variant = tuple[str, Callable[[dict[str, Any]], Any], bool]
_VARIANTS: list[_Variant] = [
    ("frozen", keep_everything, True),
    ("frozen-no-mf", drop_managed_fields, True),
    ("pod-view", pod_view, True),
    ("pydantic", _pydantic, False),
    ("dict", lambda o: o, False),
]


def _fill(
    transform: Callable[[dict[str, Any]], Any], cached: bool, raw: list[dict[str, Any]]
) -> Any:
    if cached:
        indexer: Indexer[Any] = Indexer()
        for obj in raw:
            indexer.upsert(transform(obj))
        return indexer
    out: dict[int, Any] = {}
    for n, obj in enumerate(raw):
        out[n] = transform(obj)
    return out


def _decoded(blobs: list[bytes]) -> list[dict[str, Any]]:
    return [orjson.loads(b) for b in blobs]


def _cpu_us(variant: _Variant, blobs: list[bytes]) -> float:
    _, transform, cached = variant
    raw = _decoded(blobs)
    gc.collect()
    start = time.process_time()
    keep = _fill(transform, cached, raw)
    elapsed = time.process_time() - start
    del keep, raw
    return elapsed / len(blobs) * 1e6


def _read_all(value: Any) -> None:
    """Touch every node, as if every field had been read once (lazily frozen values wrap all)."""
    if isinstance(value, Mapping):
        for v in value.values():
            _read_all(v)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        for v in value:
            _read_all(v)
    elif hasattr(value, "raw"):
        _read_all(value.raw)


def _bytes_per_pod(variant: _Variant, blobs: list[bytes]) -> tuple[float, float]:
    """(bytes per pod once cached, bytes per pod after every field was read once)."""
    _, transform, cached = variant
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        raw = _decoded(blobs)
        keep = _fill(transform, cached, raw)
        del raw
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - base
        if cached:
            for obj in keep.list():
                _read_all(obj)
        gc.collect()
        held_read = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    del keep
    return held / len(blobs), held_read / len(blobs)


def run(args: argparse.Namespace) -> int:
    blobs = [orjson.dumps(realistic_pod(i)) for i in range(args.pods)]
    json_bytes = sum(len(b) for b in blobs) / len(blobs)
    rows: list[list[str]] = []
    out: dict[str, float] = {"pods": args.pods, "json_bytes_per_pod": round(json_bytes)}
    for variant in _VARIANTS:
        name = variant[0]
        cpu = statistics.median(_cpu_us(variant, blobs) for _ in range(args.rounds))
        mem, mem_read = _bytes_per_pod(variant, blobs)
        rows.append(
            [
                name,
                f"{cpu:.1f}",
                f"{mem:,.0f}",
                f"{mem_read:,.0f}",
                f"{mem * 10_000 / 2**20:.0f}-{mem_read * 10_000 / 2**20:.0f}",
            ]
        )
        out[f"{name}_cpu_us"] = round(cpu, 1)
        out[f"{name}_bytes"] = round(mem)
        out[f"{name}_bytes_all_read"] = round(mem_read)
    print_table(
        f"informer cache per pod ({args.pods:,} pods of {json_bytes:,.0f} JSON bytes each)",
        [
            "variant",
            "CPU µs/pod (transform+cache)",
            "bytes/pod cached",
            "bytes/pod all read",
            "MiB per 10,000 pods",
        ],
        rows,
    )
    print_json_line(out)
    return 0
