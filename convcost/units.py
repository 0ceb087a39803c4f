"""Number formatting for tables: thousands separators, K/M/G/T/P units, percentages, times.

Standard library only; counts arrive as exact ints and ratios as `Fraction`s, and are
rounded here, at the last moment, for display.
"""

from __future__ import annotations

from fractions import Fraction

__all__ = [
    "format_count",
    "format_decimal",
    "format_megabytes",
    "format_percent",
    "format_ratio_exact",
    "format_seconds",
]

_UNITS = ((10**15, "P"), (10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K"))


def _round_half_even(value: Fraction, places: int) -> str:
    return _decimal_text(round(value * 10**places), places)  # Fraction rounds half to even


def _decimal_text(scaled: int, places: int) -> str:
    """``scaled / 10**places`` with `places` decimals and thousands separators."""
    sign = "-" if scaled < 0 else ""
    whole, fraction = divmod(abs(scaled), 10**places)
    return f"{sign}{whole:,}.{fraction:0{places}d}" if places else f"{sign}{whole:,}"


def _divide_half_even(numerator: int, denominator: int) -> int:
    """``round(Fraction(numerator, denominator))`` for a positive `denominator`, in ints."""
    quotient, remainder = divmod(numerator, denominator)
    if 2 * remainder > denominator or (2 * remainder == denominator and quotient % 2):
        quotient += 1
    return quotient


def format_count(count: int, *, exact: bool = False) -> str:
    """``1207959552`` → ``"1.21G"``; with `exact`, ``"1,207,959,552"``. Below 1,000: as is.

    >>> format_count(75497472), format_count(656), format_count(4608, exact=True)
    ('75.50M', '656', '4,608')
    """
    if exact or abs(count) < 1000:
        return f"{count:,}"
    for index, (scale, unit) in enumerate(_UNITS):
        if abs(count) >= scale:
            hundredths = _divide_half_even(count * 100, scale)
            if index and abs(hundredths) >= 1000 * 100:
                scale, unit = _UNITS[index - 1]  # 999,995 rounds to 1.00M, not 1,000.00K
                hundredths = _divide_half_even(count * 100, scale)
            return _decimal_text(hundredths, 2) + unit
    raise AssertionError("unreachable: |count| >= 1000 has a unit")


def format_percent(ratio: Fraction | None, places: int = 2) -> str:
    """``Fraction(137, 1152)`` → ``"11.89%"``; None (undefined) → ``"–"``."""
    if ratio is None:
        return "–"
    return _round_half_even(ratio * 100, places) + "%"


def format_ratio_exact(ratio: Fraction | None) -> str:
    """The exact fraction, ``"137/1152"`` (``"1"`` for one, ``"–"`` when undefined)."""
    if ratio is None:
        return "–"
    return str(ratio)


def format_megabytes(count: int) -> str:
    """Bytes as torchinfo prints them: MB of 10**6 bytes, two decimals, exact rounding.

    >>> format_megabytes(1_048_576), format_megabytes(4_194_304)
    ('1.05 MB', '4.19 MB')
    """
    return _round_half_even(Fraction(count, 10**6), 2) + " MB"


_TIME_UNITS = ((1, "s"), (Fraction(1, 10**3), "ms"), (Fraction(1, 10**6), "µs"))


def format_seconds(seconds: Fraction) -> str:
    """A time in the largest unit that keeps it at least 1, two decimals.

    >>> format_seconds(Fraction(7743, 10**9)), format_seconds(Fraction(3, 2)), format_seconds(0)
    ('7.74 µs', '1.50 s', '0.00 ns')
    """
    for scale, unit in _TIME_UNITS:
        if seconds >= scale:
            return _round_half_even(Fraction(seconds) / scale, 2) + " " + unit
    return _round_half_even(Fraction(seconds) * 10**9, 2) + " ns"


def format_decimal(value: Fraction, places: int = 2) -> str:
    """An exact ratio as a decimal number: ``Fraction(86, 9)`` → ``"9.56"``.

    >>> format_decimal(Fraction(86, 9))
    '9.56'
    """
    return _round_half_even(Fraction(value), places)
