"""Kubernetes quantities (``skiff.api.quantity``): parsing, canonical strings, arithmetic, errors.

Canonical forms are those of apimachinery's ``Quantity.String()`` (see ``quantity_test.go``
upstream). Excludes validation of resource fields that use quantities (the validation package).
"""

from __future__ import annotations

import copy
import pickle
from fractions import Fraction

import pytest

from skiff.api.quantity import (
    QUANTITY_REGEX,
    Format,
    Quantity,
    QuantityError,
    canonical_quantity,
    parse_quantity,
    validate_quantity,
)


@pytest.mark.parametrize(
    ("text", "canonical", "fmt"),
    [
        pytest.param("0", "0", Format.DECIMAL_SI, id="zero"),
        pytest.param("-0", "0", Format.DECIMAL_SI, id="negative-zero"),
        pytest.param("0Gi", "0", Format.BINARY_SI, id="zero-binary"),
        pytest.param("1", "1", Format.DECIMAL_SI, id="one"),
        pytest.param("1000m", "1", Format.DECIMAL_SI, id="1000m"),
        pytest.param("1500m", "1500m", Format.DECIMAL_SI, id="1500m"),
        pytest.param("1.5", "1500m", Format.DECIMAL_SI, id="1.5"),
        pytest.param("0.1", "100m", Format.DECIMAL_SI, id="0.1"),
        pytest.param(".5", "500m", Format.DECIMAL_SI, id="leading-dot"),
        pytest.param("1.", "1", Format.DECIMAL_SI, id="trailing-dot"),
        pytest.param("+2", "2", Format.DECIMAL_SI, id="plus-sign"),
        pytest.param("-1.5", "-1500m", Format.DECIMAL_SI, id="negative"),
        pytest.param("1500", "1500", Format.DECIMAL_SI, id="1500-stays"),
        pytest.param("15000", "15k", Format.DECIMAL_SI, id="15k"),
        pytest.param("2000k", "2M", Format.DECIMAL_SI, id="2000k"),
        pytest.param("1E", "1E", Format.DECIMAL_SI, id="exa"),
        pytest.param("100u", "100u", Format.DECIMAL_SI, id="micro"),
        pytest.param("5n", "5n", Format.DECIMAL_SI, id="nano"),
        pytest.param("0.1n", "1n", Format.DECIMAL_SI, id="rounds-up-to-nano"),
        pytest.param("-0.1n", "-1n", Format.DECIMAL_SI, id="rounds-away-from-zero"),
        pytest.param("1Ki", "1Ki", Format.BINARY_SI, id="1Ki"),
        pytest.param("1024Ki", "1Mi", Format.BINARY_SI, id="1024Ki"),
        pytest.param("2048Mi", "2Gi", Format.BINARY_SI, id="2048Mi"),
        pytest.param("1.5Gi", "1536Mi", Format.BINARY_SI, id="1.5Gi"),
        pytest.param("0.5Gi", "512Mi", Format.BINARY_SI, id="0.5Gi"),
        pytest.param("1.5Ki", "1536", Format.BINARY_SI, id="1.5Ki-no-suffix"),
        pytest.param("0.3Ki", "307200m", Format.BINARY_SI, id="small-binary-shown-decimal"),
        pytest.param("1.0001Ki", "1024102400u", Format.BINARY_SI, id="fractional-binary-decimal"),
        pytest.param("1e3", "1e3", Format.DECIMAL_EXPONENT, id="1e3"),
        pytest.param("1E3", "1e3", Format.DECIMAL_EXPONENT, id="1E3"),
        pytest.param("1.5e3", "1500", Format.DECIMAL_EXPONENT, id="1.5e3"),
        pytest.param("5e-3", "5e-3", Format.DECIMAL_EXPONENT, id="5e-3"),
        pytest.param("129e6", "129e6", Format.DECIMAL_EXPONENT, id="129e6"),
        pytest.param("1e+3", "1e3", Format.DECIMAL_EXPONENT, id="explicit-plus"),
        pytest.param("1e-20", "1e-9", Format.DECIMAL_EXPONENT, id="tiny-exponent"),
    ],
)
def test_canonical(text: str, canonical: str, fmt: Format) -> None:
    q = parse_quantity(text)
    assert str(q) == canonical
    assert q.format is fmt
    assert canonical_quantity(text) == canonical
    # The canonical form parses back to the same value.
    assert parse_quantity(canonical) == q


def test_binary_below_one_becomes_decimal() -> None:
    q = parse_quantity("0.5Ki")
    assert q.amount == 512
    assert parse_quantity("0.0001Ki").format is Format.DECIMAL_SI


def test_binary_is_capped_at_int64() -> None:
    assert parse_quantity("16Ei").amount == 2**63 - 1


@pytest.mark.parametrize(
    ("value", "canonical"),
    [
        pytest.param(1, "1", id="int"),
        pytest.param(0.5, "500m", id="float"),
        pytest.param(1e-05, "10e-6", id="float-exponent-keeps-exponent-form"),
        pytest.param(2048, "2048", id="big-int"),
    ],
)
def test_json_numbers(value: float, canonical: str) -> None:
    assert str(parse_quantity(value)) == canonical


_FORMAT_ERR = f"quantities must match the regular expression '{QUANTITY_REGEX}'"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("", _FORMAT_ERR, id="empty"),
        pytest.param("abc", _FORMAT_ERR, id="letters"),
        pytest.param("1.2.3", _FORMAT_ERR, id="two-dots"),
        pytest.param("1 ", _FORMAT_ERR, id="trailing-space"),
        pytest.param(" 1", _FORMAT_ERR, id="leading-space"),
        pytest.param("1e3k", _FORMAT_ERR, id="exponent-then-suffix"),
        pytest.param("1K", "unable to parse quantity's suffix", id="capital-K"),
        pytest.param("1e", "unable to parse quantity's suffix", id="bare-e"),
        pytest.param("1mi", "unable to parse quantity's suffix", id="mi"),
        pytest.param("1Kii", "unable to parse quantity's suffix", id="Kii"),
        pytest.param("-", "unable to parse numeric part of quantity", id="sign-only"),
        pytest.param(".", "unable to parse numeric part of quantity", id="dot-only"),
    ],
)
def test_errors(text: str, message: str) -> None:
    with pytest.raises(QuantityError) as info:
        validate_quantity(text)
    assert str(info.value) == message


def test_error_message_quotes_the_kubernetes_regex() -> None:
    assert QUANTITY_REGEX == r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"


def test_bool_is_not_a_quantity() -> None:
    with pytest.raises(QuantityError):
        parse_quantity(True)


@pytest.mark.parametrize(
    ("text", "value", "milli"),
    [
        pytest.param("100m", 1, 100, id="100m-rounds-up"),
        pytest.param("1", 1, 1000, id="one"),
        pytest.param("1.0001", 2, 1001, id="milli-rounds-up"),
        pytest.param("-100m", -1, -100, id="negative-away-from-zero"),
        pytest.param("1Gi", 2**30, 2**30 * 1000, id="binary"),
        pytest.param("5n", 1, 1, id="nano"),
        pytest.param("0", 0, 0, id="zero"),
    ],
)
def test_value_and_milli_value(text: str, value: int, milli: int) -> None:
    q = parse_quantity(text)
    assert q.value() == value
    assert q.milli_value() == milli


def test_arithmetic_and_comparisons() -> None:
    a = parse_quantity("1500m")
    b = parse_quantity("1")
    assert str(a + b) == "2500m"
    assert str(a - b) == "500m"
    assert str(-a) == "-1500m"
    assert str(b * 3) == "3"
    assert a > b
    assert b < a
    assert b <= parse_quantity("1000m")
    assert parse_quantity("1Gi") == parse_quantity("1073741824")
    assert len({parse_quantity("1"), parse_quantity("1000m")}) == 1
    assert parse_quantity("1Ki") != parse_quantity("1k")
    # The left operand keeps its format unless it is zero.
    assert str(parse_quantity("1Gi") + parse_quantity("1Gi")) == "2Gi"
    assert (parse_quantity("0") + parse_quantity("1Gi")).format is Format.BINARY_SI
    assert str(parse_quantity("1Mi") - parse_quantity("1Mi")) == "0"


def test_constructors_and_accessors() -> None:
    q = Quantity.from_milli(250)
    assert str(q) == "250m"
    assert q.amount == Fraction(1, 4)
    assert q.sign() == 1
    assert (-q).sign() == -1
    assert Quantity(0).is_zero()
    assert float(q) == 0.25
    assert q.to_json() == "250m"
    assert repr(q) == "Quantity('250m')"
    assert q.scaled_value(-6) == 250_000
    with pytest.raises(AttributeError):
        q.foo = 1
    assert copy.deepcopy(q) == q
    assert str(pickle.loads(pickle.dumps(parse_quantity("1.5Gi")))) == "1536Mi"
