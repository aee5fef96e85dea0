"""``x-kubernetes-validations``: CEL rules of CRD schemas, evaluated with cel-python (``celpy``).

As apiextensions-apiserver's ``pkg/apiserver/schema/cel`` does: each rule runs at the schema
node declaring it with ``self`` bound to the value there; a rule naming ``oldSelf`` is a
transition rule, run only on updates where the old object has a value at the same place
(correlated through object properties, map keys and ``x-kubernetes-list-type: map`` keys), or
always with ``optionalOldSelf``. A failing rule is a field error at the node (plus its
``fieldPath``) with the rule's ``reason`` (FieldValueInvalid by default) and ``message`` (or
``messageExpression``, else ``failed rule: <rule>``). Rules are compiled when the CRD is
written (a rule that does not compile makes the CRD invalid) and cached.

At CRD write each rule (and messageExpression) is also priced (``skiff.apiserver.crdcelcost``):
its worst-case cost times how often its node can occur must stay within 10,000,000, all of them
within 100,000,000, or the CRD is refused with upstream's words; ``oldSelf`` is refused where
old values cannot be correlated (under lists that are not ``x-kubernetes-list-type: map`` and
atomic maps). At runtime every evaluation is metered: a rule stops past 1,000,000 units and an
object's rules past 10,000,000 (or skiff's wall-clock bound), and no further rules run.

Ratcheting (CRDValidationRatcheting, default on since 1.30): on update, a rule without
``oldSelf`` that returns false for a value equal to its correlated old value is not an error
(upstream turns it into a warning; skiff's strategies have no warning channel, so it is
dropped). Evaluation errors are not ratcheted.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import time
from collections.abc import Iterator
from typing import Any

import celpy
from celpy import celtypes
from celpy.adapter import json_to_cel
from celpy.evaluation import Evaluator

from skiff.api.field import FieldError
from skiff.apiserver.crdcel_lib import KUBERNETES_FUNCTIONS, NAMESPACES, Optional
from skiff.apiserver.crdcelcost import (
    METER,
    PER_CALL_LIMIT,
    RUNTIME_BUDGET,
    RUNTIME_SECONDS,
    STATIC_CRD_LIMIT,
    STATIC_RULE_LIMIT,
    CostExceeded,
    CostMeter,
    cost_error_message,
    estimate,
    max_cardinality,
)

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


_FUNCTIONS: dict[str, Any] = KUBERNETES_FUNCTIONS


def _program_ast(rule: str) -> Any:
    return _program(rule).ast


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


def _walk(
    node: Any, path: str, cardinality: int | None = 1, uncorrelatable: str = ""
) -> Iterator[tuple[dict[str, Any], str, int | None, str]]:
    """Every schema node with its path, how often it can occur in one object (the product
    of the ``maxItems``/``maxProperties`` above it; None when some list or map above is
    unbounded), as upstream's ``CELSchemaContext.MaxCardinality``, and the path of the
    uncorrelatable list or atomic map it is under ("" if none: old values correlate only
    through properties, map keys and ``x-kubernetes-list-type: map`` keys)."""
    if not isinstance(node, dict):
        return
    yield node, path, cardinality, uncorrelatable
    atomic_map = node.get("x-kubernetes-map-type") == "atomic"
    below_props = uncorrelatable or (path if atomic_map else "")
    for name, sub in (node.get("properties") or {}).items():
        yield from _walk(sub, f"{path}.properties[{name}]", cardinality, below_props)
    for key, bound in (("items", "maxItems"), ("additionalProperties", "maxProperties")):
        limit = node.get(bound)
        below = (
            cardinality * max(limit, 0)
            if cardinality is not None and isinstance(limit, int)
            else None
        )
        if key == "items" and node.get("x-kubernetes-list-type") != "map":
            inner = uncorrelatable or path
        else:
            inner = below_props
        yield from _walk(node.get(key), f"{path}.{key}", below, inner)


def _compile_error(field: str, text: str, what: str) -> FieldError | None:
    try:
        _program(text)
    except Exception as e:  # celpy's parse and compile errors have no common base
        return FieldError.invalid(field, text, f"compilation failed: {e}")
    return None


def check_rules(schema: Any, path: str) -> list[FieldError]:
    """Field errors of the rules in a CRD version's schema: each must compile, and its
    estimated cost (times how often its node can occur) must stay within the per-rule limit,
    and all of them within the per-CRD limit (``skiff.apiserver.crdcelcost``)."""
    errors: list[FieldError] = []
    total = 0
    expensive: list[tuple[int, str]] = []
    for node, where, cardinality, uncorrelatable in _walk(schema, path):
        for i, rule in enumerate(node.get("x-kubernetes-validations") or []):
            if not isinstance(rule, dict) or not isinstance(rule.get("rule"), str):
                continue
            field = f"{where}.x-kubernetes-validations[{i}]"
            errors += _shape_errors(node, rule, field)
            if not rule["rule"].strip():
                continue
            compiled = _compile_error(f"{field}.rule", rule["rule"], "rule")
            reason = rule.get("reason")
            if reason is not None and reason not in _REASONS:
                errors.append(FieldError.not_supported(f"{field}.reason", reason, sorted(_REASONS)))
            uses_old = bool(_OLD_SELF.search(rule["rule"]))
            if rule.get("optionalOldSelf") is not None and not uses_old:
                errors.append(
                    FieldError.invalid(
                        f"{field}.optionalOldSelf",
                        rule["optionalOldSelf"],
                        "may not be set if oldSelf is not used in rule",
                    )
                )
            if compiled is not None:
                errors.append(compiled)
                continue
            if uses_old and uncorrelatable:
                errors.append(
                    FieldError.invalid(
                        f"{field}.rule",
                        rule["rule"],
                        "oldSelf cannot be used on the uncorrelatable portion of the schema "
                        f"within {uncorrelatable}",
                    )
                )
            factor = cardinality if cardinality is not None else max_cardinality(node)
            sources = [("rule", rule["rule"], "estimated rule cost")]
            expr = rule.get("messageExpression")
            if isinstance(expr, str) and expr.strip():
                failed = _compile_error(f"{field}.messageExpression", expr, "messageExpression")
                if failed is not None:
                    errors.append(failed)
                else:
                    sources.append(("messageExpression", expr, "estimated messageExpression cost"))
            for key, text, what in sources:
                cost = _multiply(estimate(_program_ast(text), node, old_self=uses_old), factor)
                if cost > STATIC_RULE_LIMIT:
                    errors.append(
                        FieldError.forbidden(
                            f"{field}.{key}", cost_error_message(what, cost, STATIC_RULE_LIMIT)
                        )
                    )
                total = min(total + cost, _MAX_UINT64)
                if cost >= STATIC_CRD_LIMIT // 100:
                    expensive.append((cost, f"{field}.{key}"))
    if total > STATIC_CRD_LIMIT:
        expensive.sort(key=lambda e: -e[0])
        for _, where in expensive[:4]:
            errors.append(
                FieldError.forbidden(
                    where,
                    "contributed to estimated rule cost total exceeding cost limit for entire "
                    "OpenAPIv3 schema",
                )
            )
        errors.append(
            FieldError.forbidden(
                path,
                cost_error_message(
                    "x-kubernetes-validations estimated rule cost total for entire OpenAPIv3 "
                    "schema",
                    total,
                    STATIC_CRD_LIMIT,
                ),
            )
        )
    return errors


_MAX_UINT64 = 2**64 - 1
_NEWLINES = re.compile(r"[\n\r]+")


def _shape_errors(node: dict[str, Any], rule: dict[str, Any], field: str) -> list[FieldError]:
    """What apiextensions' ``validation.go`` checks of a rule besides compiling it: the rule
    set, messages without line breaks (a multi-line rule needs one), non-blank
    ``messageExpression`` and ``fieldPath``, a ``fieldPath`` naming a field of the schema."""
    errors: list[FieldError] = []
    text = str(rule.get("rule") or "")
    message = rule.get("message")
    msg = str(message or "")
    if not text.strip():
        errors.append(FieldError.required(f"{field}.rule", "rule is not specified"))
    elif msg and not msg.strip():
        errors.append(
            FieldError.invalid(f"{field}.message", msg, "message must be non-empty if specified")
        )
    elif _NEWLINES.search(msg.strip()):
        errors.append(
            FieldError.invalid(f"{field}.message", msg, "message must not contain line breaks")
        )
    elif _NEWLINES.search(text.strip()) and not msg.strip():
        errors.append(
            FieldError.required(
                f"{field}.message", "message must be specified if rule contains line breaks"
            )
        )
    expr = rule.get("messageExpression")
    if isinstance(expr, str) and expr and not expr.strip():
        errors.append(
            FieldError.required(
                f"{field}.messageExpression", "messageExpression must be non-empty if specified"
            )
        )
    path = rule.get("fieldPath")
    if isinstance(path, str) and path:
        if not path.strip():
            errors.append(
                FieldError.invalid(
                    f"{field}.fieldPath", path, "fieldPath must be non-empty if specified"
                )
            )
        if _NEWLINES.search(path):
            errors.append(
                FieldError.invalid(
                    f"{field}.fieldPath", path, "fieldPath must not contain line breaks"
                )
            )
        if not _field_path_valid(node, path):
            errors.append(
                FieldError.invalid(f"{field}.fieldPath", path, "fieldPath must be a valid path")
            )
    return errors


_PATH_TOKEN = re.compile(r"\.([^.\[\]']+)|\['((?:[^'\\]|\\.)*)'\]")


def _field_path_valid(node: Any, path: str) -> bool:
    """Upstream's ``ValidFieldPath``: ``.a.b`` and ``['key']`` steps through properties and
    map values of the schema."""
    pos = 0
    while pos < len(path):
        m = _PATH_TOKEN.match(path, pos)
        if m is None or not isinstance(node, dict):
            return False
        name = m.group(1) if m.group(1) is not None else re.sub(r"\\(.)", r"\1", m.group(2))
        props = node.get("properties")
        if isinstance(props, dict) and props:
            if name not in props:
                return False
            node = props[name]
        elif isinstance(node.get("additionalProperties"), dict):
            node = node["additionalProperties"]
        else:
            return False
        pos = m.end()
    return True


def _multiply(cost: int, factor: int) -> int:
    return min(cost * factor, _MAX_UINT64)


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


class _Budget:
    """What is left of the runtime cost budget of one object's validation."""

    def __init__(self, total: int, seconds: float, root_unchanged: bool = False) -> None:
        self.left = total
        self.deadline = time.monotonic() + seconds
        # the root's rules see only name and generateName of metadata, but ratchet (as
        # upstream) only when the whole object is unchanged
        self.root_unchanged = root_unchanged

    def meter(self) -> CostMeter:
        return CostMeter(min(PER_CALL_LIMIT, self.left), deadline=self.deadline)


def validate_rules(
    schema: dict[str, Any], obj: dict[str, Any], old: dict[str, Any] | None
) -> list[FieldError]:
    """Field errors of the CEL rules of ``schema`` on ``obj`` (``old`` on update).

    With ``old``, a rule that does not use ``oldSelf`` and fails on a value equal to the
    correlated old value is not an error (CRDValidationRatcheting, on by default since 1.30).
    All rules of the object share the runtime cost budget; once it is spent the last error
    says so and no further rules run, as upstream."""
    errors: list[FieldError] = []
    old_root: Any = _root_view(old) if old is not None else _MISSING
    with contextlib.suppress(_Stop):
        budget = _Budget(RUNTIME_BUDGET, RUNTIME_SECONDS, old is not None and old == obj)
        _validate(schema, _root_view(obj), old_root, "", errors, budget)
    return errors


class _Stop(Exception):
    """No further rules run (the budget is spent)."""


def _child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _validate(
    node: Any, value: Any, old: Any, path: str, errors: list[FieldError], budget: _Budget
) -> None:
    if not isinstance(node, dict) or value is None:
        return
    rules = node.get("x-kubernetes-validations")
    if rules:
        _run(node, rules, value, old, path, errors, budget)
    if isinstance(value, dict):
        props = node.get("properties")
        extra = node.get("additionalProperties")
        old_map = old if isinstance(old, dict) else {}
        for key, item in value.items():
            sub = props.get(key) if isinstance(props, dict) else None
            before = old_map.get(key, _MISSING)
            if isinstance(sub, dict):
                _validate(sub, item, before, _child(path, key), errors, budget)
            elif isinstance(extra, dict):
                _validate(extra, item, before, f"{path}[{key}]", errors, budget)
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
            _validate(items, item, prior, f"{path}[{i}]", errors, budget)


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


def _costed(name: str) -> Any:
    """Evaluator method ``name`` charging 1 for each step cel-go would count: an operator (a
    node of that level with two operands), a selection, index or call, an identifier."""
    base = getattr(Evaluator, name)
    if name in ("relation", "addition", "multiplication", "unary"):

        def operator(self: _Metered, tree: Any) -> Any:
            if len(tree.children) > 1:
                self.meter.add(1)
            return base(self, tree)

        return operator
    if name == "primary":

        def primary(self: _Metered, tree: Any) -> Any:
            if getattr(tree.children[0], "data", "") in ("ident", "ident_arg"):
                self.meter.add(1)
            return base(self, tree)

        return primary

    def step(self: _Metered, tree: Any) -> Any:
        self.meter.add(1)
        return base(self, tree)

    return step


class _Metered(Evaluator):
    """celpy's evaluator, charging a :class:`CostMeter` as it goes (macro bodies included)."""

    meter: CostMeter

    relation = _costed("relation")
    addition = _costed("addition")
    multiplication = _costed("multiplication")
    unary = _costed("unary")
    primary = _costed("primary")
    member_dot = _costed("member_dot")
    member_dot_arg = _costed("member_dot_arg")
    member_index = _costed("member_index")

    def sub_evaluator(self, ast: Any) -> Evaluator:
        sub = _MacroBody(ast, activation=self.activation)
        sub.meter = self.meter
        return sub


class _MacroBody(_Metered):
    """The body of a comprehension: each element also costs the loop's condition and step
    (2, as cel-go counts them)."""

    def evaluate(self, context: Any = None) -> Any:
        self.meter.add(2)
        return super().evaluate(context)


def _evaluate(text: str, activation: dict[str, Any], meter: CostMeter) -> Any:
    runner = _program(text)
    evaluator = _Metered(runner.ast, activation=runner.new_activation())
    evaluator.meter = meter
    token = METER.set(meter)
    try:
        return evaluator.evaluate(activation)
    finally:
        METER.reset(token)


def _rule_text(rule: dict[str, Any]) -> str:
    """Upstream's ``ruleErrorString``: the message if there is one, else the rule."""
    return str(rule.get("message") or "").strip() or str(rule["rule"]).strip()


def _run(
    node: dict[str, Any],
    rules: Any,
    value: Any,
    old: Any,
    path: str,
    errors: list[FieldError],
    budget: _Budget,
) -> None:
    typ = _type_name(node, value)
    if budget.left <= 0:
        errors.append(FieldError.invalid(path, typ, _OUT_OF_BUDGET))
        raise _Stop
    for rule in rules if isinstance(rules, list) else ():
        if not isinstance(rule, dict) or not isinstance(rule.get("rule"), str):
            continue
        text = rule["rule"]
        transition = bool(_OLD_SELF.search(text))
        optional = bool(rule.get("optionalOldSelf"))
        if transition and old is _MISSING and not optional:
            continue
        activation: dict[str, Any] = {**NAMESPACES, "self": json_to_cel(value)}
        if transition and optional:
            present = old is not _MISSING
            activation["oldSelf"] = Optional(json_to_cel(old) if present else None, present)
        elif transition:
            activation["oldSelf"] = json_to_cel(old)
        field = path
        if isinstance(rule.get("fieldPath"), str) and rule["fieldPath"]:
            field = (
                path + rule["fieldPath"]
                if rule["fieldPath"].startswith("[")
                else _child(path, rule["fieldPath"].lstrip("."))
            )
        # an unchanged value keeps passing a rule it already failed (ratcheting)
        ratchet = (
            not transition
            and old is not _MISSING
            and old == value
            and (path != "" or budget.root_unchanged)
        )
        meter = budget.meter()
        try:
            result = _evaluate(text, activation, meter)
            ok = _truthy(result)
        except CostExceeded as e:
            budget.left -= meter.spent
            if meter.limit < PER_CALL_LIMIT or meter.timed_out:
                errors.append(FieldError.invalid(path, typ, _OUT_OF_BUDGET))
            else:
                errors.append(
                    FieldError.invalid(
                        path,
                        typ,
                        f"'{e}': no further validation rules will be run due to call cost "
                        f"exceeds limit for rule: {_rule_text(rule)}",
                    )
                )
            raise _Stop from None
        except Exception as e:  # an evaluation error fails the rule, as upstream
            budget.left -= meter.spent
            why = _error_text(e)
            if _UNSUPPORTED in why:
                # a Kubernetes CEL library function skiff does not provide: skip the rule
                # rather than refuse every object (logged once per rule)
                _warn_unsupported(text, why)
                continue
            # evaluation errors are not ratcheted (upstream appends them directly)
            errors.append(
                FieldError.invalid(path, typ, f"{why} evaluating rule: {_rule_text(rule)}")
            )
            continue
        budget.left -= meter.spent
        if ok is None:
            errors.append(
                FieldError.invalid(
                    path,
                    typ,
                    f"'no such overload': call arguments did not match a supported "
                    f"operator, function or macro signature for rule: {_rule_text(rule)}",
                )
            )
            continue
        if ok or ratchet:
            continue
        message = str(rule.get("message") or "").strip() or f"failed rule: {text.strip()}"
        expr = rule.get("messageExpression")
        if isinstance(expr, str):
            meter = budget.meter()
            try:
                rendered = _evaluate(expr, activation, meter)
                if isinstance(rendered, str) and rendered.strip() and "\n" not in rendered:
                    message = str(rendered).strip()
            except CostExceeded:
                budget.left -= meter.spent
                if meter.limit < PER_CALL_LIMIT or meter.timed_out:
                    why = (
                        "messageExpression evaluation failed due to running out of cost "
                        "budget, no further validation rules will be run"
                    )
                else:
                    why = (
                        "no further validation rules will be run due to call cost exceeds "
                        f"limit for messageExpression: {json.dumps(expr)}"
                    )
                errors.append(FieldError.invalid(path, typ, why))
                raise _Stop from None
            except Exception:
                pass
            budget.left -= meter.spent
        reason = str(rule.get("reason") or "FieldValueInvalid")
        if reason == "FieldValueInvalid":
            errors.append(FieldError.invalid(field, typ, message))
        else:
            errors.append(FieldError(reason, field, message))


_OUT_OF_BUDGET = (
    "validation failed due to running out of cost budget, no further validation rules will be run"
)
