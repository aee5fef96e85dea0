"""Kubernetes resource quantities (``resource.Quantity``): parsing, exact arithmetic, canonical form.

A quantity is a signed decimal number with an optional suffix: decimal SI (``n u m "" k M G T P
E``), binary SI (``Ki Mi Gi Ti Pi Ei``) or a decimal exponent (``1e3``, ``5E-3``). Values are kept
exactly as ``fractions.Fraction`` and, like apimachinery, rounded *up* (away from zero) to the
nearest nano-unit when parsed, so ``0.1n`` reads as ``1n``.

``str(q)`` is ``Quantity.String()``: the canonical form the API server writes back, e.g.
``1000m`` -> ``1``, ``0.1`` -> ``100m``, ``1.5Gi`` -> ``1536Mi``, ``1536`` (from ``1.5Ki``) stays
``1536``. The format (decimal SI, binary SI, exponent) remembered from parsing picks the suffix
family, following ``k8s.io/apimachinery/pkg/api/resource/quantity.go``.
"""

from __future__ import annotations

import enum
from fractions import Fraction
from functools import total_ordering

__all__ = [
    "QUANTITY_REGEX",
    "Format",
    "Quantity",
    "QuantityError",
    "canonical_quantity",
    "parse_quantity",
    "validate_quantity",
]

# The expression apimachinery quotes in its ErrFormatWrong message.
QUANTITY_REGEX = r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"

_ERR_FORMAT = f"quantities must match the regular expression '{QUANTITY_REGEX}'"
_ERR_SUFFIX = "unable to parse quantity's suffix"
_ERR_NUMERIC = "unable to parse numeric part of quantity"

_NANO = Fraction(1, 1_000_000_000)
# BinarySI values are capped at the largest int64, as ParseQuantity does.
_MAX_BINARY = Fraction(2**63 - 1)
# Exponents beyond this would build absurdly large integers; no real quantity comes close.
_MAX_EXPONENT = 10_000


class QuantityError(ValueError):
    """A string that is not a Kubernetes quantity; ``str(err)`` is apimachinery's message."""


class Format(enum.StrEnum):
    """How a quantity is written back (``resource.Format``)."""

    DECIMAL_EXPONENT = "DecimalExponent"  # 12e6
    BINARY_SI = "BinarySI"  # 12Mi
    DECIMAL_SI = "DecimalSI"  # 12M


_DECIMAL_SUFFIXES: dict[str, int] = {
    "n": -9,
    "u": -6,
    "m": -3,
    "": 0,
    "k": 3,
    "M": 6,
    "G": 9,
    "T": 12,
    "P": 15,
    "E": 18,
}
_DECIMAL_BY_EXP = {v: k for k, v in _DECIMAL_SUFFIXES.items()}
_BINARY_SUFFIXES: dict[str, int] = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_BINARY_BY_POWER = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]

_SUFFIX_CHARS = frozenset("eEinumkKMGTP")


def _round_up_to_nano(value: Fraction) -> Fraction:
    """Round away from zero to a multiple of 1e-9 (ParseQuantity's ``inf.RoundUp`` at scale 9)."""
    scaled = value / _NANO
    if scaled.denominator == 1:
        return value
    magnitude = -(-abs(scaled.numerator) // scaled.denominator)  # ceil of |scaled|
    return Fraction(magnitude if value > 0 else -magnitude) * _NANO


def _split(text: str) -> tuple[bool, str, str, str]:
    """Cut ``text`` into (positive, integer digits, fraction digits, suffix) like
    ``parseQuantityString``; raises on characters that cannot be a quantity."""
    if not text:
        raise QuantityError(_ERR_FORMAT)
    pos, end = 0, len(text)
    positive = True
    if text[0] in "+-":
        positive = text[0] == "+"
        pos = 1
    start = pos
    while pos < end and text[pos].isdigit() and text[pos].isascii():
        pos += 1
    num = text[start:pos]
    denom = ""
    if pos < end and text[pos] == ".":
        pos += 1
        start = pos
        while pos < end and text[pos].isdigit() and text[pos].isascii():
            pos += 1
        denom = text[start:pos]
    if not num and not denom:
        # "-", ".", "+." and friends: the numeric part is empty.
        if pos < end and text[pos] not in _SUFFIX_CHARS and text[pos] not in "+-":
            raise QuantityError(_ERR_FORMAT)
        raise QuantityError(_ERR_NUMERIC)
    suffix_start = pos
    while pos < end and text[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and text[pos] in "+-":
        pos += 1
    while pos < end and text[pos].isdigit() and text[pos].isascii():
        pos += 1
    if pos != end:
        raise QuantityError(_ERR_FORMAT)
    return positive, num, denom, text[suffix_start:end]


def _interpret(suffix: str) -> tuple[int, int, Format]:
    """(base, exponent, format) for a suffix, as ``suffixHandler.interpret``."""
    if suffix in _DECIMAL_SUFFIXES:
        return 10, _DECIMAL_SUFFIXES[suffix], Format.DECIMAL_SI
    if suffix in _BINARY_SUFFIXES:
        return 2, _BINARY_SUFFIXES[suffix], Format.BINARY_SI
    if len(suffix) > 1 and suffix[0] in "eE":
        try:
            exponent = int(suffix[1:], 10)
        except ValueError:
            raise QuantityError(_ERR_SUFFIX) from None
        return 10, exponent, Format.DECIMAL_EXPONENT
    raise QuantityError(_ERR_SUFFIX)


@total_ordering
class Quantity:
    """An exact quantity plus the format it is written back in. Immutable; compares by value."""

    __slots__ = ("_amount", "_format")

    _amount: Fraction
    _format: Format

    def __init__(self, amount: Fraction | int, fmt: Format = Format.DECIMAL_SI) -> None:
        object.__setattr__(self, "_amount", _round_up_to_nano(Fraction(amount)))
        object.__setattr__(self, "_format", fmt)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Quantity is immutable")

    def __reduce__(self) -> tuple[type[Quantity], tuple[Fraction, Format]]:
        # copy/pickle would otherwise restore slots through the blocked __setattr__.
        return (Quantity, (self._amount, self._format))

    @classmethod
    def from_milli(cls, milli: int, fmt: Format = Format.DECIMAL_SI) -> Quantity:
        """``resource.NewMilliQuantity``."""
        return cls(Fraction(milli, 1000), fmt)

    @property
    def amount(self) -> Fraction:
        """The exact value."""
        return self._amount

    @property
    def format(self) -> Format:
        return self._format

    def is_zero(self) -> bool:
        return self._amount == 0

    def sign(self) -> int:
        return (self._amount > 0) - (self._amount < 0)

    def scaled_value(self, scale: int) -> int:
        """The value in units of ``10**scale``, rounded away from zero (``ScaledValue``)."""
        scaled = self._amount / Fraction(10) ** scale
        magnitude = -(-abs(scaled.numerator) // scaled.denominator)
        return magnitude if scaled >= 0 else -magnitude

    def value(self) -> int:
        """The integer value, rounded away from zero (``Value()``: ``100m`` -> 1)."""
        return self.scaled_value(0)

    def milli_value(self) -> int:
        """The value in thousandths, rounded away from zero (``MilliValue()``)."""
        return self.scaled_value(-3)

    def __float__(self) -> float:
        return float(self._amount)

    # Arithmetic keeps the left operand's format unless it is zero (Quantity.Add/Sub).
    def _fmt_with(self, other: Quantity) -> Format:
        return other._format if self._amount == 0 else self._format

    def __add__(self, other: Quantity) -> Quantity:
        if not isinstance(other, Quantity):
            return NotImplemented
        return Quantity(self._amount + other._amount, self._fmt_with(other))

    def __sub__(self, other: Quantity) -> Quantity:
        if not isinstance(other, Quantity):
            return NotImplemented
        return Quantity(self._amount - other._amount, self._fmt_with(other))

    def __neg__(self) -> Quantity:
        return Quantity(-self._amount, self._format)

    def __mul__(self, factor: int) -> Quantity:
        if not isinstance(factor, int):
            return NotImplemented
        return Quantity(self._amount * factor, self._format)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Quantity):
            return self._amount == other._amount
        return NotImplemented

    def __lt__(self, other: Quantity) -> bool:
        if isinstance(other, Quantity):
            return self._amount < other._amount
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._amount)

    def __repr__(self) -> str:
        return f"Quantity({str(self)!r})"

    def __str__(self) -> str:
        return self._canonical()

    def _canonical(self) -> str:
        """``Quantity.String()`` / ``CanonicalizeBytes``."""
        amount = self._amount
        if amount == 0:
            return "0"
        fmt = self._format
        if fmt is Format.BINARY_SI and (-1024 < amount < 1024 or amount.denominator != 1):
            # Small or fractional binary values are shown in decimal so nothing is rounded.
            fmt = Format.DECIMAL_SI
        if fmt is Format.BINARY_SI:
            mantissa = amount.numerator
            power = 0
            while mantissa % 1024 == 0:
                mantissa //= 1024
                power += 1
            while power >= len(_BINARY_BY_POWER):
                mantissa *= 1024
                power -= 1
            return f"{mantissa}{_BINARY_BY_POWER[power]}"
        nanos = amount / _NANO
        mantissa = nanos.numerator  # amounts are whole nano-units
        exponent = -9
        while mantissa % 10 == 0:
            mantissa //= 10
            exponent += 1
        while exponent % 3 != 0:
            mantissa *= 10
            exponent -= 1
        if fmt is Format.DECIMAL_EXPONENT:
            return f"{mantissa}" if exponent == 0 else f"{mantissa}e{exponent}"
        while exponent > 18:
            mantissa *= 1000
            exponent -= 3
        return f"{mantissa}{_DECIMAL_BY_EXP[exponent]}"

    def to_json(self) -> str:
        """The JSON value the API server writes (always the canonical string)."""
        return self._canonical()


def parse_quantity(text: str | int | float) -> Quantity:
    """Parse a quantity (``resource.ParseQuantity``); JSON numbers are read as their text.

    Raises ``QuantityError`` with apimachinery's message on a malformed string.
    """
    if isinstance(text, bool):
        raise QuantityError(_ERR_FORMAT)
    if isinstance(text, int | float):
        text = repr(text)
    positive, num, denom, suffix = _split(text)
    base, exponent, fmt = _interpret(suffix)
    if base == 10 and exponent > _MAX_EXPONENT:
        raise QuantityError(_ERR_NUMERIC)
    mantissa = int(num or "0") * 10 ** len(denom) + int(denom or "0")
    value = Fraction(mantissa, 10 ** len(denom))
    if base == 10:
        if exponent < -_MAX_EXPONENT:
            # Far below a nano-unit: round up to 1n if non-zero (see _round_up_to_nano).
            value = _NANO if mantissa else Fraction(0)
        else:
            value *= Fraction(10) ** exponent
    else:
        value *= 2**exponent
    if not positive:
        value = -value
    value = _round_up_to_nano(value)
    if fmt is Format.BINARY_SI:
        if abs(value) > _MAX_BINARY:
            value = _MAX_BINARY if value > 0 else -_MAX_BINARY
        if 0 < abs(value) < 1:
            fmt = Format.DECIMAL_SI
    return Quantity(value, fmt)


def validate_quantity(text: str) -> None:
    """Raise ``QuantityError`` unless ``text`` parses as a quantity."""
    parse_quantity(text)


def canonical_quantity(text: str | int | float) -> str:
    """The canonical string of a quantity (what the server stores and returns)."""
    return str(parse_quantity(text))
