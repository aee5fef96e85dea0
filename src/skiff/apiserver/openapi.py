"""OpenAPI v3 documents for ``/openapi/v3`` and ``/openapi/v3/<api|apis/group>/<version>``.

kubectl needs them for two things (kubectl-wire.md §4.2): ``apply``/``create -f``/``replace -f``
look up the PATCH operation of the kind and, when it has a ``fieldValidation`` parameter, leave
validation to the server; ``explain`` prints the schemas' descriptions. Client-side apply also
reads the strategic-merge metadata (``x-kubernetes-patch-strategy``/``-merge-key``) from them.

The documents follow the structure of upstream's ``api/openapi-spec/v3/*.json`` (kube-openapi's
builder3): one document per group/version with ``paths`` for every resource, subresource and verb
the registry serves, each operation tagged with ``x-kubernetes-action`` and
``x-kubernetes-group-version-kind``, and ``components.schemas`` generated from our pydantic models
(``skiff.api.types.model_for``) and reshaped the way Kubernetes writes them:

- schema names are Go-package qualified (``io.k8s.api.apps.v1.Deployment``,
  ``io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta``), derived from the model's module;
- a field that refers to another schema is ``{"allOf": [{"$ref": ...}], "description": ...}``
  because OpenAPI 3.0 ignores siblings of ``$ref`` and kubectl explain reads the description there;
  non-nullable struct fields also carry ``"default": {}`` as upstream's non-pointer structs do;
- pydantic's ``anyOf: [X, {"type": "null"}]`` for optional fields becomes plain ``X``, titles and
  ``additionalProperties: false`` are dropped, enums are inlined;
- top-level kinds carry ``x-kubernetes-group-version-kind`` (a list of ``{group, version, kind}``).

A kind without a model gets ``{"type": "object", "x-kubernetes-preserve-unknown-fields": true}`` so
the paths (and therefore ``apply``) keep working while the models are incomplete.

Documents are built once per ``extra`` set and cached with their hash (uppercase hex SHA-512 of the
serialized bytes, as upstream's handler3 uses for ``?hash=``); they only depend on the registry and
the models.
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import re
import sys
import warnings
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

import orjson
from pydantic import BaseModel
from pydantic.json_schema import (
    CoreModeRef,
    DefsRef,
    GenerateJsonSchema,
    PydanticJsonSchemaWarning,
    models_json_schema,
)

from skiff.api.resources import GroupVersion, ResourceInfo, Subresource
from skiff.apiserver.discovery import served_group_versions, served_resources, subresource_gvk

__all__ = [
    "KUBERNETES_VERSION",
    "ModelLookup",
    "build_openapi_v3_document",
    "component_schemas",
    "default_model_lookup",
    "openapi_v3_document",
    "openapi_v3_documents",
    "openapi_v3_index",
    "openapi_v3_path",
    "schema_name",
]

KUBERNETES_VERSION = "v1.32.4"

ModelLookup = Callable[[str, str, str], type[BaseModel] | None]
"""``(group, version, kind) -> model class or None``; the default asks ``skiff.api.types``."""

_REF_PREFIX = "#/components/schemas/"
_META = "io.k8s.apimachinery.pkg.apis.meta.v1"
_PATCH_SCHEMA = f"{_META}.Patch"
_STATUS_SCHEMA = f"{_META}.Status"
_DELETE_OPTIONS_SCHEMA = f"{_META}.DeleteOptions"
_JSON = "application/json"

# Model modules (the part after ``skiff.api.types.``) whose Go package does not follow the
# ``io.k8s.api.<first segment of the group>.<version>`` rule.
_PACKAGE_OVERRIDES: dict[str, str] = {
    "meta_v1": _META,
    "meta": _META,
    "runtime": "io.k8s.apimachinery.pkg.runtime",
    "intstr": "io.k8s.apimachinery.pkg.util.intstr",
    "resource": "io.k8s.apimachinery.pkg.api.resource",
    "autoscaling_k8s_io_v1": "io.k8s.autoscaler.vpa.v1",
    "apiregistration_v1": "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1",
    "metrics_k8s_io_v1beta1": "io.k8s.metrics.pkg.apis.metrics.v1beta1",
}
# The same rule keyed by API group, for kinds that have no model (fallback schema names).
_GROUP_OVERRIDES: dict[str, str] = {
    "autoscaling.k8s.io": "io.k8s.autoscaler.vpa",
    "apiregistration.k8s.io": "io.k8s.kube-aggregator.pkg.apis.apiregistration",
    "metrics.k8s.io": "io.k8s.metrics.pkg.apis.metrics",
}
_TYPES_PACKAGE = "skiff.api.types"
_MODULE_RE = re.compile(r"^(?P<group>[a-z0-9_]+?)_(?P<version>v\d+(?:(?:alpha|beta)\d+)?)$")

# Where the apimachinery kinds the operations refer to may be modelled.
_META_LOCATIONS = (("meta.k8s.io", "v1"), ("", "v1"))

_INT_OR_STRING_SCHEMA = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
_QUANTITY_SCHEMA = "io.k8s.apimachinery.pkg.api.resource.Quantity"
# Int-or-string scalars (``skiff.api.types._base``) by their ``format``: the named schema used.
_NAMED_SCALARS = {"int-or-string": _INT_OR_STRING_SCHEMA, "quantity": _QUANTITY_SCHEMA}
_SCALAR_SCHEMAS: dict[str, dict[str, Any]] = {
    _INT_OR_STRING_SCHEMA: {
        "description": "An integer or a string, e.g. a port number or name, or 25%.",
        "format": "int-or-string",
        "oneOf": [{"type": "integer"}, {"type": "string"}],
        "x-kubernetes-int-or-string": True,
    },
    _QUANTITY_SCHEMA: {
        "description": "A fixed-point number with an optional unit suffix, e.g. 100m, 1.5, 2Gi "
        "or 1e3; numbers are accepted and kept as strings.",
        "format": "quantity",
        "oneOf": [{"type": "string"}, {"type": "number"}],
        "x-kubernetes-int-or-string": True,
    },
}


# ---------------------------------------------------------------------------------------------
# model lookup and naming


def default_model_lookup(group: str, version: str, kind: str) -> type[BaseModel] | None:
    """The pydantic model for a kind via ``skiff.api.types.model_for``; None if there is none.

    ``<Kind>List`` kinds go through ``list_model_for(group, version, kind)``. Tolerates the models
    package lacking either function and lookups raising ``LookupError`` for unknown kinds, so
    OpenAPI degrades to untyped schemas instead of failing.
    """
    try:
        types_module = importlib.import_module(_TYPES_PACKAGE)
    except ImportError:
        return None
    model = _call(getattr(types_module, "model_for", None), group, version, kind)
    if model is None and kind.endswith("List"):
        # List kinds have their own lookup, keyed by the item kind.
        list_model_for = getattr(types_module, "list_model_for", None)
        model = _call(list_model_for, group, version, kind.removesuffix("List"))
    return model


def _call(lookup: Any, group: str, version: str, kind: str) -> type[BaseModel] | None:
    if lookup is None:
        return None
    try:
        model = lookup(group, version, kind)
    except (LookupError, ValueError, ImportError, AttributeError):
        # A kind the models package cannot produce (yet) is documented as an open object.
        return None
    if isinstance(model, type) and issubclass(model, BaseModel):
        return model
    return None


def _group_package(group: str, version: str) -> str:
    """``io.k8s.api.apps.v1`` for ``apps``/``v1``; ``io.k8s.api.core.v1`` for the core group."""
    if group in _GROUP_OVERRIDES:
        return f"{_GROUP_OVERRIDES[group]}.{version}"
    return f"io.k8s.api.{group.split('.')[0] if group else 'core'}.{version}"


def _public_module(module: str, name: str) -> str:
    """The public module of the types package that exports ``name`` defined in ``module``.

    Models may live in private topic modules (``_core_pod``) re-exported by the group/version
    module (``core_v1``); the latter decides the Go package.
    """
    local = module[len(_TYPES_PACKAGE) + 1 :]
    if not local.startswith("_"):
        return module
    cls = getattr(sys.modules.get(module), name, None)
    for candidate, mod in list(sys.modules.items()):
        if not candidate.startswith(_TYPES_PACKAGE + ".") or mod is None:
            continue
        if candidate[len(_TYPES_PACKAGE) + 1 :].startswith("_"):
            continue
        if name in getattr(mod, "__all__", ()) and getattr(mod, name, None) is cls:
            return candidate
    return module


def _module_package(module: str, name: str) -> str:
    """The Go-style package name for a class ``name`` defined in the Python module ``module``."""
    if module.startswith(_TYPES_PACKAGE + "."):
        local = _public_module(module, name)[len(_TYPES_PACKAGE) + 1 :]
        local = local.replace(".", "_").lstrip("_")
        if local in _PACKAGE_OVERRIDES:
            return _PACKAGE_OVERRIDES[local]
        match = _MODULE_RE.match(local)
        if match:
            group = match["group"].removesuffix("_k8s_io").split("_")[0]
            return f"io.k8s.api.{group}.{match['version']}"
        return f"io.k8s.api.{local}"
    # Models outside the types package (test stand-ins, future extensions): keep them apart.
    return "io.skiff." + re.sub(r"[^A-Za-z0-9.]", "_", module)


def schema_name(model: type) -> str:
    """The ``components.schemas`` key of a model: its Go-style package plus its class name."""
    name = model.__qualname__.split(".")[-1]
    return f"{_module_package(model.__module__, name)}.{name}"


def _split_core_ref(core_ref: str) -> tuple[str, str] | None:
    # pydantic's core refs are "<module>.<qualname>:<id>"; generic parametrisations contain
    # brackets and are left to pydantic's own naming.
    if any(c in core_ref for c in "[],"):
        return None
    path = core_ref.rsplit(":", 1)[0]
    parts = path.split(".")
    for i in range(len(parts) - 1, 0, -1):
        module = ".".join(parts[:i])
        if module in sys.modules:
            return module, parts[-1]
    return None


class _KubernetesNames(GenerateJsonSchema):
    """pydantic's schema generator with Kubernetes-style definition names."""

    def get_defs_ref(self, core_mode_ref: CoreModeRef) -> DefsRef:
        split = _split_core_ref(core_mode_ref[0])
        if split is None:
            return super().get_defs_ref(core_mode_ref)
        module, name = split
        ref = DefsRef(f"{_module_package(module, name)}.{name}")
        # A single choice: the remapping step then keeps this name as it is.
        self._prioritized_defsref_choices[ref] = [ref]
        return ref


# ---------------------------------------------------------------------------------------------
# schema post-processing


def _is_object_schema(schema: Any) -> bool:
    if not isinstance(schema, dict):
        return False
    return schema.get("type", "object") == "object" or "properties" in schema


def _is_int_or_string(schema: dict[str, Any]) -> bool:
    return schema.get("x-kubernetes-int-or-string") is True


def _is_null(schema: Any) -> bool:
    return isinstance(schema, dict) and schema == {"type": "null"}


class _Reshaper:
    """Rewrites pydantic's JSON schema into the shape of Kubernetes' OpenAPI v3 schemas."""

    def __init__(self, defs: dict[str, Any]) -> None:
        self._defs = defs
        # Names of the _NAMED_SCALARS schemas referred to so far.
        self.used_scalars: set[str] = set()

    def _is_object_def(self, ref: str) -> bool:
        target = self._defs.get(ref.removeprefix(_REF_PREFIX))
        # Unknown targets (not in this generation) stay references.
        return target is None or _is_object_schema(target)

    def definition(self, schema: dict[str, Any]) -> dict[str, Any]:
        node: dict[str, Any] = self._node(schema, field=False)
        return node

    def _node(self, schema: Any, *, field: bool) -> Any:
        if not isinstance(schema, dict):
            return schema
        node = dict(schema)
        node.pop("title", None)
        if node.get("additionalProperties") is False:
            # extra="forbid" is our validation choice; Kubernetes schemas never say it.
            del node["additionalProperties"]
        if "default" in node and node["default"] is None:
            del node["default"]
        nullable = False
        any_of = node.get("anyOf")
        if isinstance(any_of, list) and any(_is_null(s) for s in any_of):
            nullable = True
            rest = [s for s in any_of if not _is_null(s)]
            del node["anyOf"]
            if len(rest) == 1 and isinstance(rest[0], dict):
                # The wrapper's own keys (description, x-kubernetes-*) win over the inner ones.
                node = {**rest[0], **node}
            elif rest:
                node["anyOf"] = rest
        ref = node.get("$ref")
        if isinstance(ref, str) and not self._is_object_def(ref):
            # Enums and other scalar definitions are written inline, as upstream does.
            target = self._defs[ref.removeprefix(_REF_PREFIX)]
            del node["$ref"]
            node = {**self._node(target, field=False), **node}
        for key in ("properties", "patternProperties"):
            if isinstance(node.get(key), dict):
                node[key] = {k: self._node(v, field=True) for k, v in node[key].items()}
        if isinstance(node.get("items"), dict):
            node["items"] = self._node(node["items"], field=True)
        if isinstance(node.get("additionalProperties"), dict):
            node["additionalProperties"] = self._node(node["additionalProperties"], field=False)
        for key in ("allOf", "anyOf", "oneOf"):
            if isinstance(node.get(key), list):
                node[key] = [self._node(s, field=False) for s in node[key]]
        ref = node.get("$ref")
        if isinstance(ref, str) and field and not nullable and "default" not in node:
            # Non-optional struct fields (Go non-pointer structs) default to an empty object.
            node["default"] = {}
        named = _NAMED_SCALARS.get(node.get("format", "")) if _is_int_or_string(node) else None
        if named is not None:
            # Upstream refers to apimachinery's IntOrString and Quantity by name; kubectl
            # explain then prints <IntOrString> and <map[string]Quantity>.
            for key in ("format", "type", "x-kubernetes-int-or-string"):
                node.pop(key, None)
            self.used_scalars.add(named)
            ref = _REF_PREFIX + named
            node = {"$ref": ref, **node}
        if isinstance(ref, str) and len(node) > 1:
            del node["$ref"]
            node = {"allOf": [{"$ref": ref}], **node}
        return node


def _object_schema(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": True,
    }


# ---------------------------------------------------------------------------------------------
# operations


def _param(name: str, description: str, *, type_: str = "string", where: str = "query") -> Any:
    param: dict[str, Any] = {
        "description": description,
        "in": where,
        "name": name,
        "schema": {"type": type_, "uniqueItems": True},
    }
    if where == "path":
        param["required"] = True
    return param


_PRETTY = _param("pretty", "If 'true', the output is indented for humans.")
_NAMESPACE = _param(
    "namespace", "object name and auth scope, such as for teams and projects", where="path"
)
_DRY_RUN = _param(
    "dryRun",
    "When present, the request is fully processed but nothing is persisted. Valid values: All.",
)
_FIELD_MANAGER = _param(
    "fieldManager",
    "Name of the actor making the change, recorded in managedFields. Required for apply patches.",
)
_FIELD_VALIDATION = _param(
    "fieldValidation",
    "How to treat unknown or duplicated fields in the request body: Ignore drops them, Warn "
    "drops them and adds a Warning header, Strict rejects the request with 400.",
)
_FORCE = _param(
    "force",
    "Make an apply request take ownership of fields managed by others. Only for apply patches.",
    type_="boolean",
)
_LIST_PARAMS = [
    _param("allowWatchBookmarks", "Ask for BOOKMARK events on a watch.", type_="boolean"),
    _param("continue", "The continue token of the previous page of a paginated list."),
    _param(
        "fieldSelector", "Restrict the list to objects whose fields match, e.g. spec.nodeName=n1."
    ),
    _param(
        "labelSelector", "Restrict the list to objects whose labels match, e.g. app=web,tier!=db."
    ),
    _param("limit", "The maximum number of objects in one page of the list.", type_="integer"),
    _param("resourceVersion", "The resourceVersion the list or watch starts from."),
    _param("resourceVersionMatch", "How resourceVersion applies to a list: Exact or NotOlderThan."),
    _param(
        "sendInitialEvents",
        "Start a watch with ADDED events for the current objects, then a bookmark.",
        type_="boolean",
    ),
    _param("timeoutSeconds", "End the list or watch after this many seconds.", type_="integer"),
    _param("watch", "Stream add, update and delete events instead of listing.", type_="boolean"),
]
_DELETE_PARAMS = [
    _DRY_RUN,
    _param(
        "gracePeriodSeconds",
        "Seconds before the object is deleted; 0 deletes immediately.",
        type_="integer",
    ),
    _param(
        "orphanDependents",
        "Deprecated; use propagationPolicy. Whether dependents are orphaned.",
        type_="boolean",
    ),
    _param(
        "propagationPolicy",
        "Garbage collection of dependents: Orphan, Background or Foreground.",
    ),
]
_PATCH_TYPES = (
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)

_VERB_TO_METHOD = {
    "get": "get",
    "update": "put",
    "patch": "patch",
    "create": "post",
    "delete": "delete",
}
_METHOD_TO_OP = {
    "get": "read",
    "put": "replace",
    "patch": "patch",
    "post": "create",
    "delete": "delete",
}
_METHOD_TO_WORDS = {
    "get": "read",
    "put": "replace",
    "patch": "partially update",
    "post": "create",
    "delete": "delete",
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF_PREFIX + name}


def _responses(schema: str, codes: Iterable[str]) -> dict[str, Any]:
    words = {"200": "OK", "201": "Created", "202": "Accepted"}
    out: dict[str, Any] = {
        code: {"content": {_JSON: {"schema": _ref(schema)}}, "description": words[code]}
        for code in codes
    }
    out["401"] = {"description": "Unauthorized"}
    return out


def _camel(text: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in re.split(r"[.\-_]", text) if p)


class _PathBuilder:
    """Builds the ``paths`` of one group/version document."""

    def __init__(
        self, gv: GroupVersion, served_groups: set[str], schema_of: dict[tuple[str, str, str], str]
    ) -> None:
        self._gv = gv
        self._schema_of = schema_of
        group = gv.group
        if group.endswith(".k8s.io") and group.removesuffix(".k8s.io") not in served_groups:
            # Built-in groups drop the suffix (rbac.authorization.k8s.io -> RbacAuthorization),
            # unless that would collide with another group (autoscaling.k8s.io vs autoscaling).
            group = group.removesuffix(".k8s.io")
        self._op_group = (_camel(group) if group else "Core") + _camel(gv.version)
        self._tag = f"{(group or 'core').replace('.', '_')}_{gv.version}"
        self.paths: dict[str, dict[str, Any]] = {}

    def _gvk(self, group: str, version: str, kind: str) -> dict[str, str]:
        return {"group": group, "kind": kind, "version": version}

    def _schema(self, group: str, version: str, kind: str) -> str:
        return self._schema_of[(group, version, kind)]

    def _op(
        self,
        *,
        op_id: str,
        description: str,
        action: str,
        gvk: dict[str, str],
        parameters: list[dict[str, Any]],
        responses: dict[str, Any],
        body: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        op: dict[str, Any] = {"description": description, "operationId": op_id}
        if parameters:
            op["parameters"] = parameters
        if body is not None:
            op["requestBody"] = body
        op["responses"] = responses
        op["tags"] = [self._tag]
        op["x-kubernetes-action"] = action
        op["x-kubernetes-group-version-kind"] = gvk
        return op

    def add(self, r: ResourceInfo) -> None:
        prefix = self._gv.path_prefix
        scope = "Namespaced" if r.namespaced else ""
        base = (
            f"{prefix}/namespaces/{{namespace}}/{r.plural}"
            if r.namespaced
            else f"{prefix}/{r.plural}"
        )
        gvk = self._gvk(r.group, r.version, r.kind)
        schema = self._schema(r.group, r.version, r.kind)
        list_schema = self._schema(r.group, r.version, r.list_kind)
        scope_params = [_NAMESPACE] if r.namespaced else []
        verbs = set(r.verbs)

        collection: dict[str, Any] = {}
        if "list" in verbs:
            collection["get"] = self._op(
                op_id=f"list{self._op_group}{scope}{r.kind}",
                description=f"list or watch objects of kind {r.kind}",
                action="list",
                gvk=gvk,
                parameters=list(_LIST_PARAMS),
                responses=_responses(list_schema, ["200"]),
            )
        if "create" in verbs:
            collection["post"] = self._op(
                op_id=f"create{self._op_group}{scope}{r.kind}",
                description=f"create a {r.kind}",
                action="post",
                gvk=gvk,
                parameters=[_DRY_RUN, _FIELD_MANAGER, _FIELD_VALIDATION],
                responses=_responses(schema, ["200", "201", "202"]),
                body={"content": {"*/*": {"schema": _ref(schema)}}, "required": True},
            )
        if "deletecollection" in verbs:
            collection["delete"] = self._op(
                op_id=f"delete{self._op_group}Collection{scope}{r.kind}",
                description=f"delete collection of {r.kind}",
                action="deletecollection",
                gvk=gvk,
                parameters=[*_LIST_PARAMS, *_DELETE_PARAMS],
                responses=_responses(_STATUS_SCHEMA, ["200"]),
                body={"content": {"*/*": {"schema": _ref(_DELETE_OPTIONS_SCHEMA)}}},
            )
        if collection:
            collection["parameters"] = [*scope_params, _PRETTY]
            self.paths[base] = collection
        if r.namespaced and "list" in verbs:
            self.paths[f"{prefix}/{r.plural}"] = {
                "get": self._op(
                    op_id=f"list{self._op_group}{r.kind}ForAllNamespaces",
                    description=f"list or watch objects of kind {r.kind}",
                    action="list",
                    gvk=gvk,
                    parameters=[],
                    responses=_responses(list_schema, ["200"]),
                ),
                "parameters": [*_LIST_PARAMS, _PRETTY],
            }

        item: dict[str, Any] = {}
        name_param = _param("name", f"name of the {r.kind}", where="path")
        for verb in ("get", "update", "patch", "delete"):
            if verb not in verbs:
                continue
            method = _VERB_TO_METHOD[verb]
            item[method] = self._item_op(r, method, gvk, schema, suffix="")
        if item:
            item["parameters"] = [name_param, *scope_params, _PRETTY]
            self.paths[f"{base}/{{name}}"] = item

        for sub in r.subresources:
            self._add_subresource(r, sub, base, [name_param, *scope_params, _PRETTY])

    def _item_op(
        self,
        r: ResourceInfo,
        method: str,
        gvk: dict[str, str],
        schema: str,
        *,
        suffix: str,
        subject: str = "",
    ) -> dict[str, Any]:
        op_id = f"{_METHOD_TO_OP[method]}{self._op_group}{'Namespaced' if r.namespaced else ''}{r.kind}{suffix}"
        what = subject or f"the specified {r.kind}"
        description = f"{_METHOD_TO_WORDS[method]} {what}"
        if method == "get":
            return self._op(
                op_id=op_id,
                description=description,
                action="get",
                gvk=gvk,
                parameters=[],
                responses=_responses(schema, ["200"]),
            )
        if method == "put":
            return self._op(
                op_id=op_id,
                description=description,
                action="put",
                gvk=gvk,
                parameters=[_DRY_RUN, _FIELD_MANAGER, _FIELD_VALIDATION],
                responses=_responses(schema, ["200", "201"]),
                body={"content": {"*/*": {"schema": _ref(schema)}}, "required": True},
            )
        if method == "patch":
            return self._op(
                op_id=op_id,
                description=description,
                action="patch",
                gvk=gvk,
                parameters=[_DRY_RUN, _FIELD_MANAGER, _FIELD_VALIDATION, _FORCE],
                responses=_responses(schema, ["200", "201"]),
                body={
                    "content": {t: {"schema": _ref(_PATCH_SCHEMA)} for t in _PATCH_TYPES},
                    "required": True,
                },
            )
        if method == "post":
            return self._op(
                op_id=op_id,
                description=description,
                action="post",
                gvk=gvk,
                parameters=[_DRY_RUN, _FIELD_MANAGER, _FIELD_VALIDATION],
                responses=_responses(schema, ["200", "201", "202"]),
                body={"content": {"*/*": {"schema": _ref(schema)}}, "required": True},
            )
        return self._op(
            op_id=op_id,
            description=description,
            action="delete",
            gvk=gvk,
            parameters=list(_DELETE_PARAMS),
            responses=_responses(schema, ["200", "202"]),
            body={"content": {"*/*": {"schema": _ref(_DELETE_OPTIONS_SCHEMA)}}},
        )

    def _add_subresource(
        self, r: ResourceInfo, sub: Subresource, base: str, parameters: list[dict[str, Any]]
    ) -> None:
        group, version, kind = subresource_gvk(r, sub)
        gvk = self._gvk(group, version, kind)
        schema = self._schema(group, version, kind)
        entry: dict[str, Any] = {}
        for verb in sub.verbs:
            method = _VERB_TO_METHOD.get(verb)
            if method is None or method in entry:
                continue
            entry[method] = self._item_op(
                r,
                method,
                gvk,
                schema,
                suffix=_camel(sub.name),
                subject=f"{sub.name} of the specified {r.kind}",
            )
        if entry:
            entry["parameters"] = parameters
            self.paths[f"{base}/{{name}}/{sub.name}"] = entry


# ---------------------------------------------------------------------------------------------
# documents


def _kinds_of(resources: Sequence[ResourceInfo]) -> list[tuple[str, str, str]]:
    """Every group/version/kind the operations of these resources answer with or accept."""
    out: dict[tuple[str, str, str], None] = {}
    for r in resources:
        out.setdefault((r.group, r.version, r.kind), None)
        out.setdefault((r.group, r.version, r.list_kind), None)
        for sub in r.subresources:
            out.setdefault(subresource_gvk(r, sub), None)
    return list(out)


def _generate_schemas(models: Sequence[type[BaseModel]]) -> dict[str, Any]:
    if not models:
        return {}
    with warnings.catch_warnings():
        # Defaults that cannot be rendered (factories) are simply left out of the schema.
        warnings.simplefilter("ignore", PydanticJsonSchemaWarning)
        _, top = models_json_schema(
            [(m, "validation") for m in models],
            by_alias=True,
            ref_template=_REF_PREFIX + "{model}",
            schema_generator=_KubernetesNames,
        )
    defs: dict[str, Any] = top.get("$defs", {})
    reshaper = _Reshaper(defs)
    # Scalar definitions (enums) are inlined where they are used, not listed on their own.
    out = {
        name: reshaper.definition(schema)
        for name, schema in sorted(defs.items())
        if _is_object_schema(schema)
    }
    for name in reshaper.used_scalars:
        out[name] = copy.deepcopy(_SCALAR_SCHEMAS[name])
    return out


def component_schemas(models: Sequence[type[BaseModel]]) -> dict[str, Any]:
    """``components.schemas`` entries of ``models`` and what they reference (custom resource
    documents take ObjectMeta and ListMeta from here)."""
    return _generate_schemas(models)


def build_openapi_v3_document(
    gv: GroupVersion,
    resources: Sequence[ResourceInfo],
    *,
    model_lookup: ModelLookup = default_model_lookup,
    served_groups: Iterable[str] = (),
) -> dict[str, Any]:
    """The OpenAPI v3 document of one group/version (not cached; see ``openapi_v3_document``).

    ``resources`` may contain resources of other group/versions; only ``gv``'s are described.
    ``served_groups`` (added to the groups of ``resources``) keeps operation ids unambiguous:
    ``autoscaling.k8s.io`` keeps its suffix in ids when ``autoscaling`` is served too.
    """
    mine = [r for r in resources if r.gv == gv]
    gvks = _kinds_of(mine)
    models: dict[tuple[str, str, str], type[BaseModel]] = {}
    for group, version, kind in gvks:
        model = model_lookup(group, version, kind)
        if model is not None:
            models[(group, version, kind)] = model
    meta_models: dict[str, type[BaseModel]] = {}
    for kind in ("Status", "DeleteOptions"):
        for group, version in _META_LOCATIONS:
            model = model_lookup(group, version, kind)
            if model is not None:
                meta_models[kind] = model
                break

    unique = list(dict.fromkeys([*models.values(), *meta_models.values()]))
    schemas = _generate_schemas(unique)

    schema_of: dict[tuple[str, str, str], str] = {}
    for gvk in gvks:
        group, version, kind = gvk
        model = models.get(gvk)
        name = (
            schema_name(model) if model is not None else f"{_group_package(group, version)}.{kind}"
        )
        schema_of[gvk] = name
        if name not in schemas:
            schemas[name] = _object_schema(
                f"{kind} ({group or 'core'}/{version}); not modelled yet."
            )
        ext = schemas[name].setdefault("x-kubernetes-group-version-kind", [])
        entry = {"group": group, "kind": kind, "version": version}
        if entry not in ext:
            ext.append(entry)

    status = schema_name(meta_models["Status"]) if "Status" in meta_models else _STATUS_SCHEMA
    delete_options = (
        schema_name(meta_models["DeleteOptions"])
        if "DeleteOptions" in meta_models
        else _DELETE_OPTIONS_SCHEMA
    )
    for name, description in (
        (status, "Status is the result of an operation that returns no object."),
        (delete_options, "DeleteOptions may be given when deleting an object."),
    ):
        schemas.setdefault(name, _object_schema(description))
    schemas[_PATCH_SCHEMA] = {
        "description": "The body of a PATCH request; its format depends on the Content-Type.",
        "type": "object",
    }

    builder = _PathBuilder(gv, {*served_groups, *(r.group for r in resources)}, schema_of)
    for r in mine:
        builder.add(r)
    return {
        "components": {"schemas": dict(sorted(schemas.items()))},
        "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION},
        "openapi": "3.0.0",
        "paths": dict(sorted(builder.paths.items())),
    }


def openapi_v3_path(gv: GroupVersion) -> str:
    """The key of a group/version in the ``/openapi/v3`` index: ``api/v1``, ``apis/apps/v1``."""
    return gv.path_prefix.lstrip("/")


@lru_cache(maxsize=8)
def _documents(extra: tuple[ResourceInfo, ...]) -> dict[str, tuple[bytes, str]]:
    resources = served_resources(extra)
    gvs = served_group_versions(extra)
    groups = {gv.group for gv in gvs}
    out: dict[str, tuple[bytes, str]] = {}
    for gv in gvs:
        doc = build_openapi_v3_document(gv, resources, served_groups=groups)
        body = orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)
        out[openapi_v3_path(gv)] = (body, hashlib.sha512(body).hexdigest().upper())
    return out


def openapi_v3_documents(*, extra: tuple[ResourceInfo, ...] = ()) -> dict[str, tuple[bytes, str]]:
    """Every served group/version's serialized document and hash, by index path (shared)."""
    return _documents(extra)


def openapi_v3_document(
    path: str, *, extra: tuple[ResourceInfo, ...] = ()
) -> tuple[bytes, str] | None:
    """The serialized document for ``path`` (``api/v1``, ``apis/apps/v1``) and its hash.

    None for a path that is not a served group/version (the handler answers 404). Leading and
    trailing slashes are ignored.
    """
    return _documents(extra).get(path.strip("/"))


@lru_cache(maxsize=8)
def openapi_v3_index(*, extra: tuple[ResourceInfo, ...] = ()) -> dict[str, Any]:
    """``GET /openapi/v3``: every served group/version with a hash-pinned URL of its document."""
    return {
        "paths": {
            path: {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
            for path, (_, digest) in _documents(extra).items()
        }
    }
