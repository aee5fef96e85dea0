"""``x-kubernetes-validations``: CEL rules of CRD schemas, evaluated with cel-python (``celpy``).

As apiextensions-apiserver's ``pkg/apiserver/schema/cel`` does: each rule runs at the schema
node declaring it with ``self`` bound to the value there; a rule naming ``oldSelf`` is a
transition rule, run only on updates where the old object has a value at the same place
(correlated through object properties, map keys and ``x-kubernetes-list-type: map`` keys), or
always with ``optionalOldSelf``. A failing rule is a field error at the node (plus its
``fieldPath``) with the rule's ``reason`` (FieldValueInvalid by default) and ``message`` (or
``messageExpression``, else ``failed rule: <rule>``). Rules are compiled when the CRD is
written (a rule that does not compile makes the CRD invalid) and cached.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from typing import Any

import celpy
from celpy import celtypes
from celpy.adapter import json_to_cel

from skiff.api.field import FieldError
from skiff.apiserver.crdcel_lib import KUBERNETES_FUNCTIONS

__all__ = ["check_rules", "validate_rules"]

log = logging.getLogger(__name__)

_ENV = celpy.Environment()
_PROGRAMS: dict[str, Any] = {}
_OLD_SELF = re.compile(r"\boldSelf\b")
_REASONS = {
    "FieldValueInvalid",
    "FieldValueForbidden",
    "FieldValueRequired",
    "FieldValueDuplicate",
}
_MISSING = object()


class _Optional(celtypes.MapType):
    """``oldSelf`` of a rule with ``optionalOldSelf``: CEL's optional value (cel-python has no
    optional types; ``hasValue()``, ``value()`` and ``orValue(x)`` are provided as functions)."""

    def __init__(self, value: Any = None, present: bool = False) -> None:
        super().__init__({})
        self.value = value
        self.present = present


def _has_value(opt: Any) -> Any:
    return celtypes.BoolType(not isinstance(opt, _Optional) or opt.present)


def _value(opt: Any) -> Any:
    if isinstance(opt, _Optional):
        if not opt.present:
            raise ValueError("optional.none() dereference")
        return opt.value
    return opt


def _or_value(opt: Any, default: Any) -> Any:
    if isinstance(opt, _Optional):
        return opt.value if opt.present else default
    return opt


_FUNCTIONS: dict[str, Any] = {
    **KUBERNETES_FUNCTIONS,
    "hasValue": _has_value,
    "value": _value,
    "orValue": _or_value,
}


def _program(rule: str) -> Any:
    found = _PROGRAMS.get(rule)
    if found is None:
        if len(_PROGRAMS) > 4096:
            _PROGRAMS.clear()
        found = _PROGRAMS[rule] = _ENV.program(_ENV.compile(rule), functions=_FUNCTIONS)
    return found


_ACTIVATION = re.compile(r" \(in activation .*", re.DOTALL)


def _error_text(e: Exception) -> str:
    """A short reason for an evaluation error (celpy's carry whole activations)."""
    first = e.args[0] if e.args else e
    text = _ACTIVATION.sub("", str(first[0] if isinstance(first, tuple) and first else first))
    return text if len(text) <= 200 else text[:200] + "..."


def _walk(node: Any, path: str) -> Iterator[tuple[dict[str, Any], str]]:
    if not isinstance(node, dict):
        return
    yield node, path
    for name, sub in (node.get("properties") or {}).items():
        yield from _walk(sub, f"{path}.properties[{name}]")
    for key in ("items", "additionalProperties"):
        yield from _walk(node.get(key), f"{path}.{key}")


def check_rules(schema: Any, path: str) -> list[FieldError]:
    """Field errors of the rules in a CRD version's schema: each must compile."""
    errors: list[FieldError] = []
    for node, where in _walk(schema, path):
        for i, rule in enumerate(node.get("x-kubernetes-validations") or []):
            if not isinstance(rule, dict) or not isinstance(rule.get("rule"), str):
                continue
            field = f"{where}.x-kubernetes-validations[{i}]"
            try:
                _program(rule["rule"])
            except Exception as e:  # celpy's parse and compile errors have no common base
                errors.append(
                    FieldError.invalid(f"{field}.rule", rule["rule"], f"compilation failed: {e}")
                )
            reason = rule.get("reason")
            if reason is not None and reason not in _REASONS:
                errors.append(FieldError.not_supported(f"{field}.reason", reason, sorted(_REASONS)))
            expr = rule.get("messageExpression")
            if isinstance(expr, str):
                try:
                    _program(expr)
                except Exception as e:
                    errors.append(
                        FieldError.invalid(
                            f"{field}.messageExpression", expr, f"compilation failed: {e}"
                        )
                    )
    return errors


def _type_name(node: dict[str, Any], value: Any) -> str:
    typ = node.get("type")
    if isinstance(typ, str):
        return typ
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "string" if isinstance(value, str) else "integer"


def _root_view(obj: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in obj.items() if k != "metadata"}
    meta = obj.get("metadata") or {}
    out["metadata"] = {k: meta[k] for k in ("name", "generateName") if k in meta}
    return out


def validate_rules(
    schema: dict[str, Any], obj: dict[str, Any], old: dict[str, Any] | None
) -> list[FieldError]:
    """Field errors of the CEL rules of ``schema`` on ``obj`` (``old`` on update)."""
    errors: list[FieldError] = []
    old_root: Any = _root_view(old) if old is not None else _MISSING
    _validate(schema, _root_view(obj), old_root, "", errors)
    return errors


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _validate(node: Any, value: Any, old: Any, path: str, errors: list[FieldError]) -> None:
    if not isinstance(node, dict) or value is None:
        return
    rules = node.get("x-kubernetes-validations")
    if rules:
        _run(node, rules, value, old, path, errors)
    if isinstance(value, dict):
        props = node.get("properties")
        extra = node.get("additionalProperties")
        old_map = old if isinstance(old, dict) else {}
        for key, item in value.items():
            sub = props.get(key) if isinstance(props, dict) else None
            if isinstance(sub, dict):
                _validate(sub, item, old_map.get(key, _MISSING), _child(path, key), errors)
            elif isinstance(extra, dict):
                _validate(extra, item, old_map.get(key, _MISSING), f"{path}[{key}]", errors)
    elif isinstance(value, list):
        items = node.get("items")
        keys = node.get("x-kubernetes-list-map-keys") or ()
        correlate = node.get("x-kubernetes-list-type") == "map" and keys and isinstance(old, list)
        old_by_key: dict[tuple[Any, ...], Any] = {}
        if correlate:
            for o in old:
                if isinstance(o, dict):
                    old_by_key[tuple(o.get(k) for k in keys)] = o
        for i, item in enumerate(value):
            prior: Any = _MISSING
            if correlate and isinstance(item, dict):
                prior = old_by_key.get(tuple(item.get(k) for k in keys), _MISSING)
            _validate(items, item, prior, f"{path}[{i}]", errors)


_UNSUPPORTED = "undeclared reference to"
_warned: set[str] = set()


def _warn_unsupported(rule: str, why: str) -> None:
    if rule not in _warned:
        _warned.add(rule)
        log.warning("CEL rule %r skipped: %s (not provided by skiff)", rule, why)


def _truthy(result: Any) -> bool | None:
    if isinstance(result, celtypes.BoolType | bool):
        return bool(result)
    return None


def _run(
    node: dict[str, Any],
    rules: Any,
    value: Any,
    old: Any,
    path: str,
    errors: list[FieldError],
) -> None:
    for rule in rules if isinstance(rules, list) else ():
        if not isinstance(rule, dict) or not isinstance(rule.get("rule"), str):
            continue
        text = rule["rule"]
        transition = bool(_OLD_SELF.search(text))
        optional = bool(rule.get("optionalOldSelf"))
        if transition and old is _MISSING and not optional:
            continue
        activation: dict[str, Any] = {"self": json_to_cel(value)}
        if transition and optional:
            present = old is not _MISSING
            activation["oldSelf"] = _Optional(json_to_cel(old) if present else None, present)
        elif transition:
            activation["oldSelf"] = json_to_cel(old)
        field = path
        if isinstance(rule.get("fieldPath"), str) and rule["fieldPath"]:
            field = (
                path + rule["fieldPath"]
                if rule["fieldPath"].startswith("[")
                else _child(path, rule["fieldPath"].lstrip("."))
            )
        try:
            result = _program(text).evaluate(activation)
            ok = _truthy(result)
        except Exception as e:  # an evaluation error fails the rule, as upstream
            if _UNSUPPORTED in _error_text(e):
                # a Kubernetes CEL library function skiff does not provide: skip the rule
                # rather than refuse every object (logged once per rule)
                _warn_unsupported(text, _error_text(e))
                continue
            errors.append(
                FieldError.invalid(field, _type_name(node, value), f"{text}: {_error_text(e)}")
            )
            continue
        if ok is None:
            errors.append(
                FieldError.invalid(field, _type_name(node, value), f"{text}: no matching overload")
            )
            continue
        if ok:
            continue
        message = str(rule.get("message") or "") or f"failed rule: {text}"
        expr = rule.get("messageExpression")
        if isinstance(expr, str):
            try:
                rendered = _program(expr).evaluate(activation)
                if isinstance(rendered, str) and rendered.strip():
                    message = str(rendered)
            except Exception:
                pass
        reason = str(rule.get("reason") or "FieldValueInvalid")
        if reason == "FieldValueInvalid":
            errors.append(FieldError.invalid(field, _type_name(node, value), message))
        else:
            errors.append(FieldError(reason, field, message))
