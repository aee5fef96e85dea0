"""The table of served resources: group, version, kind, plural, scope, short names, subresources.

This is the one place that says what the API server serves. Discovery, OpenAPI, the protobuf
decoder, the printers and the generic registry all read it; nothing else hard-codes a resource.
Models (``skiff.api.types``) are looked up by group/version/kind through ``skiff.api.types.model_for``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "RESOURCES",
    "GroupVersion",
    "ResourceInfo",
    "Subresource",
    "by_gvk",
    "by_resource",
    "group_versions",
    "lookup",
]

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
SUB_VERBS = ("get", "patch", "update")
# connect subresources (streams the API server relays to a node agent or a pod) as Kubernetes
# 1.32 lists them in discovery: exec/attach/portforward answer GET (WebSocket) and POST (SPDY),
# proxy answers every method
STREAM_VERBS = ("create", "get")
PROXY_VERBS = ("create", "delete", "get", "patch", "update")


@dataclass(frozen=True)
class GroupVersion:
    group: str
    version: str

    @property
    def api_version(self) -> str:
        """``v1`` for the core group, ``group/version`` otherwise."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def path_prefix(self) -> str:
        """``/api/v1`` for the core group, ``/apis/group/version`` otherwise."""
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"


@dataclass(frozen=True)
class Subresource:
    name: str
    kind: str
    group: str = ""  # empty: same group/version as the parent
    version: str = ""
    verbs: tuple[str, ...] = SUB_VERBS
    # a connect subresource: a stream relayed elsewhere (log, exec, attach, portforward, proxy),
    # whose kind (PodExecOptions...) names the query parameters, not a stored object
    connect: bool = False


@dataclass(frozen=True)
class ResourceInfo:
    """One served resource (a kind at one group/version)."""

    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[Subresource, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS
    # Set when objects of this resource are stored in another version of the group (several
    # versions may be served; this one converts to and from that one). Empty: stored as is.
    converts_to: str = ""
    # Whether spec changes bump metadata.generation (kinds with a spec/status split).
    has_status: bool = False
    singular: str = field(default="")
    # A custom resource's definition data (``skiff.apiserver.crd.CustomKind``): schemas, printer
    # columns, scale paths. None for built-in kinds. Not part of equality or hashing, so a
    # resource's identity is its names and shape, as for built-in kinds.
    custom: Any = field(default=None, compare=False, repr=False)

    @property
    def persisted(self) -> bool:
        """Whether objects of this resource are persisted (reviews are answered, not stored)."""
        return "get" in self.verbs

    @property
    def is_storage_version(self) -> bool:
        """Whether objects of this resource are stored in this version (no conversion)."""
        return not self.converts_to

    @property
    def gv(self) -> GroupVersion:
        return GroupVersion(self.group, self.version)

    @property
    def api_version(self) -> str:
        return self.gv.api_version

    @property
    def list_kind(self) -> str:
        return self.kind + "List"

    @property
    def singular_name(self) -> str:
        return self.singular or self.kind.lower()

    @property
    def group_resource(self) -> str:
        """``pods`` or ``deployments.apps``: the form used in error messages."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def storage_version(self) -> str:
        """The version objects of this resource are stored in."""
        return self.converts_to or self.version

    def subresource(self, name: str) -> Subresource | None:
        for sub in self.subresources:
            if sub.name == name:
                return sub
        return None


def _status(kind: str) -> Subresource:
    return Subresource("status", kind)


_SCALE = Subresource("scale", "Scale", "autoscaling", "v1")


def _r(
    gv: str,
    kind: str,
    plural: str,
    *,
    namespaced: bool = True,
    short: tuple[str, ...] = (),
    cats: tuple[str, ...] = (),
    status: bool = False,
    scale: bool = False,
    extra: tuple[Subresource, ...] = (),
    storage_version: str = "",
    verbs: tuple[str, ...] = ALL_VERBS,
) -> ResourceInfo:
    group, _, version = gv.rpartition("/")
    subs: list[Subresource] = []
    if status:
        subs.append(_status(kind))
    if scale:
        subs.append(_SCALE)
    subs.extend(extra)
    return ResourceInfo(
        group=group,
        version=version,
        kind=kind,
        plural=plural,
        namespaced=namespaced,
        short_names=short,
        categories=cats,
        subresources=tuple(subs),
        verbs=verbs,
        converts_to=storage_version,
        has_status=status,
    )


_ALL = ("all",)

RESOURCES: tuple[ResourceInfo, ...] = (
    # core/v1
    _r(
        "v1",
        "Namespace",
        "namespaces",
        namespaced=False,
        short=("ns",),
        status=True,
        extra=(Subresource("finalize", "Namespace", verbs=("update",)),),
        verbs=("create", "delete", "get", "list", "patch", "update", "watch"),
    ),
    _r(
        "v1",
        "Node",
        "nodes",
        namespaced=False,
        short=("no",),
        status=True,
        extra=(Subresource("proxy", "NodeProxyOptions", verbs=PROXY_VERBS, connect=True),),
    ),
    _r(
        "v1",
        "Pod",
        "pods",
        short=("po",),
        cats=_ALL,
        status=True,
        extra=(
            Subresource("binding", "Binding", verbs=("create",)),
            Subresource("ephemeralcontainers", "Pod"),
            Subresource("eviction", "Eviction", "policy", "v1", verbs=("create",)),
            Subresource("attach", "PodAttachOptions", verbs=STREAM_VERBS, connect=True),
            Subresource("exec", "PodExecOptions", verbs=STREAM_VERBS, connect=True),
            Subresource("log", "Pod", verbs=("get",), connect=True),
            Subresource("portforward", "PodPortForwardOptions", verbs=STREAM_VERBS, connect=True),
            Subresource("proxy", "PodProxyOptions", verbs=PROXY_VERBS, connect=True),
        ),
    ),
    _r(
        "v1",
        "Service",
        "services",
        short=("svc",),
        cats=_ALL,
        status=True,
        extra=(Subresource("proxy", "ServiceProxyOptions", verbs=PROXY_VERBS, connect=True),),
        verbs=("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"),
    ),
    # the older form of pods/binding: POST a Binding named after the pod (create only, never
    # stored; Kubernetes' LegacyBindingREST)
    _r("v1", "Binding", "bindings", verbs=("create",)),
    _r("v1", "Endpoints", "endpoints", short=("ep",)),
    _r("v1", "ConfigMap", "configmaps", short=("cm",)),
    _r("v1", "Secret", "secrets"),
    _r("v1", "Event", "events", short=("ev",)),
    _r("v1", "ServiceAccount", "serviceaccounts", short=("sa",)),
    _r(
        "v1",
        "ReplicationController",
        "replicationcontrollers",
        short=("rc",),
        cats=_ALL,
        status=True,
        scale=True,
    ),
    _r(
        "v1",
        "PersistentVolume",
        "persistentvolumes",
        namespaced=False,
        short=("pv",),
        status=True,
    ),
    _r("v1", "PersistentVolumeClaim", "persistentvolumeclaims", short=("pvc",), status=True),
    # apps/v1
    _r(
        "apps/v1",
        "Deployment",
        "deployments",
        short=("deploy",),
        cats=_ALL,
        status=True,
        scale=True,
    ),
    _r("apps/v1", "ReplicaSet", "replicasets", short=("rs",), cats=_ALL, status=True, scale=True),
    _r("apps/v1", "DaemonSet", "daemonsets", short=("ds",), cats=_ALL, status=True),
    _r(
        "apps/v1", "StatefulSet", "statefulsets", short=("sts",), cats=_ALL, status=True, scale=True
    ),
    _r("apps/v1", "ControllerRevision", "controllerrevisions"),
    # batch/v1
    _r("batch/v1", "Job", "jobs", cats=_ALL, status=True),
    _r("batch/v1", "CronJob", "cronjobs", short=("cj",), cats=_ALL, status=True),
    # autoscaling: v2 is stored, v1 converted on the way in and out
    _r(
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        short=("hpa",),
        cats=_ALL,
        status=True,
    ),
    _r(
        "autoscaling/v1",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        short=("hpa",),
        cats=_ALL,
        status=True,
        storage_version="v2",
    ),
    _r(
        "autoscaling.k8s.io/v1",
        "VerticalPodAutoscaler",
        "verticalpodautoscalers",
        short=("vpa",),
        status=True,
    ),
    # coordination, discovery, networking, policy, scheduling, rbac
    _r("coordination.k8s.io/v1", "Lease", "leases"),
    _r("discovery.k8s.io/v1", "EndpointSlice", "endpointslices"),
    _r("networking.k8s.io/v1", "Ingress", "ingresses", short=("ing",), status=True),
    _r("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies", short=("netpol",)),
    _r("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets", short=("pdb",), status=True),
    _r("scheduling.k8s.io/v1", "PriorityClass", "priorityclasses", namespaced=False, short=("pc",)),
    _r("storage.k8s.io/v1", "StorageClass", "storageclasses", namespaced=False, short=("sc",)),
    # built-in APIServices are kept by the API server; skiff proxies no aggregated API
    _r(
        "apiregistration.k8s.io/v1",
        "APIService",
        "apiservices",
        namespaced=False,
        cats=("api-extensions",),
        status=True,
    ),
    _r(
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        namespaced=False,
        short=("crd", "crds"),
        cats=("api-extensions",),
        status=True,
    ),
    _r("rbac.authorization.k8s.io/v1", "Role", "roles"),
    _r("rbac.authorization.k8s.io/v1", "ClusterRole", "clusterroles", namespaced=False),
    _r("rbac.authorization.k8s.io/v1", "RoleBinding", "rolebindings"),
    _r(
        "rbac.authorization.k8s.io/v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        namespaced=False,
    ),
    # reviews: create-only questions answered by the API server, never stored
    _r(
        "authorization.k8s.io/v1",
        "SelfSubjectAccessReview",
        "selfsubjectaccessreviews",
        namespaced=False,
        verbs=("create",),
    ),
    _r(
        "authorization.k8s.io/v1",
        "SubjectAccessReview",
        "subjectaccessreviews",
        namespaced=False,
        verbs=("create",),
    ),
    _r(
        "authorization.k8s.io/v1",
        "LocalSubjectAccessReview",
        "localsubjectaccessreviews",
        verbs=("create",),
    ),
    _r(
        "authentication.k8s.io/v1",
        "SelfSubjectReview",
        "selfsubjectreviews",
        namespaced=False,
        verbs=("create",),
    ),
)

_BY_RESOURCE: dict[tuple[str, str, str], ResourceInfo] = {
    (r.group, r.version, r.plural): r for r in RESOURCES
}
_BY_GVK: dict[tuple[str, str, str], ResourceInfo] = {
    (r.group, r.version, r.kind): r for r in RESOURCES
}


def by_resource(group: str, version: str, plural: str) -> ResourceInfo | None:
    """The resource served at ``/apis/group/version/plural`` (core group: ``group == ""``)."""
    return _BY_RESOURCE.get((group, version, plural))


def by_gvk(group: str, version: str, kind: str) -> ResourceInfo | None:
    return _BY_GVK.get((group, version, kind))


def lookup(api_version: str, kind: str) -> ResourceInfo | None:
    """The resource for an object's ``apiVersion`` and ``kind``."""
    group, _, version = api_version.rpartition("/")
    return _BY_GVK.get((group, version, kind))


def group_versions() -> list[GroupVersion]:
    """Served group/versions in preference order (first version of a group is preferred)."""
    seen: list[GroupVersion] = []
    for r in RESOURCES:
        gv = GroupVersion(r.group, r.version)
        if gv not in seen:
            seen.append(gv)
    return seen
