"""Cost of ``x-kubernetes-validations`` rules: the static estimate made when a CRD is written, and
the runtime meter an evaluation runs under.

Kubernetes (apiextensions-apiserver ``pkg/apis/apiextensions/validation`` and
``pkg/apiserver/schema/cel``, on cel-go's ``checker.Cost``) prices every rule in the worst case
the schema allows: lists as long as ``maxItems`` (or as many items as fit into a 3 MiB request),
strings as long as ``4 * maxLength`` bytes (or the whole request), maps as big as
``maxProperties``, a rule under lists and maps multiplied by how often its node can occur. A
rule estimated above 10,000,000 is refused, and so is a schema whose rules add up to more than
100,000,000, with upstream's "estimated rule cost exceeds budget by factor of ..." words.

The estimate here walks celpy's parse tree with cel-go's main figures: 1 per identifier,
field selection, function call and operator; string traversals (``==``, ``contains``,
``startsWith``, the Kubernetes string and URL/quantity functions) cost a tenth of the string's
length; ``matches`` costs ``ceil((len+1) * 0.1) * ceil(len(regex) * 0.25)``; a comprehension
(``all``, ``exists``, ``exists_one``, ``map``, ``filter``) costs its range plus, per element, its
body and 2 for the loop. It is not cel-go's estimate to the unit (cel-go also prices some
conversions as unbounded), but it lands on the same side of the limits for the usual rules:
``self.all(x, x.matches('^[a-z]+$'))`` over a list without ``maxItems`` of strings without
``maxLength`` is refused, the same rule with both bounds (say 100 items of 63 characters) is
accepted.

At runtime Kubernetes stops a rule after 1,000,000 units of actual cost and all the rules of one
object after 10,000,000 (``PerCallLimit``, ``RuntimeCELCostBudget``). :class:`CostMeter` counts
the same kinds of steps while celpy evaluates (every identifier, selection, index, call and
operator node, plus the traversal costs above), so a runaway rule stops near the same point.
"""

from __future__ import annotations

import math
import time
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import lark

__all__ = [
    "METER",
    "PER_CALL_LIMIT",
    "RUNTIME_BUDGET",
    "RUNTIME_SECONDS",
    "STATIC_CRD_LIMIT",
    "STATIC_RULE_LIMIT",
    "CostExceeded",
    "CostMeter",
    "charge",
    "charge_regex",
    "cost_error_message",
    "estimate",
    "max_cardinality",
    "min_size",
]

_Tree = lark.Tree[Any]
STATIC_RULE_LIMIT = 10_000_000  # StaticEstimatedCostLimit
STATIC_CRD_LIMIT = 100_000_000  # StaticEstimatedCRDCostLimit
PER_CALL_LIMIT = 1_000_000  # celconfig.PerCallLimit
RUNTIME_BUDGET = 10_000_000  # celconfig.RuntimeCELCostBudget
RUNTIME_SECONDS = 5.0  # skiff's own bound on the time all rules of one object may take
MAX_REQUEST_BYTES = 3 * 1024 * 1024  # celconfig.MaxRequestSizeBytes
_STRING_FACTOR = 0.1  # cel-go common.StringTraversalCostFactor
_REGEX_FACTOR = 0.25  # cel-go common.RegexStringLengthCostFactor
_FORMAT_SIZES = {"date": 12, "date-time": 37, "duration": 32}
_MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})
# functions whose cost grows with the length of their receiver (string) or argument
_STRING_FUNCTIONS = frozenset(
    {
        "contains",
        "lowerAscii",
        "upperAscii",
        "trim",
        "replace",
        "split",
        "substring",
        "charAt",
        "indexOf",
        "lastIndexOf",
        "find",
        "findAll",
        "join",
        "reverse",
        "isURL",
        "url",
        "isQuantity",
        "quantity",
        "isIP",
        "ip",
        "isCIDR",
        "cidr",
        "format",
        "quote",
    }
)
_LIST_FUNCTIONS = frozenset({"isSorted", "sum", "min", "max", "indexOf", "lastIndexOf"})


def cost_error_message(what: str, cost: int, limit: int) -> str:
    """Upstream's ``getCostErrorMessage``."""
    factor = cost / limit
    if factor > 100.0:
        text = "more than 100x"
    elif factor < 1.5:
        text = f"{factor:f}x"
    else:
        text = f"{factor:.1f}x"
    return (
        f"{what} exceeds budget by factor of {text} (try simplifying the rule, or adding "
        "maxItems, maxProperties, and maxLength where arrays, maps, and strings are declared)"
    )


# --------------------------------------------------------------------------- schema sizes


def min_size(node: Any) -> int:
    """The fewest JSON bytes a value of ``node`` takes (cel ``DeclType.MinSerializedSize``)."""
    if not isinstance(node, dict):
        return 1
    typ = node.get("type")
    if typ == "string":
        return 2
    if typ == "boolean":
        return 4
    if typ in ("object", "array"):
        return 2
    return 1


def max_cardinality(node: Any) -> int:
    """How often a value of ``node`` can occur in one request (compilation.go
    ``maxCardinality``): the estimate for rules under unbounded lists and maps."""
    return MAX_REQUEST_BYTES // (min_size(node) + 1)


@dataclass(frozen=True)
class _Val:
    """What the estimator knows of a value: its schema (if any), its kind and its greatest
    size (characters of a string, items of a list, entries of a map)."""

    schema: Any = None
    kind: str = "scalar"  # scalar | string | list | map | object
    size: int = 0
    elem: Any = None  # _Val of list items / map values


_SCALAR = _Val()


def _of_schema(node: Any) -> _Val:
    if not isinstance(node, dict):
        return _SCALAR
    typ = node.get("type")
    if typ == "string" or node.get("x-kubernetes-int-or-string"):
        if isinstance(node.get("maxLength"), int):
            size = max(node["maxLength"], 0) * 4
        elif isinstance(node.get("enum"), list) and node["enum"]:
            size = max(len(e) if isinstance(e, str) else 0 for e in node["enum"])
        elif node.get("x-kubernetes-int-or-string"):
            size = MAX_REQUEST_BYTES - 2
        else:
            size = _FORMAT_SIZES.get(str(node.get("format") or ""), MAX_REQUEST_BYTES - 2)
        return _Val(node, "string", size)
    if typ == "array":
        items = node.get("items")
        if isinstance(node.get("maxItems"), int):
            size = max(node["maxItems"], 0)
        else:
            size = (MAX_REQUEST_BYTES - 2) // (min_size(items) + 1)
        return _Val(node, "list", size, items)
    if typ == "object" and isinstance(node.get("additionalProperties"), dict):
        values = node["additionalProperties"]
        if isinstance(node.get("maxProperties"), int):
            size = max(node["maxProperties"], 0)
        else:
            size = (MAX_REQUEST_BYTES - 2) // (min_size(values) + 6)
        return _Val(node, "map", size, values)
    if typ == "object" or node.get("properties"):
        return _Val(node, "object")
    return _Val(node)


def _elem(v: _Val) -> _Val:
    if isinstance(v.elem, _Val):
        return v.elem
    return _of_schema(v.elem) if v.elem is not None else _SCALAR


def _string_cost(size: int) -> int:
    return math.ceil(size * _STRING_FACTOR)


# --------------------------------------------------------------------------- the estimate


def estimate(tree: _Tree, self_schema: Any, *, old_self: bool = False) -> int:
    """The worst-case cost of one evaluation of a compiled rule (``tree``) at a node whose
    schema is ``self_schema`` (without the cardinality factor)."""
    env = {"self": _of_schema(self_schema)}
    if old_self:
        env["oldSelf"] = env["self"]
    cost, _ = _Estimator(env).walk(tree)
    return cost


class _Estimator:
    def __init__(self, env: dict[str, _Val]) -> None:
        self.env = env

    def walk(self, t: Any) -> tuple[int, _Val]:
        if not isinstance(t, lark.Tree):
            return 0, _SCALAR
        handler = getattr(self, f"_{t.data}", None)
        if handler is not None:
            result: tuple[int, _Val] = handler(t)
            return result
        cost, val = 0, _SCALAR
        for child in t.children:
            c, val = self.walk(child)
            cost += c
        return cost, val

    def _expr(self, t: _Tree) -> tuple[int, _Val]:
        if len(t.children) == 3 and t.children[1] is not None:
            c0, _ = self.walk(t.children[0])
            c1, v1 = self.walk(t.children[1])
            c2, v2 = self.walk(t.children[2])
            return c0 + max(c1, c2), v1 if v1.size >= v2.size else v2
        return self.walk(t.children[0])

    def _logical(self, t: _Tree) -> tuple[int, _Val]:
        parts = [self.walk(c) for c in t.children if c is not None]
        if len(parts) == 1:
            return parts[0]
        return sum(c for c, _ in parts), _SCALAR

    _conditionalor = _logical
    _conditionaland = _logical

    def _binary(self, t: _Tree) -> tuple[int, _Val]:
        if len(t.children) == 1:
            return self.walk(t.children[0])
        op, right = t.children[0], t.children[1]
        cl, vl = self.walk(op.children[0]) if isinstance(op, lark.Tree) else (0, _SCALAR)
        cr, vr = self.walk(right)
        name = op.data if isinstance(op, lark.Tree) else ""
        cost = cl + cr + 1
        if name in ("relation_eq", "relation_ne"):
            if vl.kind == "string" and vr.kind == "string":
                cost += _string_cost(min(vl.size, vr.size))
            elif vl.kind in ("list", "map") and vr.kind in ("list", "map"):
                cost += min(vl.size, vr.size)
            return cost, _SCALAR
        if name == "relation_in":
            return cost + (vr.size if vr.kind in ("list", "map") else 0), _SCALAR
        if name == "addition_add" and vl.kind == vr.kind and vl.kind in ("string", "list"):
            size = vl.size + vr.size
            elem = vl.elem if vl.kind == "list" else None
            return cost + _string_cost(size), _Val(None, vl.kind, size, elem)
        return cost, _SCALAR

    _relation = _binary
    _addition = _binary
    _multiplication = _binary

    def _unary(self, t: _Tree) -> tuple[int, _Val]:
        if len(t.children) == 1:
            return self.walk(t.children[0])
        c, _ = self.walk(t.children[1])
        return c + 1, _SCALAR

    def _ident(self, t: _Tree) -> tuple[int, _Val]:
        return 1, self.env.get(str(t.children[0]), _SCALAR)

    def _literal(self, t: _Tree) -> tuple[int, _Val]:
        token = str(t.children[0])
        if token[:1] in ("'", '"') or token[:2].lower() in ("r'", 'r"'):
            return 0, _Val(None, "string", max(len(token.lstrip("rR")) - 2, 0))
        return 0, _SCALAR

    def _list_lit(self, t: _Tree) -> tuple[int, _Val]:
        items = t.children[0].children if t.children and t.children[0] is not None else []
        parts = [self.walk(c) for c in items]
        elem = max((v for _, v in parts), key=lambda v: v.size, default=_SCALAR)
        return sum(c for c, _ in parts) + 1, _Val(None, "list", len(parts), elem)

    def _map_lit(self, t: _Tree) -> tuple[int, _Val]:
        items = t.children[0].children if t.children and t.children[0] is not None else []
        parts = [self.walk(c) for c in items]
        return sum(c for c, _ in parts) + 1, _Val(None, "map", len(parts) // 2)

    def _member_dot(self, t: _Tree) -> tuple[int, _Val]:
        c, v = self.walk(t.children[0])
        name = str(t.children[1])
        if v.kind == "map":
            return c + 1, _elem(v)
        props = v.schema.get("properties") if isinstance(v.schema, dict) else None
        if isinstance(props, dict) and name in props:
            return c + 1, _of_schema(props[name])
        return c + 1, _SCALAR

    def _member_index(self, t: _Tree) -> tuple[int, _Val]:
        c, v = self.walk(t.children[0])
        ci, _ = self.walk(t.children[1])
        return c + ci + 1, _elem(v) if v.kind in ("list", "map") else _SCALAR

    def _args(self, t: Any) -> list[Any]:
        return list(t.children) if isinstance(t, lark.Tree) else []

    def _member_dot_arg(self, t: _Tree) -> tuple[int, _Val]:
        receiver, name_tok = t.children[0], str(t.children[1])
        args = self._args(t.children[2] if len(t.children) > 2 else None)
        cr, vr = self.walk(receiver)
        if name_tok in _MACROS and len(args) == 2:
            return self._comprehension(name_tok, cr, vr, args)
        parts = [self.walk(a) for a in args]
        call_cost, val = _call_cost(name_tok, vr, [v for _, v in parts])
        return cr + sum(c for c, _ in parts) + call_cost, val

    def _ident_arg(self, t: _Tree) -> tuple[int, _Val]:
        name = str(t.children[0])
        args = self._args(t.children[1] if len(t.children) > 1 else None)
        if name == "has":
            c, _ = self.walk(args[0]) if args else (0, _SCALAR)
            return c, _SCALAR
        parts = [self.walk(a) for a in args]
        cost = sum(c for c, _ in parts)
        if not parts:
            return cost + 1, _SCALAR
        call_cost, val = _call_cost(name, parts[0][1], [v for _, v in parts[1:]])
        return cost + call_cost, val

    def _comprehension(self, macro: str, cr: int, vr: _Val, args: list[Any]) -> tuple[int, _Val]:
        var = _ident_name(args[0])
        item = _elem(vr) if vr.kind == "list" else _Val(None, "string", MAX_REQUEST_BYTES - 2)
        saved = self.env.get(var)
        self.env[var] = item
        try:
            body, body_val = self.walk(args[1])
        finally:
            if saved is None:
                self.env.pop(var, None)
            else:
                self.env[var] = saved
        n = vr.size if vr.kind in ("list", "map") else 1
        cost = cr + n * (body + 2) + 1
        if macro == "map":
            return cost, _Val(None, "list", n, body_val)
        if macro == "filter":
            return cost, _Val(None, "list", n, item)
        return cost, _SCALAR


def _ident_name(t: Any) -> str:
    if isinstance(t, lark.Tree):
        for sub in t.iter_subtrees():
            if sub.data == "ident":
                return str(sub.children[0])
    return ""


def _call_cost(name: str, receiver: _Val, args: list[_Val]) -> tuple[int, _Val]:
    """(cost, result) of a call with the given receiver (or first argument) and arguments."""
    if name == "matches" and args:
        str_cost = math.ceil((receiver.size + 1) * _STRING_FACTOR)
        return str_cost * math.ceil(args[0].size * _REGEX_FACTOR), _SCALAR
    if name in ("startsWith", "endsWith") and args:
        return 1 + _string_cost(args[0].size), _SCALAR
    if name in _LIST_FUNCTIONS and receiver.kind == "list":
        elem = _elem(receiver)
        per = _string_cost(elem.size) if elem.kind == "string" else 1
        return 1 + receiver.size * max(per, 1), elem
    if name in _STRING_FUNCTIONS:
        size = receiver.size + sum(a.size for a in args if a.kind == "string")
        if name == "split":
            return 1 + _string_cost(size), _Val(None, "list", receiver.size, receiver)
        if name == "findAll":
            return 1 + _string_cost(size), _Val(None, "list", receiver.size, receiver)
        if name in ("lowerAscii", "upperAscii", "trim", "replace", "substring", "reverse"):
            return 1 + _string_cost(size), _Val(None, "string", receiver.size)
        if name == "join":
            return 1 + _string_cost(size), _Val(None, "string", MAX_REQUEST_BYTES - 2)
        return 1 + _string_cost(size), _SCALAR
    if name == "size":
        return 1, _SCALAR
    return 1, _SCALAR


# --------------------------------------------------------------------------- runtime


class CostExceeded(Exception):
    """Raised by :class:`CostMeter` once a rule passes its limit (cel-go's "operation
    cancelled: actual cost limit exceeded")."""

    def __init__(self) -> None:
        super().__init__("operation cancelled: actual cost limit exceeded")


@dataclass
class CostMeter:
    """The actual cost of one evaluation, stopped at ``limit`` units, or at the monotonic
    ``deadline`` (celpy walks its parse tree: a unit of cost takes tens of microseconds
    where cel-go takes tens of nanoseconds, so the units alone would let a rule Kubernetes
    accepts hold the API server for minutes; upstream likewise stops at the request's
    deadline)."""

    limit: int = PER_CALL_LIMIT
    spent: int = 0
    deadline: float | None = None
    timed_out: bool = False

    def add(self, units: int) -> None:
        self.spent += units
        if self.spent > self.limit:
            raise CostExceeded()
        if self.deadline is not None and time.monotonic() > self.deadline:
            self.timed_out = True
            raise CostExceeded()

    def traverse(self, value: Any) -> None:
        """Charge a tenth of a string's length (a string function's traversal)."""
        if isinstance(value, str) and len(value) >= 10:
            self.add(len(value) // 10)


METER: ContextVar[CostMeter | None] = ContextVar("skiff_cel_meter", default=None)
"""The meter of the evaluation under way (library functions charge their traversals)."""


def charge(value: Any) -> None:
    """Charge the running evaluation (if any) for traversing ``value``."""
    meter = METER.get()
    if meter is not None:
        meter.traverse(value)


def charge_regex(text: str, regex: str) -> None:
    """Charge the running evaluation (if any) for matching ``regex`` against ``text``
    (cel-go's ``matches`` figure)."""
    meter = METER.get()
    if meter is not None:
        str_cost = math.ceil((len(text) + 1) * _STRING_FACTOR)
        meter.add(str_cost * math.ceil(len(regex) * _REGEX_FACTOR))
