"""Structural schemas of CustomResourceDefinitions: checking them, and applying them to objects.

Shaped after k8s.io/apiextensions-apiserver ``pkg/apiserver/schema`` (structural schemas, pruning,
defaulting) and k8s.io/kube-openapi ``pkg/validation/validate`` (value validation). Error words
follow what kube-apiserver 1.32 answers, e.g. ``spec.replicas: Invalid value: "string":
spec.replicas in body must be of type integer: "string"``. Schemas are the plain JSON dicts of
``spec.versions[*].schema.openAPIV3Schema``; objects are the registry's plain dicts.

Also as upstream: a root ``metadata`` schema may restrict only ``name`` and ``generateName``
(those restrictions are applied to objects), ``kind``/``apiVersion`` must be strings and
``metadata`` an object at the root and in embedded resources, whose type and ObjectMeta are
validated in objects; and on update, values equal to their correlated old values are not
validated again (ratcheting, CRDValidationRatcheting).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import re
from typing import Any

from skiff.api.field import FieldError

__all__ = [
    "apply_defaults",
    "check_schema",
    "decode_metadata",
    "prune",
    "validate_object",
]

_TYPES = ("object", "array", "string", "integer", "number", "boolean")
_ROOT_META = ("apiVersion", "kind", "metadata")
# keywords a structural schema may use (apiextensions' JSONSchemaProps fields)
_KNOWN = frozenset(
    {
        "type",
        "format",
        "title",
        "description",
        "default",
        "maximum",
        "exclusiveMaximum",
        "minimum",
        "exclusiveMinimum",
        "maxLength",
        "minLength",
        "pattern",
        "maxItems",
        "minItems",
        "uniqueItems",
        "multipleOf",
        "enum",
        "maxProperties",
        "minProperties",
        "required",
        "items",
        "allOf",
        "oneOf",
        "anyOf",
        "not",
        "properties",
        "additionalProperties",
        "nullable",
        "example",
        "externalDocs",
        "x-kubernetes-preserve-unknown-fields",
        "x-kubernetes-embedded-resource",
        "x-kubernetes-int-or-string",
        "x-kubernetes-list-map-keys",
        "x-kubernetes-list-type",
        "x-kubernetes-map-type",
        "x-kubernetes-validations",
    }
)


# --------------------------------------------------------------------------- the schema itself


def check_schema(schema: Any, path: str) -> list[FieldError]:
    """Field errors of a version's ``openAPIV3Schema`` (``path`` is where it sits in the CRD):
    each level must say its ``type`` (unless ``x-kubernetes-int-or-string`` or
    ``x-kubernetes-preserve-unknown-fields``), the root must be an object, and the keywords must
    be of the right shapes (apiextensions' ``validation.go`` ``ValidateCustomResourceDefinition
    OpenAPISchema`` and ``structural/validation.go``)."""
    if not isinstance(schema, dict):
        return [FieldError.required(path, "")]
    errors: list[FieldError] = []
    if schema.get("type") not in (None, "object"):
        errors.append(
            FieldError.invalid(f"{path}.type", schema.get("type"), "must be object at the root")
        )
    for k in ("nullable",):
        if schema.get(k):
            errors.append(FieldError.forbidden(f"{path}.{k}", "must be false at the root"))
    _check_node(schema, path, errors, root=True)
    if not errors:
        _check_defaults(schema, path, errors)
    if not errors:
        from skiff.apiserver.crdcel import check_rules

        errors += check_rules(schema, path)
    return errors


def _check_defaults(node: Any, path: str, errors: list[FieldError]) -> None:
    """Every ``default`` must itself be valid against its schema (apiextensions'
    ``validation.go`` checks defaults the same way), so defaulting never makes an object
    invalid."""
    if not isinstance(node, dict):
        return
    if "default" in node and node["default"] is not None:
        found: list[FieldError] = []
        _validate(node, copy.deepcopy(node["default"]), "default", found)
        for e in found:
            errors.append(dataclasses.replace(e, field=f"{path}.default"))
    for name, sub in (node.get("properties") or {}).items():
        _check_defaults(sub, f"{path}.properties[{name}]", errors)
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            _check_defaults(node[key], f"{path}.{key}", errors)


def _check_node(
    node: Any, path: str, errors: list[FieldError], *, root: bool = False, nested: bool = False
) -> None:
    if not isinstance(node, dict):
        errors.append(FieldError.invalid(path, node, "must be a schema object"))
        return
    for key in node:
        if key not in _KNOWN:
            errors.append(FieldError.forbidden(f"{path}.{key}", f"unknown field {key!r}"))
        elif key in ("$ref", "definitions", "dependencies", "patternProperties", "id"):
            errors.append(FieldError.forbidden(f"{path}.{key}", f"{key} is not supported"))
    typ = node.get("type")
    int_or_string = bool(node.get("x-kubernetes-int-or-string"))
    preserve = bool(node.get("x-kubernetes-preserve-unknown-fields"))
    if typ is None:
        if not int_or_string and not preserve and not root:
            errors.append(
                FieldError.required(f"{path}.type", "must not be empty for specified object fields")
            )
    elif typ not in _TYPES:
        errors.append(FieldError.not_supported(f"{path}.type", typ, list(_TYPES)))
    if int_or_string and typ is not None:
        errors.append(
            FieldError.forbidden(
                f"{path}.type", "must be empty if x-kubernetes-int-or-string is true"
            )
        )
    props = node.get("properties")
    if props is not None:
        if not isinstance(props, dict):
            errors.append(FieldError.invalid(f"{path}.properties", props, "must be an object"))
        else:
            if typ not in (None, "object"):
                errors.append(
                    FieldError.forbidden(f"{path}.properties", "must only be used with type object")
                )
            for name, sub in props.items():
                _check_node(sub, f"{path}.properties[{name}]", errors)
    extra = node.get("additionalProperties")
    if extra is not None and not isinstance(extra, bool | dict):
        errors.append(
            FieldError.invalid(
                f"{path}.additionalProperties", extra, "must be a boolean or a schema"
            )
        )
    elif isinstance(extra, dict):
        if props:
            errors.append(
                FieldError.forbidden(
                    f"{path}.additionalProperties",
                    "additionalProperties and properties are mutual exclusive",
                )
            )
        _check_node(extra, f"{path}.additionalProperties", errors)
    items = node.get("items")
    if typ == "array" and items is None:
        errors.append(FieldError.required(f"{path}.items", "must be specified"))
    elif items is not None:
        _check_node(items, f"{path}.items", errors)
    for key in ("required", "enum"):
        if key in node and not isinstance(node[key], list):
            errors.append(FieldError.invalid(f"{path}.{key}", node[key], "must be an array"))
    for key in ("minimum", "maximum", "multipleOf"):
        if key in node and not _is_number(node[key]):
            errors.append(FieldError.invalid(f"{path}.{key}", node[key], "must be a number"))
    for key in ("minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"):
        if key in node and (not isinstance(node[key], int) or isinstance(node[key], bool)):
            errors.append(FieldError.invalid(f"{path}.{key}", node[key], "must be an integer"))
    if "pattern" in node:
        try:
            re.compile(str(node["pattern"]))
        except re.error:
            errors.append(
                FieldError.invalid(
                    f"{path}.pattern", node["pattern"], "must be a valid regular expression"
                )
            )
    for key in ("allOf", "anyOf", "oneOf"):
        subs = node.get(key)
        if subs is None:
            continue
        if not isinstance(subs, list):
            errors.append(FieldError.invalid(f"{path}.{key}", subs, "must be an array"))
            continue
        for i, sub in enumerate(subs):
            # value validation only
            _check_node(sub, f"{path}.{key}[{i}]", errors, root=True, nested=True)
    _check_extensions(node, path, errors)
    if nested and isinstance(props, dict) and "metadata" in props:
        # reasoning about metadata in allOf/anyOf/oneOf/not could restrict it
        errors.append(
            FieldError.forbidden(
                f"{path}.properties[metadata]", "must not be specified in a nested context"
            )
        )
    elif isinstance(props, dict) and (root or node.get("x-kubernetes-embedded-resource")):
        _check_resource_fields(props, path, errors, root=root)
    validations = node.get("x-kubernetes-validations")
    if validations is not None:
        if not isinstance(validations, list):
            errors.append(
                FieldError.invalid(
                    f"{path}.x-kubernetes-validations", validations, "must be an array"
                )
            )
        else:
            for i, rule in enumerate(validations):
                if not isinstance(rule, dict) or not isinstance(rule.get("rule"), str):
                    errors.append(FieldError.required(f"{path}.x-kubernetes-validations[{i}].rule"))


# what a root ``metadata`` schema may say besides restricting name and generateName
_METADATA_ALLOWED = frozenset({"type", "default", "properties"})


def _check_resource_fields(
    props: dict[str, Any], path: str, errors: list[FieldError], *, root: bool
) -> None:
    """``apiVersion``, ``kind`` and ``metadata`` of the root and of embedded resources
    (apiextensions' ``schema/validation.go`` ``validateStructuralInvariants``): the first two
    strings, metadata an object, and at the root a metadata schema may only restrict ``name``
    and ``generateName`` (everything else of ObjectMeta is Kubernetes' to validate)."""
    for key in ("kind", "apiVersion"):
        sub = props.get(key)
        if isinstance(sub, dict) and sub.get("type") != "string":
            errors.append(
                FieldError.invalid(
                    f"{path}.properties[{key}].type", sub.get("type", ""), "must be string"
                )
            )
    meta = props.get("metadata")
    if not isinstance(meta, dict):
        return
    where = f"{path}.properties[metadata]"
    if meta.get("type") != "object":
        errors.append(FieldError.invalid(f"{where}.type", meta.get("type", ""), "must be object"))
    if not root:
        return
    names = meta.get("properties")
    restricts_others = isinstance(names, dict) and not set(names) <= {"name", "generateName"}
    if restricts_others or set(meta) - _METADATA_ALLOWED:
        errors.append(
            FieldError.forbidden(
                where,
                "must not specify anything other than name and generateName, but metadata is "
                "implicitly specified",
            )
        )
    # defaults in top-level metadata are refused by the CRD's API validation
    for sub, at in [(meta, where)] + [
        (v, f"{where}.properties[{k}]") for k, v in (names or {}).items() if isinstance(v, dict)
    ]:
        if "default" in sub:
            errors.append(
                FieldError.forbidden(f"{at}.default", "must not be set in top-level metadata")
            )


_BOOLS = (
    "nullable",
    "uniqueItems",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "x-kubernetes-preserve-unknown-fields",
    "x-kubernetes-embedded-resource",
    "x-kubernetes-int-or-string",
)


def _check_extensions(node: dict[str, Any], path: str, errors: list[FieldError]) -> None:
    """Shapes of the boolean keywords and the ``x-kubernetes-*`` list and map extensions."""
    for key in _BOOLS:
        if key in node and not isinstance(node[key], bool):
            errors.append(FieldError.invalid(f"{path}.{key}", node[key], "must be a boolean"))
    for key in ("format", "pattern", "description", "title"):
        if key in node and not isinstance(node[key], str):
            errors.append(FieldError.invalid(f"{path}.{key}", node[key], "must be a string"))
    required = node.get("required")
    if isinstance(required, list) and not all(isinstance(r, str) for r in required):
        errors.append(FieldError.invalid(f"{path}.required", required, "must be strings"))
    if "not" in node and not isinstance(node["not"], dict):
        errors.append(FieldError.invalid(f"{path}.not", node["not"], "must be a schema object"))
    list_type = node.get("x-kubernetes-list-type")
    if list_type is not None:
        if list_type not in ("atomic", "set", "map"):
            errors.append(
                FieldError.not_supported(
                    f"{path}.x-kubernetes-list-type", list_type, ["atomic", "set", "map"]
                )
            )
        elif node.get("type") != "array":
            errors.append(
                FieldError.invalid(
                    f"{path}.type",
                    node.get("type"),
                    "must be array if x-kubernetes-list-type is set",
                )
            )
    keys = node.get("x-kubernetes-list-map-keys")
    if keys is not None:
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
            errors.append(
                FieldError.invalid(
                    f"{path}.x-kubernetes-list-map-keys",
                    keys,
                    "must be a non-empty list of strings",
                )
            )
        elif list_type != "map":
            errors.append(
                FieldError.forbidden(
                    f"{path}.x-kubernetes-list-map-keys",
                    "must only be used with x-kubernetes-list-type: map",
                )
            )
    map_type = node.get("x-kubernetes-map-type")
    if map_type is not None and map_type not in ("granular", "atomic"):
        errors.append(
            FieldError.not_supported(
                f"{path}.x-kubernetes-map-type", map_type, ["granular", "atomic"]
            )
        )


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


# --------------------------------------------------------------------------- values


def _type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "integer" if value.is_integer() else "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _show(value: Any) -> str:
    import json

    if isinstance(value, str):
        return json.dumps(value)
    if _type_of(value) in ("object", "array"):
        return _type_of(value)
    return json.dumps(value)


_MISSING: Any = object()


def validate_object(
    schema: dict[str, Any], obj: dict[str, Any], old: dict[str, Any] | None = None
) -> list[FieldError]:
    """Field errors of a custom object against its version's schema. Of ``metadata`` only
    ``name`` and ``generateName`` are checked here, against what the schema says of them
    (ObjectMeta itself is validated as for every kind).

    With ``old`` (an update), errors of values equal to their correlated old values are not
    reported (CRDValidationRatcheting, on by default since 1.30): values correlate through
    object properties, map keys and the keys of ``x-kubernetes-list-type: map`` lists."""
    errors: list[FieldError] = []
    props = schema.get("properties") or {}
    old_root: Any = old if old is not None else _MISSING
    for key, value in obj.items():
        if key == "metadata":
            _validate_metadata(props.get("metadata"), value, errors)
            continue
        if key in _ROOT_META:
            continue
        sub = props.get(key)
        if sub is not None:
            _validate(sub, value, key, errors, _old_child(old_root, key))
    for name in schema.get("required") or []:
        if name not in obj and name not in _ROOT_META:
            errors.append(FieldError.required(name, ""))
    return errors


def _validate_metadata(node: Any, meta: Any, errors: list[FieldError]) -> None:
    names = node.get("properties") if isinstance(node, dict) else None
    if not isinstance(names, dict) or not isinstance(meta, dict):
        return
    for key in ("name", "generateName"):
        sub = names.get(key)
        if isinstance(sub, dict) and key in meta:
            _validate(sub, meta[key], f"metadata.{key}", errors)


def _old_child(old: Any, key: str) -> Any:
    return old.get(key, _MISSING) if isinstance(old, dict) else _MISSING


_FORMATS: dict[str, re.Pattern[str]] = {
    "date": re.compile(r"^\d{4}-\d{2}-\d{2}$"),
    "uuid": re.compile(
        r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    ),
    "byte": re.compile(r"^[A-Za-z0-9+/]*={0,2}$"),
}


def _format_ok(fmt: str, value: str) -> bool:
    if fmt == "date-time":
        try:
            dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return False
        return True
    pattern = _FORMATS.get(fmt)
    return pattern is None or bool(pattern.match(value))


def _validate(
    node: dict[str, Any], value: Any, path: str, errors: list[FieldError], old: Any = _MISSING
) -> None:
    if old is not _MISSING and old == value:
        return  # ratcheting: an unchanged value keeps whatever it was
    typ = node.get("type")
    actual = _type_of(value)
    if value is None:
        if node.get("nullable"):
            return
        if typ is not None:
            errors.append(
                FieldError.type_invalid(path, None, f'{path} in body must be of type {typ}: "null"')
            )
        return
    if node.get("x-kubernetes-int-or-string"):
        if actual not in ("integer", "string"):
            errors.append(
                FieldError.type_invalid(
                    path, value, f"{path} in body must be of type integer or string: {_show(value)}"
                )
            )
            return
    elif typ is not None:
        ok = actual == typ or (typ == "number" and actual == "integer")
        if not ok:
            errors.append(
                FieldError.type_invalid(
                    path, value, f'{path} in body must be of type {typ}: "{actual}"'
                )
            )
            return
    enum = node.get("enum")
    if isinstance(enum, list) and value not in enum:
        errors.append(FieldError.not_supported(path, value, [e for e in enum]))
    if isinstance(value, str):
        _validate_string(node, value, path, errors)
    elif actual in ("integer", "number"):
        _validate_number(node, value, path, errors)
    elif isinstance(value, list):
        _validate_array(node, value, path, errors, old)
    elif isinstance(value, dict):
        _validate_map(node, value, path, errors, old)


def _validate_string(node: dict[str, Any], value: str, path: str, errors: list[FieldError]) -> None:
    max_len, min_len = node.get("maxLength"), node.get("minLength")
    if isinstance(max_len, int) and len(value) > max_len:
        errors.append(
            FieldError("FieldValueTooLong", path, f"may not be longer than {max_len}", value, False)
        )
    if isinstance(min_len, int) and len(value) < min_len:
        errors.append(
            FieldError.invalid(
                path, value, f"{path} in body should be at least {min_len} chars long"
            )
        )
    pattern = node.get("pattern")
    if isinstance(pattern, str):
        try:
            matched = re.search(pattern, value) is not None
        except re.error:
            matched = True
        if not matched:
            errors.append(
                FieldError.invalid(path, value, f"{path} in body should match '{pattern}'")
            )
    fmt = node.get("format")
    if isinstance(fmt, str) and not _format_ok(fmt, value):
        errors.append(
            FieldError.invalid(path, value, f'{path} in body must be of type {fmt}: "{value}"')
        )


def _validate_number(
    node: dict[str, Any], value: float, path: str, errors: list[FieldError]
) -> None:
    minimum: Any = node.get("minimum")
    maximum: Any = node.get("maximum")
    if _is_number(minimum):
        if node.get("exclusiveMinimum") and value <= minimum:
            errors.append(
                FieldError.invalid(
                    path, value, f"{path} in body should be greater than {_num(minimum)}"
                )
            )
        elif value < minimum:
            errors.append(
                FieldError.invalid(
                    path,
                    value,
                    f"{path} in body should be greater than or equal to {_num(minimum)}",
                )
            )
    if _is_number(maximum):
        if node.get("exclusiveMaximum") and value >= maximum:
            errors.append(
                FieldError.invalid(
                    path, value, f"{path} in body should be less than {_num(maximum)}"
                )
            )
        elif value > maximum:
            errors.append(
                FieldError.invalid(
                    path, value, f"{path} in body should be less than or equal to {_num(maximum)}"
                )
            )
    multiple = node.get("multipleOf")
    if _is_number(multiple) and multiple and (value / multiple) % 1 != 0:
        errors.append(
            FieldError.invalid(
                path, value, f"{path} in body should be a multiple of {_num(multiple)}"
            )
        )


def _num(v: float) -> str:
    return str(int(v)) if float(v).is_integer() else str(v)


def _validate_array(
    node: dict[str, Any], value: list[Any], path: str, errors: list[FieldError], old: Any
) -> None:
    max_items, min_items = node.get("maxItems"), node.get("minItems")
    if isinstance(max_items, int) and len(value) > max_items:
        errors.append(
            FieldError(
                "FieldValueTooMany", path, f"must have at most {max_items} items", len(value), True
            )
        )
    if isinstance(min_items, int) and len(value) < min_items:
        errors.append(
            FieldError.invalid(
                path, len(value), f"{path} in body should have at least {min_items} items"
            )
        )
    keys = node.get("x-kubernetes-list-map-keys")
    if node.get("x-kubernetes-list-type") == "map" and isinstance(keys, list) and keys:
        seen_keys: list[dict[str, Any]] = []
        for i, item in enumerate(value):
            if isinstance(item, dict):
                key = {k: item.get(k) for k in keys if k in item}
                if key in seen_keys:
                    errors.append(FieldError.duplicate(f"{path}[{i}]", key))
                seen_keys.append(key)
    if node.get("uniqueItems") or node.get("x-kubernetes-list-type") == "set":
        seen: list[Any] = []
        for i, item in enumerate(value):
            if item in seen:
                errors.append(FieldError.duplicate(f"{path}[{i}]", item))
            seen.append(item)
    items = node.get("items")
    if isinstance(items, dict):
        by_key: dict[str, Any] = {}
        if isinstance(keys, list) and keys and isinstance(old, list):
            by_key = {_map_key(o, keys): o for o in old if isinstance(o, dict)}
        for i, item in enumerate(value):
            prior = by_key.get(_map_key(item, keys), _MISSING) if by_key else _MISSING
            _validate(items, item, f"{path}[{i}]", errors, prior)


def _map_key(item: Any, keys: Any) -> str:
    import json

    if not isinstance(item, dict):
        return ""
    return json.dumps([item.get(k) for k in keys], sort_keys=True)


def _validate_map(
    node: dict[str, Any], value: dict[str, Any], path: str, errors: list[FieldError], old: Any
) -> None:
    if node.get("x-kubernetes-embedded-resource"):
        errors += _embedded_resource_errors(value, path)
    props = node.get("properties")
    extra = node.get("additionalProperties")
    for key, item in value.items():
        sub = props.get(key) if isinstance(props, dict) else None
        if sub is None and isinstance(extra, dict):
            sub = extra
        if isinstance(sub, dict):
            _validate(
                sub,
                item,
                f"{path}.{key}" if isinstance(props, dict) and key in props else f"{path}[{key}]",
                errors,
                _old_child(old, key),
            )
    for name in node.get("required") or []:
        if name not in value:
            errors.append(FieldError.required(f"{path}.{name}", ""))
    max_p, min_p = node.get("maxProperties"), node.get("minProperties")
    if isinstance(max_p, int) and len(value) > max_p:
        errors.append(
            FieldError(
                "FieldValueTooMany", path, f"must have at most {max_p} items", len(value), True
            )
        )
    if isinstance(min_p, int) and len(value) < min_p:
        errors.append(
            FieldError.invalid(
                path, len(value), f"{path} in body should have at least {min_p} properties"
            )
        )


def _embedded_resource_errors(value: dict[str, Any], path: str) -> list[FieldError]:
    """An embedded resource's type and object meta (apiextensions' ``schema/objectmeta``
    ``validateEmbeddedResource``): apiVersion and kind present, strings, a group/version and
    a DNS-1035-like kind; metadata valid ObjectMeta (any path-segment name, namespaced when
    it names a namespace)."""
    from skiff.api.validation import validate_object_meta
    from skiff.api.validation.names import is_dns1035_label, is_path_segment_name

    errors: list[FieldError] = []
    for key in ("apiVersion", "kind"):
        if key not in value:
            errors.append(FieldError.required(f"{path}.{key}", ""))
            continue
        item = value[key]
        if not isinstance(item, str):
            errors.append(FieldError.invalid(f"{path}.{key}", item, "must be a string"))
        elif not item:
            errors.append(FieldError.required(f"{path}.{key}", ""))
        elif key == "apiVersion" and item.count("/") > 1:
            errors.append(
                FieldError.invalid(f"{path}.{key}", item, f"unexpected GroupVersion string: {item}")
            )
        elif key == "kind" and (found := is_dns1035_label(item.lower())):
            errors.append(
                FieldError.invalid(
                    f"{path}.kind",
                    item,
                    "may have mixed case, but should otherwise match: " + ",".join(found),
                )
            )
    if "metadata" in value:
        meta, problem, _ = decode_metadata(value["metadata"])
        if meta is None:
            errors.append(
                FieldError.invalid(
                    f"{path}.metadata", value["metadata"], problem or "must be an object"
                )
            )
        else:
            meta.setdefault("name", "fakename")
            if not meta["name"]:
                meta["name"] = "fakename"
            errors += validate_object_meta(
                meta,
                namespaced=bool(meta.get("namespace")),
                name_func=lambda name, prefix: is_path_segment_name(name),
                path=f"{path}.metadata",
            )
    return errors


# --------------------------------------------------------------------------- pruning, defaults


def prune(schema: dict[str, Any], obj: dict[str, Any]) -> list[str]:
    """Drop, in place, every field the schema does not name (``apiVersion``, ``kind`` and
    ``metadata`` stay at the root), except under ``x-kubernetes-preserve-unknown-fields``.
    Returns the paths dropped (``spec.bogus``), for ``fieldValidation``."""
    removed: list[str] = []
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        _prune_children(schema, obj, "", removed)
        return removed
    props = schema.get("properties") or {}
    for key in list(obj):
        if key in _ROOT_META:
            continue
        if key not in props:
            del obj[key]
            removed.append(key)
        else:
            _prune(props[key], obj[key], key, removed)
    return removed


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _prune_children(
    node: dict[str, Any], value: dict[str, Any], path: str, removed: list[str]
) -> None:
    props = node.get("properties") or {}
    for key, item in value.items():
        if key in props:
            _prune(props[key], item, _join(path, key), removed)


def _prune(node: Any, value: Any, path: str, removed: list[str]) -> None:
    if not isinstance(node, dict):
        return
    if isinstance(value, list):
        items = node.get("items")
        for i, item in enumerate(value):
            _prune(items, item, f"{path}[{i}]", removed)
        return
    if not isinstance(value, dict):
        return
    embedded = bool(node.get("x-kubernetes-embedded-resource"))
    if node.get("x-kubernetes-preserve-unknown-fields"):
        _prune_children(node, value, path, removed)
        return
    props = node.get("properties")
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        for key, item in value.items():
            _prune(extra, item, _join(path, key), removed)
        return
    if extra is True:
        return
    props = props if isinstance(props, dict) else {}
    for key in list(value):
        if embedded and key in _ROOT_META:
            continue
        if key not in props:
            del value[key]
            removed.append(_join(path, key))
        else:
            _prune(props[key], value[key], _join(path, key), removed)


def decode_metadata(meta: Any) -> tuple[dict[str, Any] | None, str, list[str]]:
    """A custom object's ``metadata`` decoded as ObjectMeta, as upstream decodes it into its
    typed ObjectMeta: (normalized metadata, decoding error or "", unknown fields)."""
    from pydantic import ValidationError

    from skiff.api.types.meta_v1 import ObjectMeta

    if not isinstance(meta, dict):
        return None, "", []
    known = {f.alias or n for n, f in ObjectMeta.model_fields.items()}
    unknown = [f"metadata.{k}" for k in meta if k not in known]
    clean = {k: v for k, v in meta.items() if k in known}
    try:
        decoded = ObjectMeta.model_validate(clean, strict=True)
    except ValidationError as e:
        err = e.errors(include_url=False)[0]
        where = ".".join(str(p) for p in err["loc"])
        return None, f"error decoding metadata.{where}: {err['msg']}", unknown
    return decoded.to_wire(), "", unknown


def apply_defaults(schema: dict[str, Any], obj: dict[str, Any]) -> None:
    """Fill ``default`` values, in place, where fields are missing (apiextensions' structural
    defaulting: a default applies when its parent object exists)."""
    _default(schema, obj)


def _default(node: Any, value: Any) -> None:
    if not isinstance(node, dict):
        return
    if isinstance(value, dict):
        props = node.get("properties")
        if isinstance(props, dict):
            for key, sub in props.items():
                if not isinstance(sub, dict) or "default" not in sub:
                    pass
                elif key not in value or (value[key] is None and not sub.get("nullable")):
                    # a null for a non-nullable field with a default is defaulted too
                    value[key] = copy.deepcopy(sub["default"])
                if key in value:
                    _default(sub, value[key])
        extra = node.get("additionalProperties")
        if isinstance(extra, dict):
            for item in value.values():
                _default(extra, item)
    elif isinstance(value, list):
        items = node.get("items")
        for item in value:
            _default(items, item)
