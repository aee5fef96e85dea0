"""Generate ``src/skiff/api/types/*.py`` from Kubernetes 1.32's published OpenAPI definitions.

Development tool only: the package never imports it, and its output is committed as ordinary code.

Input: the swagger-derived definitions of Kubernetes 1.32 as JSON Schema, e.g. the
``kubernetes-json-schema/v1.32.0-local/_definitions.json`` file shipped in the ``kubernetes-validate``
wheel (``pip download --no-deps kubernetes-validate`` and unzip it). The structure (field names,
types, required fields) and the patch metadata (``x-kubernetes-*``) come from there; the
VerticalPodAutoscaler, a CRD absent from it, is described in ``VPA_DEFINITIONS`` below from
``k8s.io/autoscaler/vertical-pod-autoscaler/pkg/apis/autoscaling.k8s.io/v1/types.go``.

Descriptions are ours, never upstream's: the generator keeps the docstrings and field descriptions
already present in the committed modules (it imports them before overwriting) and takes new ones
from ``--docs`` files in this format::

    ## core_v1.Container
    One-line description of the model.
    wireFieldName: One-line description of the field.

    ## core_v1.EphemeralContainer < core_v1.Container
    (fields not described here reuse core_v1.Container's descriptions)

Usage::

    python tools/gen_types.py --schema /path/to/_definitions.json [--docs docs.txt ...]
    ruff check --fix --select I src/skiff/api/types && ruff format src/skiff/api/types
"""

from __future__ import annotations

import argparse
import importlib
import json
import keyword
import re
import sys
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "skiff" / "api" / "types"

META = "io.k8s.apimachinery.pkg.apis.meta.v1."
VPA = "io.k8s.autoscaler.vpa.v1."

# Top-level kinds per definition package; each also gets its List unless marked with "!".
KINDS = {
    "io.k8s.api.core.v1": "Namespace Node Pod Service Endpoints ConfigMap Secret Event "
    "ServiceAccount ReplicationController Binding!",
    "io.k8s.api.apps.v1": "Deployment ReplicaSet DaemonSet StatefulSet ControllerRevision",
    "io.k8s.api.batch.v1": "Job CronJob",
    "io.k8s.api.autoscaling.v2": "HorizontalPodAutoscaler",
    "io.k8s.api.autoscaling.v1": "HorizontalPodAutoscaler Scale!",
    "io.k8s.autoscaler.vpa.v1": "VerticalPodAutoscaler",
    "io.k8s.api.coordination.v1": "Lease",
    "io.k8s.api.discovery.v1": "EndpointSlice",
    "io.k8s.api.networking.v1": "Ingress NetworkPolicy",
    "io.k8s.api.policy.v1": "PodDisruptionBudget Eviction!",
    "io.k8s.api.scheduling.v1": "PriorityClass",
    "io.k8s.api.rbac.v1": "Role ClusterRole RoleBinding ClusterRoleBinding",
}
META_ROOTS = (
    "ObjectMeta ListMeta LabelSelector OwnerReference ManagedFieldsEntry Status StatusDetails "
    "StatusCause DeleteOptions Preconditions Condition"
)

MODULES = {
    "io.k8s.apimachinery.pkg.apis.meta.v1": "meta_v1",
    "io.k8s.api.apps.v1": "apps_v1",
    "io.k8s.api.batch.v1": "batch_v1",
    "io.k8s.api.autoscaling.v1": "autoscaling_v1",
    "io.k8s.api.autoscaling.v2": "autoscaling_v2",
    "io.k8s.autoscaler.vpa.v1": "autoscaling_k8s_io_v1",
    "io.k8s.api.coordination.v1": "coordination_v1",
    "io.k8s.api.discovery.v1": "discovery_v1",
    "io.k8s.api.networking.v1": "networking_v1",
    "io.k8s.api.policy.v1": "policy_v1",
    "io.k8s.api.scheduling.v1": "scheduling_v1",
    "io.k8s.api.rbac.v1": "rbac_v1",
}

MODULE_DOCS = {
    "meta_v1": "Object and list metadata, label selectors, Status and DeleteOptions (meta/v1).\n\n"
    "These types are shared by every group; Status and DeleteOptions travel with the core group's\n"
    "``apiVersion: v1`` (or ``meta.k8s.io/v1``) on the wire.",
    "core_v1": "The core group (``apiVersion: v1``): Pod, Service, Node, Namespace and friends.\n\n"
    "The models live in private modules split by topic (``_core_common``, ``_core_volume``,\n"
    "``_core_container``, ``_core_pod``, ``_core_service``, ``_core_node``, ``_core_config``,\n"
    "``_core_namespace``, ``_core_event``, ``_core_replication``); import them from here.",
    "_core_common": "Small core/v1 types shared across topics: object references, key selectors,\n"
    "node selectors and security options.",
    "_core_volume": "core/v1 volumes: every volume source, projections and PersistentVolumeClaims.",
    "_core_container": "core/v1 containers: Container, probes, environment, resources, security\n"
    "context, and the container status reported by the node agent.",
    "_core_pod": "core/v1 Pod, its spec and status, scheduling constraints, PodTemplateSpec and "
    "Binding.",
    "_core_service": "core/v1 Service and Endpoints.",
    "_core_node": "core/v1 Node: spec, status, taints and the node agent's reports.",
    "_core_config": "core/v1 ConfigMap, Secret and ServiceAccount.",
    "_core_namespace": "core/v1 Namespace.",
    "_core_event": "core/v1 Event (the ``v1`` events that ``kubectl get events`` lists).",
    "_core_replication": "core/v1 ReplicationController.",
    "apps_v1": "The ``apps/v1`` group: Deployment, ReplicaSet, DaemonSet, StatefulSet and\n"
    "ControllerRevision.",
    "batch_v1": "The ``batch/v1`` group: Job and CronJob.",
    "autoscaling_v1": "The ``autoscaling/v1`` group: the CPU-only HorizontalPodAutoscaler and the\n"
    "Scale subresource body.",
    "autoscaling_v2": "The ``autoscaling/v2`` group: HorizontalPodAutoscaler with metrics and "
    "scaling behavior\n(the stored version of HPAs).",
    "autoscaling_k8s_io_v1": "The ``autoscaling.k8s.io/v1`` group: VerticalPodAutoscaler.\n\n"
    "Upstream this kind is a CRD (kubernetes/autoscaler); skiff serves it as a built-in kind, so\n"
    "its lists carry strategic-merge keys taken from the Go struct tags.",
    "coordination_v1": "The ``coordination.k8s.io/v1`` group: Lease.",
    "discovery_v1": "The ``discovery.k8s.io/v1`` group: EndpointSlice.",
    "networking_v1": "The ``networking.k8s.io/v1`` group: Ingress and NetworkPolicy.",
    "policy_v1": "The ``policy/v1`` group: PodDisruptionBudget and Eviction.",
    "scheduling_v1": "The ``scheduling.k8s.io/v1`` group: PriorityClass.",
    "rbac_v1": "The ``rbac.authorization.k8s.io/v1`` group: Role, ClusterRole and their bindings.",
}

CORE_COMMON = {
    "ObjectReference",
    "LocalObjectReference",
    "TypedLocalObjectReference",
    "TypedObjectReference",
    "ObjectFieldSelector",
    "ResourceFieldSelector",
    "ConfigMapKeySelector",
    "SecretKeySelector",
    "KeyToPath",
    "NodeSelector",
    "NodeSelectorTerm",
    "NodeSelectorRequirement",
    "SELinuxOptions",
    "SeccompProfile",
    "AppArmorProfile",
    "WindowsSecurityContextOptions",
    "Capabilities",
    "Sysctl",
}
CORE_VOLUME = {
    "Volume",
    "VolumeProjection",
    "DownwardAPIVolumeFile",
    "VolumeResourceRequirements",
    "ModifyVolumeStatus",
}
CORE_CONTAINER = {
    "Container",
    "EphemeralContainer",
    "ContainerPort",
    "EnvVar",
    "EnvVarSource",
    "EnvFromSource",
    "ConfigMapEnvSource",
    "SecretEnvSource",
    "ResourceRequirements",
    "ResourceClaim",
    "ResourceStatus",
    "ResourceHealth",
    "VolumeMount",
    "VolumeMountStatus",
    "VolumeDevice",
    "Probe",
    "ExecAction",
    "HTTPGetAction",
    "HTTPHeader",
    "TCPSocketAction",
    "GRPCAction",
    "SleepAction",
    "Lifecycle",
    "LifecycleHandler",
    "SecurityContext",
    "ContainerResizePolicy",
    "ContainerStatus",
    "ContainerState",
    "ContainerStateRunning",
    "ContainerStateTerminated",
    "ContainerStateWaiting",
    "ContainerUser",
    "LinuxContainerUser",
}
CORE_NODE = {
    "AttachedVolume",
    "ContainerImage",
    "DaemonEndpoint",
    "Taint",
    "ConfigMapNodeConfigSource",
}
CORE_SERVICE = {"SessionAffinityConfig", "ClientIPConfig", "PortStatus"}


def core_module(name: str) -> str:
    """The private module of a core/v1 type (topic split; the order keeps imports acyclic)."""
    if name in CORE_COMMON:
        return "_core_common"
    if (
        name in CORE_VOLUME
        or name.endswith(("VolumeSource", "Projection"))
        or name.startswith("PersistentVolumeClaim")
    ):
        return "_core_volume"
    if name in CORE_CONTAINER:
        return "_core_container"
    if name in CORE_NODE or (name.startswith("Node") and not name.startswith("NodeAffinity")):
        return "_core_node"
    if name in CORE_SERVICE or (
        name.startswith(("Service", "Endpoint", "LoadBalancer"))
        and not name.startswith("ServiceAccount")
    ):
        return "_core_service"
    if name.startswith(("ConfigMap", "Secret", "ServiceAccount")):
        return "_core_config"
    if name.startswith("Namespace"):
        return "_core_namespace"
    if name.startswith("Event"):
        return "_core_event"
    if name.startswith("ReplicationController"):
        return "_core_replication"
    return "_core_pod"


def _ref(target: str) -> dict[str, Any]:
    return {"$ref": "#/$defs/" + target}


def _arr(items: dict[str, Any], **ext: Any) -> dict[str, Any]:
    return {"type": ["array", "null"], "items": items, **ext}


_STR = {"type": ["string", "null"]}
_QTY = _ref("io.k8s.apimachinery.pkg.api.resource.Quantity")
_RESOURCES = {"type": ["object", "null"], "additionalProperties": _QTY}
_TIME = _ref(META + "Time")
_MERGE = "x-kubernetes-patch-strategy"
_KEY = "x-kubernetes-patch-merge-key"

# VerticalPodAutoscaler v1, transcribed from the Go types (json tags, omitempty => optional,
# patchStrategy/patchMergeKey tags). A CRD publishes no patch metadata; we keep the Go tags so
# strategic merge patch treats it like the built-in kinds.
VPA_DEFINITIONS: dict[str, dict[str, Any]] = {
    VPA + "VerticalPodAutoscaler": {
        "required": ["spec"],
        "x-kubernetes-group-version-kind": [
            {"group": "autoscaling.k8s.io", "version": "v1", "kind": "VerticalPodAutoscaler"}
        ],
        "properties": {
            "apiVersion": _STR,
            "kind": _STR,
            "metadata": _ref(META + "ObjectMeta"),
            "spec": _ref(VPA + "VerticalPodAutoscalerSpec"),
            "status": _ref(VPA + "VerticalPodAutoscalerStatus"),
        },
    },
    VPA + "VerticalPodAutoscalerList": {
        "required": ["items"],
        "x-kubernetes-group-version-kind": [
            {"group": "autoscaling.k8s.io", "version": "v1", "kind": "VerticalPodAutoscalerList"}
        ],
        "properties": {
            "apiVersion": _STR,
            "kind": _STR,
            "metadata": _ref(META + "ListMeta"),
            "items": {"type": "array", "items": _ref(VPA + "VerticalPodAutoscaler")},
        },
    },
    VPA + "VerticalPodAutoscalerSpec": {
        "required": ["targetRef"],
        "properties": {
            "targetRef": _ref("io.k8s.api.autoscaling.v1.CrossVersionObjectReference"),
            "updatePolicy": _ref(VPA + "PodUpdatePolicy"),
            "resourcePolicy": _ref(VPA + "PodResourcePolicy"),
            "recommenders": _arr(_ref(VPA + "VerticalPodAutoscalerRecommenderSelector")),
            "startupBoost": _ref(VPA + "StartupBoost"),
        },
    },
    VPA + "VerticalPodAutoscalerRecommenderSelector": {
        "required": ["name"],
        "properties": {"name": {"type": "string"}},
    },
    VPA + "StartupBoost": {"properties": {"cpu": _ref(VPA + "GenericStartupBoost")}},
    VPA + "GenericStartupBoost": {
        "required": ["type"],
        "properties": {
            "type": {"type": "string"},
            "factor": {"type": ["integer", "null"], "format": "int32"},
            "quantity": _QTY,
            "duration": _STR,
        },
    },
    VPA + "PodUpdatePolicy": {
        "properties": {
            "updateMode": _STR,
            "minReplicas": {"type": ["integer", "null"], "format": "int32"},
            "evictionRequirements": _arr(_ref(VPA + "EvictionRequirement")),
        }
    },
    VPA + "EvictionRequirement": {
        "required": ["resources", "changeRequirement"],
        "properties": {
            "resources": {"type": "array", "items": {"type": "string"}},
            "changeRequirement": {"type": "string"},
        },
    },
    VPA + "PodResourcePolicy": {
        "properties": {
            "containerPolicies": _arr(
                _ref(VPA + "ContainerResourcePolicy"), **{_MERGE: "merge", _KEY: "containerName"}
            ),
        }
    },
    VPA + "ContainerResourcePolicy": {
        "properties": {
            "containerName": _STR,
            "mode": _STR,
            "minAllowed": _RESOURCES,
            "maxAllowed": _RESOURCES,
            "controlledResources": _arr(_STR, **{_MERGE: "merge"}),
            "controlledValues": _STR,
            "oomBumpUpRatio": _QTY,
            "oomMinBumpUp": _QTY,
            "startupBoost": _ref(VPA + "StartupBoost"),
        }
    },
    VPA + "VerticalPodAutoscalerStatus": {
        "properties": {
            "recommendation": _ref(VPA + "RecommendedPodResources"),
            "conditions": _arr(
                _ref(VPA + "VerticalPodAutoscalerCondition"), **{_MERGE: "merge", _KEY: "type"}
            ),
        }
    },
    VPA + "RecommendedPodResources": {
        "properties": {
            "containerRecommendations": _arr(_ref(VPA + "RecommendedContainerResources")),
        }
    },
    VPA + "RecommendedContainerResources": {
        "required": ["target"],
        "properties": {
            "containerName": _STR,
            "target": {"type": "object", "additionalProperties": _QTY},
            "lowerBound": _RESOURCES,
            "upperBound": _RESOURCES,
            "uncappedTarget": _RESOURCES,
        },
    },
    VPA + "VerticalPodAutoscalerCondition": {
        "required": ["type", "status"],
        "properties": {
            "type": {"type": "string"},
            "status": {"type": "string"},
            "lastTransitionTime": _TIME,
            "reason": _STR,
            "message": _STR,
        },
    },
}

SCALARS = {
    "io.k8s.apimachinery.pkg.api.resource.Quantity": "Quantity",
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": "IntOrString",
    META + "Time": "Time",
    META + "MicroTime": "MicroTime",
    META + "FieldsV1": "FieldsV1",
    "io.k8s.apimachinery.pkg.runtime.RawExtension": "RawExtension",
}
BASE_NAMES = {"Quantity", "IntOrString", "Time", "MicroTime", "RawExtension"}
TYPE_META = ("apiVersion", "kind", "metadata")
INHERIT = "<inherit>"

# Plural acronyms that a plain camel-to-snake split would shred (``podIPs`` -> ``pod_i_ps``).
_ACRONYM_PLURALS = (("IPs", "Ips"), ("CIDRs", "Cidrs"), ("IDs", "Ids"), ("WWNs", "Wwns"))
# Names pydantic's BaseModel already uses; a field of that name would shadow it.
_RESERVED = {"schema", "json", "dict", "copy", "validate", "construct", "fields"}


def snake(name: str) -> str:
    """``podIPs`` -> ``pod_ips``, ``hostIPC`` -> ``host_ipc``, ``from`` -> ``from_``."""
    s = name
    for plural, fixed in _ACRONYM_PLURALS:
        s = s.replace(plural, fixed)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    s = s.lower()
    if keyword.iskeyword(s) or s in _RESERVED:
        s += "_"
    return s


def refs(schema: Any) -> Iterator[str]:
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key == "$ref":
                yield value.rsplit("/", 1)[-1]
            else:
                yield from refs(value)
    elif isinstance(schema, list):
        for item in schema:
            yield from refs(item)


def package(name: str) -> str:
    return name.rsplit(".", 1)[0]


def short(name: str) -> str:
    return name.rsplit(".", 1)[1]


def module_of(name: str) -> str:
    if package(name) == "io.k8s.api.core.v1":
        return core_module(short(name))
    return MODULES[package(name)]


def public_module(module: str) -> str:
    return "core_v1" if module.startswith("_core_") else module


class Generator:
    def __init__(self, defs: dict[str, Any], docs: dict[str, str]) -> None:
        self.defs = defs
        self.docs = docs
        self.roots: list[str] = []
        self.top_level: set[str] = set()
        self.lists: dict[str, str] = {}  # list definition -> item kind
        for pkg, kinds in KINDS.items():
            for entry in kinds.split():
                kind = entry.rstrip("!")
                self.roots.append(f"{pkg}.{kind}")
                self.top_level.add(f"{pkg}.{kind}")
                if not entry.endswith("!"):
                    self.roots.append(f"{pkg}.{kind}List")
                    self.top_level.add(f"{pkg}.{kind}List")
                    self.lists[f"{pkg}.{kind}List"] = kind
        for kind in META_ROOTS.split():
            self.roots.append(META + kind)
        self.top_level.update({META + "Status", META + "DeleteOptions"})
        self.closure = self._closure()

    def _closure(self) -> list[str]:
        seen: list[str] = []
        stack = list(reversed(self.roots))
        while stack:
            name = stack.pop()
            if name in seen or name in SCALARS:
                continue
            seen.append(name)
            stack.extend(reversed(list(refs(self.defs[name]))))
        return seen

    # -- types -------------------------------------------------------------------------------

    def annotation(self, schema: dict[str, Any], here: str, imports: dict[str, set[str]]) -> str:
        if "$ref" in schema:
            target = schema["$ref"].rsplit("/", 1)[-1]
            if target in SCALARS:
                scalar = SCALARS[target]
                imports["_base" if scalar in BASE_NAMES else "_fields"].add(scalar)
                return scalar
            module = module_of(target)
            if module != here:
                source = module if public_module(here) == "core_v1" else public_module(module)
                imports[source].add(short(target))
            return short(target)
        kinds = schema.get("type")
        kinds = [kinds] if isinstance(kinds, str) else [k for k in kinds if k != "null"]
        (kind,) = kinds
        if kind == "array":
            return f"list[{self.annotation(schema['items'], here, imports)}]"
        if kind == "object":
            value = self.annotation(schema["additionalProperties"], here, imports)
            return f"dict[str, {value}]"
        return {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}[kind]

    # -- emission ----------------------------------------------------------------------------

    @staticmethod
    def extension_call(schema: dict[str, Any]) -> str | None:
        ext = {k: v for k, v in schema.items() if k.startswith("x-kubernetes-")}
        if not ext:
            return None
        strategy = ext.get("x-kubernetes-patch-strategy")
        key = ext.get("x-kubernetes-patch-merge-key")
        list_type = ext.get("x-kubernetes-list-type")
        map_keys = ext.get("x-kubernetes-list-map-keys")
        map_type = ext.get("x-kubernetes-map-type")
        if map_type is not None:
            assert len(ext) == 1, ext
            return f"{map_type}_map()"
        if key is not None:
            args = [repr(key)]
            if list_type == "map" and map_keys != [key]:
                args.append(f"map_keys={tuple(map_keys)!r}")
            if strategy != "merge":
                args.append(f"strategy={strategy!r}")
            if list_type != "map":
                args.append(f"list_type={list_type!r}")
            return f"merge_list({', '.join(args)})"
        if list_type == "map" and strategy is None:
            return f"map_list({', '.join(repr(k) for k in map_keys)})"
        if list_type == "atomic" and strategy is None:
            return "atomic_list()"
        if list_type == "set":
            return "set_list()" if strategy is None else f"set_list(strategy={strategy!r})"
        if list_type is None and strategy is not None:
            return f"patch_strategy({strategy!r})"
        raise ValueError(f"unhandled extension combination {ext}")

    def model_doc(self, name: str) -> str | None:
        key = f"{public_module(module_of(name))}.{short(name)}"
        if key in self.docs:
            return self.docs[key]
        if name in self.lists:
            kind = self.lists[name]
            return f"A list of {kind} objects, as returned by the list endpoint."
        return None

    def field_doc(self, name: str, wire: str) -> str | None:
        key = f"{public_module(module_of(name))}.{short(name)}.{wire}"
        if key in self.docs:
            return self.docs[key]
        if name in self.top_level or name in self.lists:
            if wire == "apiVersion":
                return "Versioned schema of this object, e.g. ``v1`` or ``apps/v1``; set by the server."
            if wire == "kind":
                return "The object's type name in CamelCase, e.g. ``Pod``; set by the server."
        if name in self.lists:
            if wire == "metadata":
                return "List metadata: the resourceVersion of the list and the continue token."
            if wire == "items":
                return f"The {self.lists[name]} objects."
        if wire == "metadata" and name in self.top_level:
            return (
                "Standard object metadata: name, namespace, labels, annotations and the fields "
                "the server maintains."
            )
        return None

    def emit_model(self, name: str, imports: dict[str, set[str]], helpers: set[str]) -> str:
        schema = self.defs[name]
        here = module_of(name)
        lines = [f"class {short(name)}(KubeModel):"]
        doc = self.model_doc(name)
        if doc:
            lines.append(f"    {_docstring(doc)}")
            lines.append("")
        struct: list[str] = []
        if "x-kubernetes-map-type" in schema:
            struct.append(f"map_type={schema['x-kubernetes-map-type']!r}")
        gvks = schema.get("x-kubernetes-group-version-kind", [])
        if len(gvks) == 1:
            gvk = gvks[0]
            struct.append(f"gvk={(gvk['group'], gvk['version'], gvk['kind'])!r}")
        if "x-kubernetes-unions" in schema:
            struct.append(f"unions={schema['x-kubernetes-unions']!r}")
        if struct:
            imports["pydantic"].add("ConfigDict")
            helpers.add("struct_extensions")
            lines.append(
                "    model_config = ConfigDict("
                f"json_schema_extra=struct_extensions({', '.join(struct)}))"
            )
        props: dict[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", []))
        top = name in self.top_level
        order = [w for w in TYPE_META if w in props and top] + sorted(
            w for w in props if not (top and w in TYPE_META)
        )
        for wire in order:
            prop = props[wire]
            annotation = self.annotation(prop, here, imports)
            is_required = wire in required and not (top and wire in TYPE_META)
            args = [] if is_required else ["None"]
            args.append(f"alias={wire!r}")
            desc = self.field_doc(name, wire)
            if desc:
                args.append(f"description={desc!r}")
            call = self.extension_call(prop)
            if call:
                helpers.add(call.split("(", 1)[0])
                args.append(f"json_schema_extra={call}")
            typ = annotation if is_required else f"{annotation} | None"
            lines.append(f"    {snake(wire)}: {typ} = Field({', '.join(args)})")
        if not props:
            lines.append("    pass")
        return "\n".join(lines)

    def modules(self) -> dict[str, list[str]]:
        grouped: dict[str, list[str]] = {}
        for name in self.closure:
            grouped.setdefault(module_of(name), []).append(name)
        return grouped

    def ordered(self, names: list[str]) -> list[str]:
        """Definitions before their users (pydantic resolves annotations at class creation)."""
        members = set(names)
        done: list[str] = []
        visiting: set[str] = set()

        def visit(name: str) -> None:
            if name in done:
                return
            if name in visiting:
                raise ValueError(f"recursive type {name}")
            visiting.add(name)
            for dep in refs(self.defs[name]):
                if dep in members:
                    visit(dep)
            visiting.discard(name)
            done.append(name)

        for name in sorted(names, key=short):
            visit(name)
        return done

    def render(self, module: str, names: list[str]) -> str:
        imports: dict[str, set[str]] = defaultdict(set)
        imports["pydantic"].add("Field")
        imports["_base"].add("KubeModel")
        helpers: set[str] = set()
        bodies = [self.emit_model(name, imports, helpers) for name in self.ordered(names)]
        imports["_fields"].update(helpers)
        out = [f'"""{MODULE_DOCS[module]}\n"""', ""]
        out.append(f"from pydantic import {', '.join(sorted(imports.pop('pydantic')))}")
        out.append("")
        for source in sorted(imports):
            if imports[source]:
                out.append(
                    f"from skiff.api.types.{source} import {', '.join(sorted(imports[source]))}"
                )
        out.append("")
        exported = sorted(short(n) for n in names)
        out.append(f"__all__ = {exported!r}")
        out.append("")
        for body in bodies:
            out.append("")
            out.append(body)
            out.append("")
        return "\n".join(out)

    def check_acyclic(self, grouped: dict[str, list[str]]) -> None:
        edges: dict[str, set[str]] = {m: set() for m in grouped}
        for module, names in grouped.items():
            for name in names:
                for dep in refs(self.defs[name]):
                    if dep in SCALARS:
                        continue
                    other = module_of(dep)
                    if other != module:
                        edges[module].add(other)
        state: dict[str, int] = {}

        def visit(module: str, path: list[str]) -> None:
            if state.get(module) == 2:
                return
            if state.get(module) == 1:
                raise ValueError(f"import cycle: {' -> '.join([*path, module])}")
            state[module] = 1
            for other in sorted(edges[module]):
                visit(other, [*path, module])
            state[module] = 2

        for module in sorted(edges):
            visit(module, [])

    def write(self) -> list[Path]:
        grouped = self.modules()
        self.check_acyclic(grouped)
        written = []
        for module, names in sorted(grouped.items()):
            path = OUT / f"{module}.py"
            path.write_text(self.render(module, names))
            written.append(path)
        core = sorted(m for m in grouped if m.startswith("_core_"))
        facade = [f'"""{MODULE_DOCS["core_v1"]}\n"""', ""]
        names: list[str] = []
        for module in core:
            members = sorted(short(n) for n in grouped[module])
            names.extend(members)
            facade.append(f"from skiff.api.types.{module} import {', '.join(members)}")
        facade.append("")
        facade.append(f"__all__ = {sorted(names)!r}")
        path = OUT / "core_v1.py"
        path.write_text("\n".join(facade) + "\n")
        written.append(path)
        return written


def _docstring(text: str) -> str:
    text = text.replace("\\", "\\\\")
    assert '"""' not in text, text
    return f'"""{text}"""'


def harvest_docs() -> dict[str, str]:
    """Descriptions already written into the committed modules, keyed like the ``--docs`` files."""
    from pydantic import BaseModel

    docs: dict[str, str] = {}
    sys.path.insert(0, str(ROOT / "src"))
    for module in [*MODULES.values(), "core_v1"]:
        try:
            mod = importlib.import_module(f"skiff.api.types.{module}")
        except ModuleNotFoundError:
            continue
        for cls_name in getattr(mod, "__all__", []):
            cls = getattr(mod, cls_name)
            if not (isinstance(cls, type) and issubclass(cls, BaseModel)):
                continue
            if cls.__doc__:
                docs[f"{module}.{cls_name}"] = " ".join(cls.__doc__.split())
            for field in cls.model_fields.values():
                if field.description and field.alias:
                    docs[f"{module}.{cls_name}.{field.alias}"] = field.description
    return docs


def parse_docs(text: str) -> dict[str, str]:
    docs: dict[str, str] = {}
    current: str | None = None
    expect_model_line = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#!"):
            continue
        if line.startswith("## "):
            current, _, base = (part.strip() for part in line[3:].partition("<"))
            if base:
                # Field descriptions not given in this section are taken from the base model.
                docs[f"{INHERIT}{current}"] = base
            expect_model_line = True
            continue
        if current is None:
            raise ValueError(f"doc line outside a section: {line}")
        if expect_model_line and not re.match(r"^[a-zA-Z0-9_$]+: ", line):
            docs[current] = line
            expect_model_line = False
            continue
        expect_model_line = False
        wire, _, desc = line.partition(": ")
        docs[f"{current}.{wire}"] = desc.strip()
    return docs


def resolve_inheritance(docs: dict[str, str]) -> None:
    for key, base in [(k, v) for k, v in docs.items() if k.startswith(INHERIT)]:
        model = key.removeprefix(INHERIT)
        for source, text in list(docs.items()):
            if source.startswith(base + "."):
                docs.setdefault(model + source.removeprefix(base), text)
        del docs[key]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--schema", required=True, type=Path)
    parser.add_argument("--docs", action="append", default=[], type=Path)
    parser.add_argument("--no-harvest", action="store_true", help="ignore committed descriptions")
    args = parser.parse_args()
    defs = json.loads(args.schema.read_text())["$defs"]
    defs.update(VPA_DEFINITIONS)
    docs = {} if args.no_harvest else harvest_docs()
    for path in args.docs:
        docs.update(parse_docs(path.read_text()))
    resolve_inheritance(docs)
    generator = Generator(defs, docs)
    for path in generator.write():
        print(path.relative_to(ROOT))


if __name__ == "__main__":
    main()
