"""Label and field selectors: parsing, matching, printing, per-kind selectable fields.

Label selectors follow ``k8s.io/apimachinery/pkg/labels/selector.go``: ``k=v``, ``k==v``,
``k!=v``, ``k in (a,b)``, ``k notin (a,b)``, ``k``, ``!k``, ``k>1``, ``k<1``; a comma is AND,
whitespace between tokens is ignored, keys and values are validated like label keys and values,
and requirements are kept sorted by key (which is also how they print). ``label_selector_from_object``
converts a ``metav1.LabelSelector`` (``matchLabels`` + ``matchExpressions``) into the same matcher,
following ``LabelSelectorAsSelector``: ``None`` matches nothing, ``{}`` matches everything.

Field selectors follow ``k8s.io/apimachinery/pkg/fields/selector.go``: only ``=``, ``==`` and
``!=``, comma is AND, ``\\``, ``\\,`` and ``\\=`` escape inside values, no whitespace trimming.
``object_fields`` gives the selectable fields of an object per kind (the registries'
``ToSelectableFields``) and ``validate_field_selector`` the field labels each kind accepts (the
``AddFieldLabelConversionFunc`` tables), with the server's ``field label not supported: <label>``.

All errors are ``SelectorError``; its message is meant for a 400 ``BadRequest`` Status.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "FieldRequirement",
    "FieldSelector",
    "LabelSelector",
    "LabelSelectorLike",
    "Operator",
    "Requirement",
    "SelectorError",
    "as_label_selector",
    "escape_field_value",
    "everything",
    "format_label_selector",
    "format_labels",
    "label_selector_from_object",
    "nothing",
    "object_fields",
    "parse_field_selector",
    "parse_label_selector",
    "selector_to_string",
    "supported_field_labels",
    "validate_field_selector",
]


class SelectorError(ValueError):
    """A label or field selector that cannot be parsed or is not supported."""


class Operator(enum.StrEnum):
    """``selection.Operator`` values (their Go string forms)."""

    DOES_NOT_EXIST = "!"
    EQUALS = "="
    DOUBLE_EQUALS = "=="
    IN = "in"
    NOT_EQUALS = "!="
    NOT_IN = "notin"
    EXISTS = "exists"
    GREATER_THAN = "gt"
    LESS_THAN = "lt"


# --- label key / value validation (k8s.io/apimachinery/pkg/util/validation) -------------------

_QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
_QUALIFIED_NAME_RE = re.compile(f"^{_QUALIFIED_NAME_FMT}$")
_QUALIFIED_NAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character"
)
_QUALIFIED_NAME_EXAMPLES = "(e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
_DNS1123_SUBDOMAIN_FMT = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*"
_DNS1123_SUBDOMAIN_RE = re.compile(f"^{_DNS1123_SUBDOMAIN_FMT}$")
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    f"for validation is '{_DNS1123_SUBDOMAIN_FMT}')"
)
_LABEL_VALUE_FMT = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?"
_LABEL_VALUE_RE = re.compile(f"^{_LABEL_VALUE_FMT}$")
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or "
    f"'my_value',  or '12345', regex used for validation is '{_LABEL_VALUE_FMT}')"
)


def _qualified_name_errors(value: str) -> list[str]:
    """``validation.IsQualifiedName``: ``[prefix/]name``, name <= 63 chars, prefix a DNS subdomain."""
    errs: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errs.append("prefix part must be non-empty")
        else:
            if len(prefix) > 253:
                errs.append("prefix part must be no more than 253 characters")
            if not _DNS1123_SUBDOMAIN_RE.match(prefix):
                errs.append("prefix part " + _DNS1123_SUBDOMAIN_MSG)
    else:
        return [
            "a qualified name "
            + _QUALIFIED_NAME_MSG
            + " "
            + _QUALIFIED_NAME_EXAMPLES
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errs.append("name part must be non-empty")
    elif len(name) > 63:
        errs.append("name part must be no more than 63 characters")
    if name and not _QUALIFIED_NAME_RE.match(name):
        errs.append("name part " + _QUALIFIED_NAME_MSG + " " + _QUALIFIED_NAME_EXAMPLES)
    return errs


def _label_value_errors(value: str) -> list[str]:
    """``validation.IsValidLabelValue``."""
    errs: list[str] = []
    if len(value) > 63:
        errs.append("must be no more than 63 characters")
    if not _LABEL_VALUE_RE.match(value):
        errs.append(_LABEL_VALUE_MSG)
    return errs


def _invalid(field: str, value: str, detail: str) -> str:
    return f"{field}: Invalid value: {_go_quote(value)}: {detail}"


def _go_quote(value: str) -> str:
    """Go's ``%q`` for the plain strings found in selectors."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _go_strings(values: list[str]) -> str:
    """Go's ``%#v`` of a ``[]string``, as ``field.Invalid`` prints a list value."""
    if not values:
        return "[]string(nil)"
    return "[]string{" + ", ".join(_go_quote(v) for v in values) + "}"


def _key_error(key: str, path: str) -> str:
    """``validateLabelKey``: one ``field.Invalid`` with every problem joined by ``; ``."""
    errs = _qualified_name_errors(key)
    return _invalid(path, key, "; ".join(errs)) if errs else ""


def _aggregate(errors: list[str]) -> str:
    """``utilerrors.Aggregate.Error()``: one message as is, several as ``[a, b]``."""
    return errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]"


# --- label selectors ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Requirement:
    """One label requirement: ``key``, ``operator`` and its (sorted, de-duplicated) ``values``."""

    key: str
    operator: Operator
    values: tuple[str, ...] = ()

    @classmethod
    def new(cls, key: str, operator: Operator, values: Iterable[str] = ()) -> Requirement:
        """Validate and build a requirement (``labels.NewRequirement``)."""
        vals = sorted(set(values))
        errs: list[str] = []
        key_error = _key_error(key, "key")
        if key_error:
            errs.append(key_error)
        bad_count = ""
        if operator in (Operator.IN, Operator.NOT_IN) and not vals:
            bad_count = "for 'in', 'notin' operators, values set can't be empty"
        elif operator in (Operator.EQUALS, Operator.DOUBLE_EQUALS, Operator.NOT_EQUALS):
            if len(vals) != 1:
                bad_count = "exact-match compatibility requires one single value"
        elif operator in (Operator.EXISTS, Operator.DOES_NOT_EXIST) and vals:
            bad_count = "values set must be empty for exists and does not exist"
        elif operator in (Operator.GREATER_THAN, Operator.LESS_THAN) and len(vals) != 1:
            bad_count = "for 'Gt', 'Lt' operators, exactly one value is required"
        if bad_count:
            errs.append(f"values: Invalid value: {_go_strings(vals)}: {bad_count}")
        if operator in (Operator.GREATER_THAN, Operator.LESS_THAN):
            errs.extend(
                _invalid(
                    f"values[{i}]", v, "for 'Gt', 'Lt' operators, the value must be an integer"
                )
                for i, v in enumerate(vals)
                if not _is_int64(v)
            )
        for i, v in enumerate(vals):
            value_errs = _label_value_errors(v)
            if value_errs:
                errs.append(_invalid(f"values[{i}][{key}]", v, "; ".join(value_errs)))
        if errs:
            raise SelectorError(_aggregate(errs))
        return cls(key, operator, tuple(vals))

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.operator
        if op in (Operator.IN, Operator.EQUALS, Operator.DOUBLE_EQUALS):
            return self.key in labels and labels[self.key] in self.values
        if op in (Operator.NOT_IN, Operator.NOT_EQUALS):
            return self.key not in labels or labels[self.key] not in self.values
        if op is Operator.EXISTS:
            return self.key in labels
        if op is Operator.DOES_NOT_EXIST:
            return self.key not in labels
        # Gt / Lt: both sides must be integers; a non-integer label value never matches.
        if self.key not in labels or not _is_int64(labels[self.key]) or len(self.values) != 1:
            return False
        have = int(labels[self.key], 10)
        want = int(self.values[0], 10)
        return have > want if op is Operator.GREATER_THAN else have < want

    def __str__(self) -> str:
        op = self.operator
        if op is Operator.EXISTS:
            return self.key
        if op is Operator.DOES_NOT_EXIST:
            return "!" + self.key
        if op in (Operator.IN, Operator.NOT_IN):
            return f"{self.key} {op.value} ({','.join(self.values)})"
        sym = {Operator.GREATER_THAN: ">", Operator.LESS_THAN: "<"}.get(op, op.value)
        return f"{self.key}{sym}{self.values[0]}"


def _is_int64(text: str) -> bool:
    if not re.fullmatch(r"[+-]?[0-9]+", text):
        return False
    return -(2**63) <= int(text) < 2**63


@dataclass(frozen=True)
class LabelSelector:
    """A conjunction of label requirements, sorted by key.

    ``match_nothing`` is ``labels.Nothing()`` (what a ``null`` ``metav1.LabelSelector`` means); an
    empty requirement list otherwise matches everything.
    """

    requirements: tuple[Requirement, ...] = ()
    match_nothing: bool = False

    @property
    def empty(self) -> bool:
        """True when the selector matches every object (``Selector.Empty()``)."""
        return not self.requirements and not self.match_nothing

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self.match_nothing:
            return False
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    def requires_exact_match(self, key: str) -> str | None:
        """The value ``key`` must equal for a match, if the selector pins one (``RequiresExactMatch``)."""
        for r in self.requirements:
            if (
                r.key == key
                and r.operator
                in (
                    Operator.EQUALS,
                    Operator.DOUBLE_EQUALS,
                    Operator.IN,
                )
                and len(r.values) == 1
            ):
                return r.values[0]
        return None

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def everything() -> LabelSelector:
    """A selector matching every label set."""
    return LabelSelector()


def nothing() -> LabelSelector:
    """A selector matching no label set."""
    return LabelSelector((), match_nothing=True)


class _Tok(enum.Enum):
    ERROR = 0
    EOS = 1
    CLOSED_PAR = 2
    COMMA = 3
    DOES_NOT_EXIST = 4
    DOUBLE_EQUALS = 5
    EQUALS = 6
    GREATER_THAN = 7
    IDENTIFIER = 8
    IN = 9
    LESS_THAN = 10
    NOT_EQUALS = 11
    NOT_IN = 12
    OPEN_PAR = 13


_SPECIAL = frozenset("=!(),><")
_WHITESPACE = frozenset(" \t\r\n")
_SYMBOLS: dict[str, _Tok] = {
    "!": _Tok.DOES_NOT_EXIST,
    "!=": _Tok.NOT_EQUALS,
    "(": _Tok.OPEN_PAR,
    ")": _Tok.CLOSED_PAR,
    ",": _Tok.COMMA,
    "=": _Tok.EQUALS,
    "==": _Tok.DOUBLE_EQUALS,
    ">": _Tok.GREATER_THAN,
    "<": _Tok.LESS_THAN,
}
_KEYWORDS = {"in": _Tok.IN, "notin": _Tok.NOT_IN}
_BINARY_OPS = "in, notin, =, ==, !=, gt, lt"


def _lex(text: str) -> list[tuple[_Tok, str]]:
    """Split a label selector into tokens (``labels.Lexer``)."""
    tokens: list[tuple[_Tok, str]] = []
    pos, end = 0, len(text)
    while True:
        while pos < end and text[pos] in _WHITESPACE:
            pos += 1
        if pos >= end:
            tokens.append((_Tok.EOS, ""))
            return tokens
        ch = text[pos]
        if ch in _SPECIAL:
            buf = ""
            while pos < end and text[pos] in _SPECIAL and (buf + text[pos]) in _SYMBOLS:
                buf += text[pos]
                pos += 1
            if not buf:
                tokens.append((_Tok.ERROR, f"error expected: keyword found '{ch}'"))
                pos += 1
                continue
            tokens.append((_SYMBOLS[buf], buf))
            continue
        start = pos
        while pos < end and text[pos] not in _WHITESPACE and text[pos] not in _SPECIAL:
            pos += 1
        word = text[start:pos]
        tokens.append((_KEYWORDS.get(word, _Tok.IDENTIFIER), word))


class _Parser:
    """Recursive-descent parser mirroring ``labels.Parser``."""

    def __init__(self, text: str) -> None:
        self.tokens = _lex(text)
        self.pos = 0

    def _peek(self, values: bool) -> tuple[_Tok, str]:
        tok, lit = self.tokens[self.pos]
        if values and tok in (_Tok.IN, _Tok.NOT_IN):
            tok = _Tok.IDENTIFIER  # keywords are plain words inside a value list
        return tok, lit

    def _next(self, values: bool) -> tuple[_Tok, str]:
        tok, lit = self._peek(values)
        if tok is not _Tok.EOS:
            self.pos += 1
        return tok, lit

    def parse(self) -> list[Requirement]:
        reqs: list[Requirement] = []
        while True:
            tok, lit = self._peek(True)
            if tok in (_Tok.IDENTIFIER, _Tok.DOES_NOT_EXIST):
                try:
                    reqs.append(self._requirement())
                except SelectorError as err:
                    raise SelectorError(f"unable to parse requirement: {err}") from None
                tok, lit = self._next(True)
                if tok is _Tok.EOS:
                    return reqs
                if tok is _Tok.COMMA:
                    tok2, lit2 = self._peek(True)
                    if tok2 not in (_Tok.IDENTIFIER, _Tok.DOES_NOT_EXIST):
                        raise SelectorError(f"found '{lit2}', expected: identifier after ','")
                    continue
                raise SelectorError(f"found '{lit}', expected: ',' or 'end of string'")
            if tok is _Tok.EOS:
                return reqs
            raise SelectorError(f"found '{lit}', expected: !, identifier, or 'end of string'")

    def _requirement(self) -> Requirement:
        tok, lit = self._next(True)
        op: Operator | None = None
        if tok is _Tok.DOES_NOT_EXIST:
            op = Operator.DOES_NOT_EXIST
            tok, lit = self._next(True)
        if tok is not _Tok.IDENTIFIER:
            raise SelectorError(f"found '{lit}', expected: identifier")
        key = lit
        # The parser validates the key with a nil field path, which Go prints as "<nil>".
        key_error = _key_error(key, "<nil>")
        if key_error:
            raise SelectorError(key_error)
        if op is Operator.DOES_NOT_EXIST:
            # Whatever follows "!key" is the caller's business (it expects ',' or the end).
            return Requirement.new(key, op)
        nxt, _ = self._peek(True)
        if nxt in (_Tok.EOS, _Tok.COMMA):
            return Requirement.new(key, Operator.EXISTS)
        op = self._operator()
        if op in (Operator.IN, Operator.NOT_IN):
            values = self._values()
        else:
            values = {self._exact_value()}
        return Requirement.new(key, op, values)

    def _operator(self) -> Operator:
        tok, lit = self._next(False)
        ops = {
            _Tok.DOUBLE_EQUALS: Operator.DOUBLE_EQUALS,
            _Tok.EQUALS: Operator.EQUALS,
            _Tok.GREATER_THAN: Operator.GREATER_THAN,
            _Tok.LESS_THAN: Operator.LESS_THAN,
            _Tok.NOT_EQUALS: Operator.NOT_EQUALS,
            _Tok.IN: Operator.IN,
            _Tok.NOT_IN: Operator.NOT_IN,
        }
        if tok not in ops:
            raise SelectorError(f"found '{lit}', expected: {_BINARY_OPS}")
        return ops[tok]

    def _values(self) -> set[str]:
        tok, lit = self._next(True)
        if tok is not _Tok.OPEN_PAR:
            raise SelectorError(f"found '{lit}' expected: '('")
        tok, lit = self._peek(True)
        if tok in (_Tok.IDENTIFIER, _Tok.COMMA):
            values = self._identifier_list()
            tok2, lit2 = self._next(True)
            if tok2 is not _Tok.CLOSED_PAR:
                raise SelectorError(f"found '{lit2}', expected: ')'")
            return values
        if tok is _Tok.CLOSED_PAR:
            self._next(True)
            return {""}
        raise SelectorError(f"found '{lit}', expected: ',', ')' or identifier")

    def _identifier_list(self) -> set[str]:
        values: set[str] = set()
        while True:
            tok, lit = self._next(True)
            if tok is _Tok.IDENTIFIER:
                values.add(lit)
                tok2, lit2 = self._peek(True)
                if tok2 is _Tok.COMMA:
                    continue
                if tok2 is _Tok.CLOSED_PAR:
                    return values
                raise SelectorError(f"found '{lit2}', expected: ',' or ')'")
            if tok is _Tok.COMMA:
                # "(,a" / "a,,b" / "a,)" stand for empty values.
                if not values:
                    values.add("")
                tok2, _ = self._peek(True)
                if tok2 is _Tok.CLOSED_PAR:
                    values.add("")
                    return values
                if tok2 is _Tok.COMMA:
                    self._next(True)
                    values.add("")
                continue
            raise SelectorError(f"found '{lit}', expected: ',', or identifier")

    def _exact_value(self) -> str:
        tok, lit = self._peek(True)
        if tok in (_Tok.EOS, _Tok.COMMA):
            return ""
        tok, lit = self._next(True)
        if tok is _Tok.IDENTIFIER:
            return lit
        raise SelectorError(f"found '{lit}', expected: identifier")


def parse_label_selector(text: str) -> LabelSelector:
    """Parse the ``labelSelector`` query parameter / ``kubectl -l`` syntax (``labels.Parse``).

    An empty (or all-whitespace) string selects everything.
    """
    reqs = _Parser(text).parse()
    return LabelSelector(tuple(sorted(reqs, key=lambda r: r.key)))


_OBJECT_OPERATORS = {
    "In": Operator.IN,
    "NotIn": Operator.NOT_IN,
    "Exists": Operator.EXISTS,
    "DoesNotExist": Operator.DOES_NOT_EXIST,
}


def label_selector_from_object(sel: Mapping[str, Any] | None) -> LabelSelector:
    """Convert a ``metav1.LabelSelector`` JSON object (``LabelSelectorAsSelector``).

    ``None`` selects nothing; ``{}`` (no labels, no expressions) selects everything.
    """
    if sel is None:
        return nothing()
    match_labels = sel.get("matchLabels") or {}
    expressions = sel.get("matchExpressions") or []
    if not match_labels and not expressions:
        return everything()
    reqs: list[Requirement] = []
    for key, value in match_labels.items():
        reqs.append(Requirement.new(str(key), Operator.EQUALS, [str(value)]))
    for expr in expressions:
        raw_op = expr.get("operator", "")
        op = _OBJECT_OPERATORS.get(raw_op)
        if op is None:
            raise SelectorError(f"{_go_quote(str(raw_op))} is not a valid label selector operator")
        values = [str(v) for v in (expr.get("values") or [])]
        reqs.append(Requirement.new(str(expr.get("key", "")), op, values))
    return LabelSelector(tuple(sorted(reqs, key=lambda r: r.key)))


LabelSelectorLike = str | LabelSelector | Mapping[str, Any] | None
"""Every spelling of a label selector `as_label_selector` accepts."""


def as_label_selector(sel: LabelSelectorLike) -> LabelSelector:
    """Any spelling of a label selector a caller may hold, as one `LabelSelector`.

    * ``None`` or ``""``: everything (a filter that was not given; unlike a ``null``
      ``metav1.LabelSelector`` in an object, which `label_selector_from_object` reads as nothing);
    * a string: `parse_label_selector`;
    * a ``metav1.LabelSelector`` object (a mapping with ``matchLabels`` and/or
      ``matchExpressions``, e.g. a ReplicaSet's ``spec.selector``): `label_selector_from_object`;
    * any other mapping of strings: ``matchLabels`` (e.g. a Service's ``spec.selector``).
    """
    if sel is None:
        return everything()
    if isinstance(sel, LabelSelector):
        return sel
    if isinstance(sel, str):
        return parse_label_selector(sel)
    if _is_selector_object(sel):
        return label_selector_from_object(sel)
    return label_selector_from_object({"matchLabels": sel})


def _is_selector_object(sel: Mapping[str, Any]) -> bool:
    # A metav1.LabelSelector has only these two keys, with a map and a list (either may be null);
    # a label map's values are strings. ``{}`` reads the same either way: everything.
    if not set(sel) <= {"matchLabels", "matchExpressions"}:
        return False
    labels, expressions = sel.get("matchLabels"), sel.get("matchExpressions")
    return (labels is None or isinstance(labels, Mapping)) and (
        expressions is None
        or (isinstance(expressions, Sequence) and not isinstance(expressions, str))
    )


def selector_to_string(sel: LabelSelector | Mapping[str, Any] | None) -> str:
    """The string form of a selector (``Selector.String()``), e.g. ``app=web,tier in (a,b)``.

    Accepts a parsed ``LabelSelector`` or a ``metav1.LabelSelector`` JSON object; a selector that
    matches nothing, and one that matches everything, both print as ``""``. This is what
    ``Scale.status.selector`` carries.
    """
    if sel is None:
        return ""
    if not isinstance(sel, LabelSelector):
        sel = label_selector_from_object(sel)
    return str(sel)


def format_label_selector(sel: Mapping[str, Any] | None) -> str:
    """``metav1.FormatLabelSelector``: the string, ``<none>`` when empty, ``<error>`` when invalid."""
    try:
        text = selector_to_string(sel)
    except SelectorError:
        return "<error>"
    return text or "<none>"


def format_labels(labels: Mapping[str, str] | None) -> str:
    """``labels.FormatLabels``: ``k=v`` pairs sorted by key, ``<none>`` when empty."""
    if not labels:
        return "<none>"
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


# --- field selectors ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldRequirement:
    """``field`` ``operator`` ``value`` with ``operator`` one of ``=`` / ``!=`` (``==`` reads as ``=``)."""

    field: str
    operator: Operator
    value: str

    def matches(self, fields: Mapping[str, str]) -> bool:
        have = fields.get(self.field, "")
        return have == self.value if self.operator is Operator.EQUALS else have != self.value

    def __str__(self) -> str:
        sym = "=" if self.operator is Operator.EQUALS else "!="
        return f"{self.field}{sym}{escape_field_value(self.value)}"


@dataclass(frozen=True)
class FieldSelector:
    """A conjunction of field requirements (sorted the way ``fields.ParseSelector`` sorts terms)."""

    requirements: tuple[FieldRequirement, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.requirements

    def matches(self, fields: Mapping[str, str]) -> bool:
        return all(r.matches(fields) for r in self.requirements)

    def requires_exact_match(self, field: str) -> str | None:
        """The value ``field`` must equal (e.g. ``metadata.name`` for a single-object watch)."""
        for r in self.requirements:
            if r.field == field and r.operator is Operator.EQUALS:
                return r.value
        return None

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


def escape_field_value(value: str) -> str:
    """``fields.EscapeValue``: backslash-escape ``\\``, ``,`` and ``=``."""
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def _unescape_field_value(value: str) -> str:
    if not any(c in value for c in "\\,="):
        return value
    out: list[str] = []
    in_slash = False
    for c in value:
        if in_slash:
            if c not in "\\,=":
                raise SelectorError(f"invalid field selector: invalid escape sequence: \\{c}")
            out.append(c)
            in_slash = False
        elif c == "\\":
            in_slash = True
        elif c in ",=":
            # Go prints the rune with %v, i.e. as its code point.
            raise SelectorError(f"invalid field selector: unescaped character in value: {ord(c)}")
        else:
            out.append(c)
    if in_slash:
        raise SelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def _split_field_terms(text: str) -> list[str]:
    terms: list[str] = []
    start = 0
    in_slash = False
    for i, c in enumerate(text):
        if in_slash:
            in_slash = False
        elif c == "\\":
            in_slash = True
        elif c == ",":
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return terms


def parse_field_selector(text: str) -> FieldSelector:
    """Parse the ``fieldSelector`` query parameter (``fields.ParseSelector``)."""
    if not text:
        return FieldSelector()
    reqs: list[FieldRequirement] = []
    for term in sorted(_split_field_terms(text)):
        if not term:
            continue
        for i in range(len(term)):
            rest = term[i:]
            op = next((o for o in ("!=", "==", "=") if rest.startswith(o)), None)
            if op is not None:
                field, raw = term[:i], term[i + len(op) :]
                break
        else:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{term}'")
        value = _unescape_field_value(raw)
        operator = Operator.NOT_EQUALS if op == "!=" else Operator.EQUALS
        reqs.append(FieldRequirement(field, operator, value))
    return FieldSelector(tuple(reqs))


def _get(obj: Mapping[str, Any], *path: str) -> Any:
    cur: Any = obj
    for part in path:
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(part)
    return cur


def _s(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _i(value: Any) -> str:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else "0"


def _pod_fields(obj: Mapping[str, Any]) -> dict[str, str]:
    spec = _get(obj, "spec") or {}
    status = _get(obj, "status") or {}
    pod_ips = status.get("podIPs") or []
    pod_ip = ""
    if pod_ips and isinstance(pod_ips[0], Mapping):
        pod_ip = _s(pod_ips[0].get("ip"))
    return {
        "spec.nodeName": _s(spec.get("nodeName")),
        "spec.restartPolicy": _s(spec.get("restartPolicy")),
        "spec.schedulerName": _s(spec.get("schedulerName")),
        "spec.serviceAccountName": _s(spec.get("serviceAccountName")),
        "spec.hostNetwork": "true" if spec.get("hostNetwork") is True else "false",
        "status.phase": _s(status.get("phase")),
        # The registry reads podIPs[0]; status.podIP mirrors it, so fall back to it.
        "status.podIP": pod_ip or _s(status.get("podIP")),
        "status.nominatedNodeName": _s(status.get("nominatedNodeName")),
    }


def _event_fields(obj: Mapping[str, Any]) -> dict[str, str]:
    inv = _get(obj, "involvedObject") or {}
    source = _s(_get(obj, "source", "component")) or _s(obj.get("reportingComponent"))
    return {
        "involvedObject.kind": _s(inv.get("kind")),
        "involvedObject.namespace": _s(inv.get("namespace")),
        "involvedObject.name": _s(inv.get("name")),
        "involvedObject.uid": _s(inv.get("uid")),
        "involvedObject.apiVersion": _s(inv.get("apiVersion")),
        "involvedObject.resourceVersion": _s(inv.get("resourceVersion")),
        "involvedObject.fieldPath": _s(inv.get("fieldPath")),
        "reason": _s(obj.get("reason")),
        "reportingComponent": _s(obj.get("reportingComponent")),
        "source": source,
        "type": _s(obj.get("type")),
    }


def _kind_fields(kind: str, obj: Mapping[str, Any]) -> dict[str, str]:
    if kind == "Pod":
        return _pod_fields(obj)
    if kind == "Event":
        return _event_fields(obj)
    if kind == "Secret":
        return {"type": _s(obj.get("type"))}
    if kind == "Node":
        return {
            "spec.unschedulable": "true" if _get(obj, "spec", "unschedulable") is True else "false"
        }
    if kind == "Namespace":
        return {"status.phase": _s(_get(obj, "status", "phase"))}
    if kind in ("ReplicaSet", "ReplicationController"):
        return {"status.replicas": _i(_get(obj, "status", "replicas"))}
    if kind == "Job":
        return {"status.successful": _i(_get(obj, "status", "succeeded"))}
    if kind == "Service":
        return {
            "spec.clusterIP": _s(_get(obj, "spec", "clusterIP")),
            "spec.type": _s(_get(obj, "spec", "type")),
        }
    return {}


def object_fields(kind: str, obj: Mapping[str, Any]) -> dict[str, str]:
    """The selectable fields of an object, as its registry's ``ToSelectableFields`` builds them.

    Every kind has ``metadata.name`` and ``metadata.namespace`` (``""`` for cluster-scoped objects);
    the rest depends on the kind. Missing fields read as ``""`` (or ``"0"``/``"false"`` where the
    Go field is a number or a bool), so partial objects are fine.
    """
    meta = obj.get("metadata") or {}
    fields = {
        "metadata.name": _s(meta.get("name")),
        "metadata.namespace": _s(meta.get("namespace")),
    }
    fields.update(_kind_fields(kind, obj))
    return fields


_META = frozenset({"metadata.name", "metadata.namespace"})
# Field labels each kind's conversion function accepts (pkg/apis/*/v1/conversion.go); kinds not
# listed accept metadata.name and metadata.namespace (DefaultMetaV1FieldSelectorConversion).
_SUPPORTED: dict[str, frozenset[str]] = {
    "Pod": _META
    | {
        "spec.nodeName",
        "spec.restartPolicy",
        "spec.schedulerName",
        "spec.serviceAccountName",
        "spec.hostNetwork",
        "status.phase",
        "status.podIP",
        "status.podIPs",
        "status.nominatedNodeName",
    },
    "Node": frozenset({"metadata.name", "spec.unschedulable"}),
    "Namespace": frozenset({"metadata.name", "status.phase"}),
    "ReplicationController": _META | {"status.replicas"},
    "ReplicaSet": _META | {"status.replicas"},
    "Event": _META
    | {
        "involvedObject.kind",
        "involvedObject.namespace",
        "involvedObject.name",
        "involvedObject.uid",
        "involvedObject.apiVersion",
        "involvedObject.resourceVersion",
        "involvedObject.fieldPath",
        "reason",
        "reportingComponent",
        "source",
        "type",
    },
    "Secret": _META | {"type"},
    "Service": _META | {"spec.clusterIP", "spec.type"},
    "Job": _META | {"status.successful"},
}
# Old names the server still accepts and rewrites.
_ALIASES: dict[str, dict[str, str]] = {"Pod": {"spec.host": "spec.nodeName"}}


def supported_field_labels(kind: str) -> frozenset[str]:
    """The field labels a kind accepts in a field selector."""
    return _SUPPORTED.get(kind, _META)


def validate_field_selector(kind: str, selector: FieldSelector | str) -> FieldSelector:
    """Check every field label against what ``kind`` supports; return the converted selector.

    Raises ``SelectorError("field label not supported: <label>")`` like the server's field label
    conversion functions; legacy aliases (``spec.host`` on pods) are rewritten.
    """
    if isinstance(selector, str):
        selector = parse_field_selector(selector)
    supported = supported_field_labels(kind)
    aliases = _ALIASES.get(kind, {})
    out: list[FieldRequirement] = []
    for r in selector.requirements:
        field = aliases.get(r.field, r.field)
        if field not in supported:
            raise SelectorError(f"field label not supported: {r.field}")
        out.append(FieldRequirement(field, r.operator, r.value))
    return FieldSelector(tuple(out))
