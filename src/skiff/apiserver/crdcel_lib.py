"""The Kubernetes CEL libraries CRD rules use, for cel-python.

cel-python implements standard CEL; Kubernetes 1.32 adds, for CRD rules, cel-go's string
extensions (version 2) and its own libraries (k8s.io/apiserver ``pkg/cel/library``): lists,
regex, URLs, quantities, IP addresses and CIDRs, ``format`` and ``sets``, plus optional types.
They are provided here as receiver-style functions (``self.lowerAscii()`` is
``lowerAscii(self)``); namespaced ones (``sets.contains(a, b)``, ``format.dns1123Label()``,
``optional.of(x)``) through identifiers bound in every activation (:data:`NAMESPACES`) whose
methods dispatch on them. String traversals charge the running evaluation's cost meter.

Provided: ``charAt indexOf lastIndexOf lowerAscii upperAscii replace split substring trim join
format`` (strings); ``isSorted sum min max indexOf lastIndexOf`` (lists); ``find findAll``
(regex; ``matches contains startsWith endsWith`` re-provided to charge their cost); ``isURL url
getScheme getHost getHostname getPort getEscapedPath getQuery``; ``isQuantity quantity isInteger
asInteger asApproximateFloat sign add sub isGreaterThan isLessThan compareTo``; ``isIP ip family
isUnspecified isLoopback isLinkLocalMulticast isLinkLocalUnicast isGlobalUnicast isCIDR cidr
containsIP containsCIDR prefixLength masked`` and ``ip()`` of a CIDR; ``sets.contains
sets.equivalent sets.intersects``; ``format.<name>().validate(s)`` for the named formats;
``optional.of optional.none optional.ofNonZeroValue hasValue value orValue``;
``ip.isCanonical``.

Not provided (cel-python cannot parse or type them): the optional syntax ``a.?b`` and ``[?x]``,
``strings.quote``, the ``authz`` library (not available to CRD rules anyway), type-checked
overload errors at CRD create (cel-python checks types only when evaluating). A rule calling a
function that is not provided is skipped rather than failing every object
(``skiff.apiserver.crdcel``).
"""

from __future__ import annotations

import ipaddress
import itertools
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from celpy import celtypes

from skiff.api.quantity import Quantity, QuantityError, parse_quantity, validate_quantity
from skiff.api.validation import names
from skiff.apiserver.crdcelcost import charge, charge_regex

__all__ = ["KUBERNETES_FUNCTIONS", "NAMESPACES", "Optional"]


def _str(value: Any) -> str:
    text = str(value)
    charge(text)
    return text


def _char_at(s: Any, i: Any) -> Any:
    text, n = _str(s), int(i)
    if n == len(text):
        return celtypes.StringType("")
    return celtypes.StringType(text[n])


def _index_of(target: Any, item: Any, offset: Any = 0) -> Any:
    if isinstance(target, celtypes.ListType | list):
        for i, x in enumerate(target):
            if x == item:
                return celtypes.IntType(i)
        return celtypes.IntType(-1)
    return celtypes.IntType(_str(target).find(_str(item), int(offset)))


def _last_index_of(target: Any, item: Any) -> Any:
    if isinstance(target, celtypes.ListType | list):
        for i in range(len(target) - 1, -1, -1):
            if target[i] == item:
                return celtypes.IntType(i)
        return celtypes.IntType(-1)
    return celtypes.IntType(_str(target).rfind(_str(item)))


def _replace(s: Any, old: Any, new: Any, n: Any = -1) -> Any:
    return celtypes.StringType(_str(s).replace(_str(old), _str(new), int(n)))


def _split(s: Any, sep: Any, n: Any = -1) -> Any:
    limit = int(n)
    if limit == 0:
        return celtypes.ListType([])
    parts = _str(s).split(_str(sep), limit - 1 if limit > 0 else -1)
    return celtypes.ListType([celtypes.StringType(p) for p in parts])


def _substring(s: Any, start: Any, end: Any = None) -> Any:
    text = _str(s)
    return celtypes.StringType(text[int(start) : len(text) if end is None else int(end)])


def _join(items: Any, sep: Any = "") -> Any:
    return celtypes.StringType(_str(sep).join(_str(x) for x in items))


def _is_sorted(items: Any) -> Any:
    values = list(items)
    return celtypes.BoolType(all(a <= b for a, b in itertools.pairwise(values)))


def _sum(items: Any) -> Any:
    values = list(items)
    if not values:
        return celtypes.IntType(0)
    total = values[0]
    for v in values[1:]:
        total = total + v
    return total


def _min(items: Any) -> Any:
    return min(items)


def _max(items: Any) -> Any:
    return max(items)


def _find(s: Any, pattern: Any) -> Any:
    m = re.search(_str(pattern), _str(s))
    return celtypes.StringType(m.group(0) if m else "")


def _find_all(s: Any, pattern: Any, n: Any = -1) -> Any:
    found = [m.group(0) for m in re.finditer(_str(pattern), _str(s))]
    if int(n) >= 0:
        found = found[: int(n)]
    return celtypes.ListType([celtypes.StringType(f) for f in found])


def _is_url(s: Any) -> Any:
    try:
        parts = urlsplit(_str(s))
    except ValueError:
        return celtypes.BoolType(False)
    return celtypes.BoolType(bool(parts.scheme) and (bool(parts.netloc) or bool(parts.path)))


def _is_quantity(s: Any) -> Any:
    try:
        validate_quantity(_str(s))
    except (QuantityError, ValueError):
        return celtypes.BoolType(False)
    return celtypes.BoolType(True)


# --------------------------------------------------------------------------- optional types


class Optional(celtypes.MapType):
    """CEL's ``optional_type`` (cel-python has none): ``oldSelf`` of a rule with
    ``optionalOldSelf``, ``optional.of(x)``, ``optional.none()``, ``format``'s ``validate``."""

    def __init__(self, value: Any = None, present: bool = False) -> None:
        super().__init__({})
        self.value = value
        self.present = present


def _has_value(opt: Any) -> Any:
    return celtypes.BoolType(not isinstance(opt, Optional) or opt.present)


def _value(opt: Any) -> Any:
    if isinstance(opt, Optional):
        if not opt.present:
            raise ValueError("optional.none() dereference")
        return opt.value
    return opt


def _or_value(opt: Any, default: Any) -> Any:
    if isinstance(opt, Optional):
        return opt.value if opt.present else default
    return opt


class _Namespace(celtypes.MapType):
    """An identifier standing for a library namespace (``sets``, ``format``, ``optional``)."""

    def __init__(self, name: str) -> None:
        super().__init__({})
        self.name = name


_SETS = _Namespace("sets")
_FORMAT = _Namespace("format")
_OPTIONAL = _Namespace("optional")
_IP_NS = _Namespace("ip")
NAMESPACES: dict[str, Any] = {
    "sets": _SETS,
    "format": _FORMAT,
    "optional": _OPTIONAL,
    "ip": _IP_NS,
}
"""Identifiers to bind in every activation."""


def _of(ns: Any, value: Any) -> Any:
    if ns is not _OPTIONAL:
        raise TypeError("no such overload: of")
    return Optional(value, True)


def _none(ns: Any) -> Any:
    if ns is not _OPTIONAL:
        raise TypeError("no such overload: none")
    return Optional()


def _of_non_zero(ns: Any, value: Any) -> Any:
    if ns is not _OPTIONAL:
        raise TypeError("no such overload: ofNonZeroValue")
    zero = value in ("", 0, False, None) or (isinstance(value, list | dict) and not value)
    return Optional(value, not zero)


# --------------------------------------------------------------------------- sets


def _contains(target: Any, *args: Any) -> Any:
    if target is _SETS and len(args) == 2:
        a, b = args
        return celtypes.BoolType(all(any(x == y for y in a) for x in b))
    if len(args) != 1:
        raise TypeError("no such overload: contains")
    return celtypes.BoolType(_str(args[0]) in _str(target))


def _equivalent(ns: Any, a: Any, b: Any) -> Any:
    if ns is not _SETS:
        raise TypeError("no such overload: equivalent")
    return celtypes.BoolType(
        all(any(x == y for y in b) for x in a) and all(any(x == y for y in a) for x in b)
    )


def _intersects(ns: Any, a: Any, b: Any) -> Any:
    if ns is not _SETS:
        raise TypeError("no such overload: intersects")
    return celtypes.BoolType(any(any(x == y for y in b) for x in a))


# --------------------------------------------------------------------------- strings, regex


def _matches(s: Any, pattern: Any) -> Any:
    text, regex = str(s), str(pattern)
    charge_regex(text, regex)
    return celtypes.BoolType(re.search(regex, text) is not None)


def _starts_with(s: Any, prefix: Any) -> Any:
    return celtypes.BoolType(str(s).startswith(_str(prefix)))


def _ends_with(s: Any, suffix: Any) -> Any:
    return celtypes.BoolType(str(s).endswith(_str(suffix)))


_VERB = re.compile(r"%(\.\d+)?([sdfeExXobc%])")


def _format(template: Any, args: Any = None) -> Any:
    """cel-go's ``string.format(list)``: ``%s %d %f %e %x %X %o %b`` and ``%%``."""
    values = list(args or [])
    out: list[str] = []
    pos = 0
    text = _str(template)

    def one(m: re.Match[str]) -> str:
        nonlocal pos
        precision, verb = m.group(1), m.group(2)
        if verb == "%":
            return "%"
        if pos >= len(values):
            raise ValueError(f"index {pos} out of range")
        v = values[pos]
        pos += 1
        if verb == "s":
            return _show(v)
        if verb == "d":
            return str(int(v))
        if verb in "fe":
            digits = int(precision[1:]) if precision else 6
            return f"{float(v):.{digits}{verb}}"
        if verb == "E":
            return f"{float(v):E}"
        if verb in "xX":
            raw = v.encode() if isinstance(v, str) else None
            word = raw.hex() if raw is not None else format(int(v), "x")
            return word.upper() if verb == "X" else word
        if verb == "o":
            return format(int(v), "o")
        if verb == "b":
            return format(int(v), "b")
        return str(v)

    out.append(_VERB.sub(one, text))
    return celtypes.StringType("".join(out))


def _show(v: Any) -> str:
    if isinstance(v, celtypes.BoolType | bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[" + ", ".join(_show(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_show(k)}: {_show(x)}" for k, x in v.items()) + "}"
    if v is None:
        return "null"
    return str(v)


# --------------------------------------------------------------------------- URLs


class _URL(celtypes.StringType):
    """A parsed URL (``url(s)``)."""


def _url(s: Any) -> Any:
    text = _str(s)
    if not _is_url(text):
        raise ValueError(f"URL parse error during conversion from string: {text}")
    return _URL(text)


def _get_scheme(u: Any) -> Any:
    return celtypes.StringType(urlsplit(str(u)).scheme)


def _get_host(u: Any) -> Any:
    netloc = urlsplit(str(u)).netloc
    return celtypes.StringType(netloc.rpartition("@")[2])


def _get_hostname(u: Any) -> Any:
    return celtypes.StringType(urlsplit(str(u)).hostname or "")


def _get_port(u: Any) -> Any:
    host = urlsplit(str(u)).netloc.rpartition("@")[2]
    port = host.rpartition(":")[2] if ":" in host.rpartition("]")[2] else ""
    return celtypes.StringType(port)


def _get_escaped_path(u: Any) -> Any:
    return celtypes.StringType(urlsplit(str(u)).path)


def _get_query(u: Any) -> Any:
    query = parse_qs(urlsplit(str(u)).query, keep_blank_values=True)
    return celtypes.MapType(
        {
            celtypes.StringType(k): celtypes.ListType([celtypes.StringType(x) for x in v])
            for k, v in query.items()
        }
    )


# --------------------------------------------------------------------------- quantities


class _Quantity(celtypes.MapType):
    """A quantity (``quantity(s)``)."""

    def __init__(self, q: Quantity) -> None:
        super().__init__({})
        self.q = q

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Quantity) and self.q == other.q


def _quantity(s: Any) -> Any:
    try:
        return _Quantity(parse_quantity(_str(s)))
    except (QuantityError, ValueError) as e:
        raise ValueError(f"quantities must match the regular expression: {e}") from None


def _q(value: Any) -> Quantity:
    if isinstance(value, _Quantity):
        return value.q
    if isinstance(value, celtypes.IntType | int) and not isinstance(value, bool):
        return Quantity(int(value))
    raise TypeError("no such overload")


def _is_integer(q: Any) -> Any:
    return celtypes.BoolType(_q(q).amount.denominator == 1)


def _as_integer(q: Any) -> Any:
    amount = _q(q).amount
    if amount.denominator != 1 or not -(2**63) <= amount < 2**63:
        raise ValueError("cannot convert value to integer")
    return celtypes.IntType(int(amount))


def _sign(q: Any) -> Any:
    return celtypes.IntType(_q(q).sign())


KUBERNETES_QUANTITY: dict[str, Any] = {
    "isInteger": _is_integer,
    "asInteger": _as_integer,
    "asApproximateFloat": lambda q: celtypes.DoubleType(float(_q(q))),
    "sign": _sign,
    "add": lambda a, b: _Quantity(_q(a) + _q(b)),
    "sub": lambda a, b: _Quantity(_q(a) - _q(b)),
    "isGreaterThan": lambda a, b: celtypes.BoolType(_q(b) < _q(a)),
    "isLessThan": lambda a, b: celtypes.BoolType(_q(a) < _q(b)),
    "compareTo": lambda a, b: celtypes.IntType(
        0 if _q(a) == _q(b) else (-1 if _q(a) < _q(b) else 1)
    ),
}


# --------------------------------------------------------------------------- IPs and CIDRs


class _IP(celtypes.StringType):
    """An IP address (``ip(s)``); ``string(ip)`` is its canonical text."""

    addr: Any


class _CIDR(celtypes.StringType):
    """A CIDR (``cidr(s)``): ``ip()`` is its address as written, ``masked()`` the network."""

    net: Any
    addr: Any


def _parse_ip(text: str) -> Any:
    # Kubernetes' library refuses IPv4-mapped IPv6 and zones
    if "%" in text:
        raise ValueError(f"IP address with zone value is not allowed: {text}")
    addr = ipaddress.ip_address(text)
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        raise ValueError(f"IPv4-mapped IPv6 address is not allowed: {text}")
    return addr


def _ip(s: Any) -> Any:
    if isinstance(s, _CIDR):
        out = _IP(str(s.addr))
        out.addr = s.addr
        return out
    text = _str(s)
    try:
        addr = _parse_ip(text)
    except ValueError as e:
        raise ValueError(
            f"IP Address {text!r} parse error during conversion from string: {e}"
        ) from None
    out = _IP(str(addr))
    out.addr = addr
    return out


def _is_canonical(ns: Any, s: Any) -> Any:
    """``ip.isCanonical(s)``: ``s`` is an IP written the way Go prints it."""
    if ns is not _IP_NS:
        raise TypeError("no such overload: isCanonical")
    text = _str(s)
    try:
        return celtypes.BoolType(str(_parse_ip(text)) == text)
    except ValueError as e:
        raise ValueError(f"IP Address {text!r} parse error: {e}") from None


def _is_ip(s: Any) -> Any:
    try:
        _parse_ip(_str(s))
    except ValueError:
        return celtypes.BoolType(False)
    return celtypes.BoolType(True)


def _cidr(s: Any) -> Any:
    text = _str(s)
    try:
        addr_text, _, bits = text.partition("/")
        if not bits:
            raise ValueError("missing prefix length")
        addr = _parse_ip(addr_text)
        net = ipaddress.ip_network(text, strict=False)
    except ValueError as e:
        raise ValueError(
            f"network address {text!r} parse error during conversion from string: {e}"
        ) from None
    out = _CIDR(text)
    out.net = net
    out.addr = addr
    return out


def _is_cidr(s: Any) -> Any:
    try:
        _cidr(s)
    except ValueError:
        return celtypes.BoolType(False)
    return celtypes.BoolType(True)


def _addr(value: Any) -> Any:
    return value.addr if isinstance(value, _IP) else _parse_ip(str(value))


def _net(value: Any) -> Any:
    return value.net if isinstance(value, _CIDR) else _cidr(value).net


KUBERNETES_NET: dict[str, Any] = {
    "isIP": _is_ip,
    "isCanonical": _is_canonical,
    "ip": _ip,
    "isCIDR": _is_cidr,
    "cidr": _cidr,
    "family": lambda i: celtypes.IntType(_addr(i).version),
    "isUnspecified": lambda i: celtypes.BoolType(_addr(i).is_unspecified),
    "isLoopback": lambda i: celtypes.BoolType(_addr(i).is_loopback),
    "isLinkLocalMulticast": lambda i: celtypes.BoolType(
        _addr(i).is_multicast
        and (
            _addr(i) in ipaddress.ip_network("224.0.0.0/24")
            or _addr(i) in ipaddress.ip_network("ff02::/16")
        )
    ),
    "isLinkLocalUnicast": lambda i: celtypes.BoolType(
        _addr(i).is_link_local and not _addr(i).is_multicast
    ),
    "isGlobalUnicast": lambda i: celtypes.BoolType(
        not (
            _addr(i).is_unspecified
            or _addr(i).is_loopback
            or _addr(i).is_multicast
            or _addr(i).is_link_local
            or _addr(i) == ipaddress.ip_address("255.255.255.255")
        )
    ),
    "containsIP": lambda c, i: celtypes.BoolType(_addr(i) in _net(c)),
    "containsCIDR": lambda c, o: celtypes.BoolType(_net(o).subnet_of(_net(c))),
    "prefixLength": lambda c: celtypes.IntType(_net(c).prefixlen),
    "masked": lambda c: _cidr(str(_net(c))),
}


# --------------------------------------------------------------------------- format


_NAMED_FORMATS: dict[str, Any] = {
    "dns1123Label": names.is_dns1123_label,
    "dns1123Subdomain": names.is_dns1123_subdomain,
    "dns1035Label": names.is_dns1035_label,
    "qualifiedName": names.is_qualified_name,
    "labelValue": names.is_valid_label_value,
    "dns1123LabelPrefix": lambda v: names.name_is_dns1123_label(v, True),
    "dns1123SubdomainPrefix": lambda v: names.name_is_dns1123_subdomain(v, True),
    "dns1035LabelPrefix": lambda v: names.name_is_dns1035_label(v, True),
    "uri": lambda v: [] if _is_url(v) else ["invalid URI"],
    "uuid": lambda v: (
        []
        if re.fullmatch(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}", v)
        else ["does not match the UUID format"]
    ),
    "byte": lambda v: [] if re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", v) else ["invalid base64"],
    "date": lambda v: [] if re.fullmatch(r"\d{4}-\d{2}-\d{2}", v) else ["invalid date"],
    "datetime": lambda v: (
        []
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", v)
        else ["invalid datetime"]
    ),
}


class _NamedFormat(celtypes.MapType):
    def __init__(self, name: str) -> None:
        super().__init__({})
        self.name = name


def _named_format(name: str) -> Any:
    def make(ns: Any) -> Any:
        if ns is not _FORMAT:
            raise TypeError(f"no such overload: {name}")
        return _NamedFormat(name)

    return make


def _validate_format(fmt: Any, value: Any) -> Any:
    if not isinstance(fmt, _NamedFormat):
        raise TypeError("no such overload: validate")
    found = _NAMED_FORMATS[fmt.name](_str(value))
    if not found:
        return Optional()
    return Optional(celtypes.ListType([celtypes.StringType(m) for m in found]), True)


KUBERNETES_FUNCTIONS: dict[str, Any] = {
    **KUBERNETES_QUANTITY,
    **KUBERNETES_NET,
    **{name: _named_format(name) for name in _NAMED_FORMATS},
    "validate": _validate_format,
    "hasValue": _has_value,
    "value": _value,
    "orValue": _or_value,
    "of": _of,
    "none": _none,
    "ofNonZeroValue": _of_non_zero,
    "contains": _contains,
    "equivalent": _equivalent,
    "intersects": _intersects,
    "matches": _matches,
    "startsWith": _starts_with,
    "endsWith": _ends_with,
    "format": _format,
    "url": _url,
    "getScheme": _get_scheme,
    "getHost": _get_host,
    "getHostname": _get_hostname,
    "getPort": _get_port,
    "getEscapedPath": _get_escaped_path,
    "getQuery": _get_query,
    "quantity": _quantity,
    "charAt": _char_at,
    "indexOf": _index_of,
    "lastIndexOf": _last_index_of,
    "lowerAscii": lambda s: celtypes.StringType(_str(s).lower()),
    "upperAscii": lambda s: celtypes.StringType(_str(s).upper()),
    "replace": _replace,
    "split": _split,
    "substring": _substring,
    "trim": lambda s: celtypes.StringType(_str(s).strip()),
    "join": _join,
    "isSorted": _is_sorted,
    "sum": _sum,
    "min": _min,
    "max": _max,
    "find": _find,
    "findAll": _find_all,
    "isURL": _is_url,
    "isQuantity": _is_quantity,
}
"""Functions by name, for ``celpy.Environment.program(..., functions=...)``."""
