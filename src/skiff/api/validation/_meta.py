"""ObjectMeta, labels, annotations and label selectors: the checks every kind shares.

Mirrors ``k8s.io/apimachinery/pkg/api/validation/objectmeta.go`` and
``pkg/apis/meta/v1/validation``: the same rules, paths and message texts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from skiff.api.field import FieldError

from ._util import ErrorList, as_dict, as_list, nonnegative
from .names import is_dns1123_label, is_qualified_name, is_valid_label_value

__all__ = [
    "TOTAL_ANNOTATION_SIZE_LIMIT",
    "NameFunc",
    "selector_is_empty",
    "selector_matches",
    "validate_annotations",
    "validate_label_selector",
    "validate_labels",
    "validate_object_meta",
    "validate_pod_template_meta",
]

NameFunc = Callable[[str, bool], list[str]]

TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024
_STANDARD_FINALIZERS = ("orphan", "foregroundDeletion")


def validate_labels(labels: Any, path: str) -> ErrorList:
    errs: ErrorList = []
    for key, value in as_dict(labels).items():
        errs += [FieldError.invalid(path, key, m) for m in is_qualified_name(key)]
        if not isinstance(value, str):
            errs.append(FieldError.invalid(path, value, "must be a string"))
            continue
        errs += [FieldError.invalid(path, value, m) for m in is_valid_label_value(value)]
    return errs


def validate_annotations(annotations: Any, path: str) -> ErrorList:
    errs: ErrorList = []
    total = 0
    for key, value in as_dict(annotations).items():
        # Upstream lower-cases the key before the qualified-name check: annotation keys may
        # contain capitals in the prefix for historical reasons.
        errs += [FieldError.invalid(path, key, m) for m in is_qualified_name(key.lower())]
        total += len(key.encode()) + len(str(value).encode())
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        errs.append(FieldError.too_long(path, "", TOTAL_ANNOTATION_SIZE_LIMIT))
    return errs


def _validate_finalizers(finalizers: Any, path: str) -> ErrorList:
    errs: ErrorList = []
    items = [f for f in as_list(finalizers) if isinstance(f, str)]
    for name in items:
        errs += [FieldError.invalid(path, name, m) for m in is_qualified_name(name)]
    if all(f in items for f in _STANDARD_FINALIZERS):
        errs.append(
            FieldError.invalid(
                path, items, "finalizer orphan and foregroundDeletion cannot be both set"
            )
        )
    return errs


def _validate_owner_references(refs: Any, path: str) -> ErrorList:
    errs: ErrorList = []
    controllers: list[str] = []
    for ref in as_list(refs):
        ref = as_dict(ref)
        api_version = str(ref.get("apiVersion") or "")
        if not api_version.rpartition("/")[2]:
            errs.append(
                FieldError.invalid(f"{path}.apiVersion", api_version, "version must not be empty")
            )
        for key, what in (("kind", "kind"), ("name", "name"), ("uid", "uid")):
            if not ref.get(key):
                errs.append(
                    FieldError.invalid(
                        f"{path}.{key}", ref.get(key) or "", f"{what} must not be empty"
                    )
                )
        if ref.get("controller") is True:
            controllers.append(f"{ref.get('kind')}/{ref.get('name')}")
    if len(controllers) > 1:
        errs.append(
            FieldError.invalid(
                path,
                as_list(refs),
                'Only one reference can have Controller set to true. Found "true" in '
                "references for " + " and ".join(controllers),
            )
        )
    return errs


def validate_object_meta(
    meta: Any, *, namespaced: bool, name_func: NameFunc, path: str = "metadata"
) -> ErrorList:
    """``ValidateObjectMeta``: name/generateName, namespace scope, labels, annotations, owners."""
    meta = as_dict(meta)
    errs: ErrorList = []
    name = meta.get("name") or ""
    generate_name = meta.get("generateName") or ""
    if generate_name:
        errs += [
            FieldError.invalid(f"{path}.generateName", generate_name, m)
            for m in name_func(generate_name, True)
        ]
    if not name:
        if not generate_name:
            errs.append(FieldError.required(f"{path}.name", "name or generateName is required"))
    else:
        errs += [FieldError.invalid(f"{path}.name", name, m) for m in name_func(name, False)]
    namespace = meta.get("namespace") or ""
    if namespaced:
        if not namespace:
            errs.append(FieldError.required(f"{path}.namespace"))
        else:
            errs += [
                FieldError.invalid(f"{path}.namespace", namespace, m)
                for m in is_dns1123_label(namespace)
            ]
    elif namespace:
        errs.append(FieldError.forbidden(f"{path}.namespace", "not allowed on this type"))
    errs += nonnegative(meta.get("generation"), f"{path}.generation")
    errs += validate_labels(meta.get("labels"), f"{path}.labels")
    errs += validate_annotations(meta.get("annotations"), f"{path}.annotations")
    errs += _validate_owner_references(meta.get("ownerReferences"), f"{path}.ownerReferences")
    errs += _validate_finalizers(meta.get("finalizers"), f"{path}.finalizers")
    return errs


def validate_pod_template_meta(meta: Any, path: str) -> ErrorList:
    """A template's metadata: only labels and annotations are checked (no name/namespace)."""
    meta = as_dict(meta)
    return validate_labels(meta.get("labels"), f"{path}.labels") + validate_annotations(
        meta.get("annotations"), f"{path}.annotations"
    )


_SET_OPERATORS = ("In", "NotIn")
_EXIST_OPERATORS = ("Exists", "DoesNotExist")


def validate_label_selector(selector: Any, path: str) -> ErrorList:
    """``metav1validation.ValidateLabelSelector``."""
    selector = as_dict(selector)
    errs = validate_labels(selector.get("matchLabels"), f"{path}.matchLabels")
    for i, expr in enumerate(as_list(selector.get("matchExpressions"))):
        expr = as_dict(expr)
        p = f"{path}.matchExpressions[{i}]"
        op = expr.get("operator")
        values = as_list(expr.get("values"))
        if op in _SET_OPERATORS:
            if not values:
                errs.append(
                    FieldError.required(
                        f"{p}.values", "must be specified when `operator` is 'In' or 'NotIn'"
                    )
                )
        elif op in _EXIST_OPERATORS:
            if values:
                errs.append(
                    FieldError.forbidden(
                        f"{p}.values",
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    )
                )
        else:
            errs.append(FieldError.invalid(f"{p}.operator", op, "not a valid selector operator"))
        key = expr.get("key") or ""
        errs += [FieldError.invalid(f"{p}.key", key, m) for m in is_qualified_name(key)]
        for value in values:
            errs += [
                FieldError.invalid(f"{p}.values", value, m)
                for m in is_valid_label_value(str(value))
            ]
    return errs


def selector_is_empty(selector: Any) -> bool:
    selector = as_dict(selector)
    return not selector.get("matchLabels") and not selector.get("matchExpressions")


def selector_matches(selector: Any, labels: Any) -> bool:
    """Whether a LabelSelector selects an object with ``labels`` (an empty selector selects all)."""
    selector = as_dict(selector)
    labels = as_dict(labels)
    for key, value in as_dict(selector.get("matchLabels")).items():
        if labels.get(key) != value:
            return False
    for expr in as_list(selector.get("matchExpressions")):
        expr = as_dict(expr)
        key = str(expr.get("key") or "")
        values = as_list(expr.get("values"))
        op = expr.get("operator")
        present = key in labels
        if op == "In" and not (present and labels[key] in values):
            return False
        if op == "NotIn" and present and labels[key] in values:
            return False
        if op == "Exists" and not present:
            return False
        if op == "DoesNotExist" and present:
            return False
    return True
