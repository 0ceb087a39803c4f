"""The argument checks every module shares: integers, flags, choices and did-you-mean.

Each check raises a `FieldError` naming the field, the value and what was expected.

>>> check_int("groups", 2)
2
>>> check_choice("format", "jsno", ("json", "csv"))
Traceback (most recent call last):
  ...
convcost.errors.FieldError: format must be one of 'json', 'csv', got 'jsno'; did you mean 'json'?
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, TypeGuard, TypeVar

from convcost.errors import FieldError
from convcost.limits import MAX_SIZE

__all__ = ["check_bool", "check_choice", "check_int", "is_int", "suggest"]

_T = TypeVar("_T", bound=str)


def is_int(value: object) -> TypeGuard[int]:
    """True for real integers; `bool` is an int to Python but never a size or a count."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_int(field: str, value: object, *, minimum: int = 1, maximum: int = MAX_SIZE) -> int:
    """`value` if it is an integer in ``[minimum, maximum]``, else a `FieldError`."""
    if not is_int(value) or not minimum <= value <= maximum:
        if maximum == MAX_SIZE:
            bound = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
            expected = f"{bound} (at most 10**18)" if is_int(value) and value > 0 else bound
        else:
            expected = f"an integer from {minimum:,} to {maximum:,}"
        raise FieldError(field, value, expected)
    return value


def check_bool(field: str, value: object) -> bool:
    """`value` if it is True or False; truthy text such as ``"no"`` is not a flag."""
    if not isinstance(value, bool):
        raise FieldError(field, value, "True or False")
    return value


_SUGGESTIONS: Final = 3


def suggest(word: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'a' or 'b'?"`` for the closest choices, or nothing.

    The choices the word starts (``vgg`` → both VGGs), or else difflib's nearest, best
    first, ties alphabetical.

    >>> suggest("resnet", ("resnet18", "resnet50", "unet"))
    "; did you mean 'resnet18' or 'resnet50'?"
    >>> suggest("xceptoin", ("xception", "resnet18"))
    "; did you mean 'xception'?"
    """
    import difflib  # imported here: only a mistyped choice needs it

    candidates = tuple(choices)
    if not isinstance(word, str) or not word:
        return ""
    lowered = word.lower()
    prefixed = sorted(name for name in candidates if name.lower().startswith(lowered))
    close = difflib.get_close_matches(word, candidates, n=_SUGGESTIONS, cutoff=0.6)
    close.sort(key=lambda name: (-difflib.SequenceMatcher(None, word, name).ratio(), name))
    chosen = (prefixed or close)[:_SUGGESTIONS]
    if not chosen:
        return ""
    return "; did you mean " + " or ".join(map(repr, chosen)) + "?"


def check_choice(field: str, value: object, choices: tuple[_T, ...]) -> _T:
    """`value` if it is one of `choices`, else a `FieldError` with a did-you-mean hint."""
    if isinstance(value, str) and value in choices:
        return value  # a member of choices, so a _T
    hint = suggest(value, choices) if isinstance(value, str) else ""
    raise FieldError(field, value, "one of " + ", ".join(map(repr, choices)), hint)
