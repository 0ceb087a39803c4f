"""Number formatting: K/M/G/T units, exact integers, percentages, exact ratios.

The properties compare `convcost.units` with an independent oracle: the `decimal` module's
ROUND_HALF_EVEN quantisation, which shares no code with the `Fraction` rounding in units.py.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from convcost.units import format_count, format_percent, format_ratio_exact

UNITS = ((15, "P"), (12, "T"), (9, "G"), (6, "M"), (3, "K"))


def decimal_count(count: int) -> str:
    """The oracle for `format_count`: unit by magnitude, two places, half to even; a value
    that rounds up to 1,000 of its unit is shown in the next unit (P has none above it).
    """
    if abs(count) < 1000:
        return f"{count:,}"
    index = next(i for i, (e, _) in enumerate(UNITS) if abs(count) >= 10**e)
    with localcontext() as context:
        context.prec = 60
        while True:
            exponent, unit = UNITS[index]
            scaled = Decimal(count).scaleb(-exponent)
            rounded = scaled.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
            if abs(rounded) < 1000 or index == 0:
                return f"{rounded:,.2f}{unit}"
            index -= 1


def decimal_percent(ratio: Fraction, places: int) -> str:
    """The oracle for `format_percent`, by long division in `decimal` at high precision.

    Half-way cases are exact in decimal (a tie needs a denominator dividing a power of ten),
    so dividing at 60 digits and then quantising rounds exactly as exact arithmetic would.
    """
    with localcontext() as context:
        context.prec = 60
        value = Decimal(ratio.numerator * 100) / Decimal(ratio.denominator)
        rounded = value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    if rounded == 0:
        rounded = abs(rounded)  # no "-0.00%"
    return f"{rounded:,.{places}f}%"


COUNTS = [
    pytest.param(0, False, "0", id="zero"),
    pytest.param(656, False, "656", id="below-1000-as-is"),
    pytest.param(999, False, "999", id="999"),
    pytest.param(-999, False, "-999", id="minus-999"),
    pytest.param(1000, False, "1.00K", id="1000-is-1K"),
    pytest.param(1005, False, "1.00K", id="half-even-down"),
    pytest.param(1015, False, "1.02K", id="half-even-up"),
    pytest.param(1025, False, "1.02K", id="half-even-down-again"),
    pytest.param(1235, False, "1.24K", id="half-even-up-again"),
    pytest.param(-1500, False, "-1.50K", id="negative"),
    pytest.param(8_768, False, "8.77K", id="seed-001-stage1-separable"),
    pytest.param(75_497_472, False, "75.50M", id="seed-001-torchinfo-75.50M"),
    pytest.param(10_747_904, False, "10.75M", id="seed-001-torchinfo-10.75M"),
    pytest.param(1_207_959_552, False, "1.21G", id="giga"),
    pytest.param(10**12, False, "1.00T", id="tera"),
    pytest.param(999_994, False, "999.99K", id="just-below-a-thousand-K"),
    pytest.param(999_995, False, "1.00M", id="rounds-up-into-M"),
    pytest.param(-999_995, False, "-1.00M", id="negative-rounds-up-into-M"),
    pytest.param(999_995_000, False, "1.00G", id="rounds-up-into-G"),
    pytest.param(999_995_000_000, False, "1.00T", id="rounds-up-into-T"),
    pytest.param(999_995 * 10**9, False, "1.00P", id="rounds-up-into-P"),
    pytest.param(10**18, False, "1,000.00P", id="beyond-peta-keeps-P"),
    pytest.param(4_608, True, "4,608", id="exact"),
    pytest.param(1_186_378, True, "1,186,378", id="exact-seed-000-total"),
    pytest.param(-1_234_567, True, "-1,234,567", id="exact-negative"),
    pytest.param(999, True, "999", id="exact-small"),
]


@pytest.mark.parametrize(("count", "exact", "text"), COUNTS)
def test_format_count(count: int, exact: bool, text: str) -> None:
    """Worked values; the torchinfo ones are seed 001's (lines 83 and 177)."""
    assert format_count(count, exact=exact) == text


@given(st.integers(-(10**24), 10**24))
@example(999_995)
@example(-999_995)
@example(999_994_999)
@example(1_005)
def test_format_count_matches_decimal_oracle(count: int) -> None:
    """Any int (|n| < 10**24): the K/M/G/T/P text equals decimal's half-even quantisation."""
    assert format_count(count) == decimal_count(count)


@given(st.integers(-(10**30), 10**30))
def test_format_count_exact_round_trips(count: int) -> None:
    """Any int: the exact text, separators removed, is the integer again."""
    text = format_count(count, exact=True)
    assert int(text.replace(",", "")) == count
    assert all(len(group) == 3 for group in text.lstrip("-").split(",")[1:])


PERCENTS = [
    pytest.param(Fraction(137, 1152), 2, "11.89%", id="seed-001-stage1-params"),
    pytest.param(Fraction(704_960, 6_266_880), 2, "11.25%", id="seed-001-total-params"),
    pytest.param(Fraction(554_565_632, 4_831_838_208), 2, "11.48%", id="seed-001-total-macs"),
    pytest.param(Fraction(1), 2, "100.00%", id="one"),
    pytest.param(Fraction(0), 2, "0.00%", id="zero"),
    pytest.param(Fraction(1, 8), 2, "12.50%", id="eighth"),
    pytest.param(Fraction(1, 800), 2, "0.12%", id="half-even-down"),
    pytest.param(Fraction(3, 800), 2, "0.38%", id="half-even-up"),
    pytest.param(Fraction(-1, 8), 2, "-12.50%", id="negative"),
    pytest.param(Fraction(-1, 10**6), 2, "0.00%", id="tiny-negative-no-minus-zero"),
    pytest.param(Fraction(137, 1152), 0, "12%", id="no-places"),
    pytest.param(Fraction(137, 1152), 1, "11.9%", id="one-place"),
    pytest.param(Fraction(1_296, 100), 0, "1,296%", id="thousands-separator"),
    pytest.param(None, 2, "–", id="undefined"),
]


@pytest.mark.parametrize(("ratio", "places", "text"), PERCENTS)
def test_format_percent(ratio: Fraction | None, places: int, text: str) -> None:
    """Worked values; the seed 001 ratios are those of its Figure 4 setting."""
    assert format_percent(ratio, places) == text


@given(
    st.fractions(min_value=-100, max_value=100, max_denominator=10**9),
    st.integers(0, 4),
)
@example(Fraction(1, 800), 2)
@example(Fraction(5, 1000), 0)
def test_format_percent_matches_decimal_oracle(ratio: Fraction, places: int) -> None:
    """Any fraction in [-100, 100] with denominator <= 10**9, 0 to 4 places."""
    assert format_percent(ratio, places) == decimal_percent(ratio, places)


@pytest.mark.parametrize(
    ("ratio", "text"),
    [
        pytest.param(Fraction(137, 1152), "137/1152", id="fraction"),
        pytest.param(Fraction(2, 2), "1", id="one"),
        pytest.param(Fraction(704_960, 6_266_880), "2203/19584", id="reduced"),
        pytest.param(None, "–", id="undefined"),
    ],
)
def test_format_ratio_exact(ratio: Fraction | None, text: str) -> None:
    assert format_ratio_exact(ratio) == text


@given(st.fractions(max_denominator=10**6))
def test_format_ratio_exact_round_trips(ratio: Fraction) -> None:
    """Any fraction: the exact text parses back to the same `Fraction`."""
    assert Fraction(format_ratio_exact(ratio)) == ratio
