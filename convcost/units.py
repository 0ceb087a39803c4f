"""Number formatting for tables: thousands separators, K/M/G/T units, percentages.

Standard library only; counts arrive as exact ints and ratios as `Fraction`s, and are
rounded here, at the last moment, for display.
"""

from __future__ import annotations

from fractions import Fraction

__all__ = ["format_count", "format_percent", "format_ratio_exact"]

_UNITS = ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "K"))


def _round_half_even(value: Fraction, places: int) -> str:
    scaled = round(value * 10**places)  # Fraction rounds half to even, exactly
    sign = "-" if scaled < 0 else ""
    whole, fraction = divmod(abs(scaled), 10**places)
    return f"{sign}{whole:,}.{fraction:0{places}d}" if places else f"{sign}{whole:,}"


def format_count(count: int, *, exact: bool = False) -> str:
    """``1207959552`` → ``"1.21G"``; with `exact`, ``"1,207,959,552"``. Below 1,000: as is.

    >>> format_count(75497472), format_count(656), format_count(4608, exact=True)
    ('75.50M', '656', '4,608')
    """
    if exact or abs(count) < 1000:
        return f"{count:,}"
    for index, (scale, unit) in enumerate(_UNITS):
        if abs(count) >= scale:
            value = Fraction(count, scale)
            if index and abs(round(value * 100)) >= 1000 * 100:
                scale, unit = _UNITS[index - 1]  # 999,995 rounds to 1.00M, not 1,000.00K
                value = Fraction(count, scale)
            return _round_half_even(value, 2) + unit
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
