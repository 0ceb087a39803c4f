"""Hypothesis profiles.

``ci`` (the default) keeps the whole suite quick; ``thorough`` searches harder and is meant
for an occasional local run: ``HYPOTHESIS_PROFILE=thorough pytest``. Neither has a deadline:
the tests check results, never how long they take.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", deadline=None, max_examples=60, print_blob=True)
settings.register_profile("thorough", deadline=None, max_examples=1_000, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Fixtures, not tests: --doctest-modules would import tests/data/twin_torch.py, which
# needs torch, an optional extra (the tests that use it skip without torch).
collect_ignore_glob = ["data/*"]


# --- golden files ---------------------------------------------------------------------
# Appended below the profiles, so these imports sit after module-level code on purpose.

from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

GOLDEN_DIR = Path(__file__).parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite the files of tests/golden/ from the current output instead of comparing.",
    )


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str, str], None]:
    """``golden(name, text)``: `text` must equal ``tests/golden/<name>``, byte for byte.

    With ``pytest --update-golden`` the file is (re)written from `text` instead.
    """
    update = bool(request.config.getoption("--update-golden"))

    def check(name: str, text: str) -> None:
        path = GOLDEN_DIR / name
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text.encode("utf-8"))
            return
        if not path.is_file():
            pytest.fail(f"no golden file {path}; run `pytest --update-golden` to create it")
        assert text == path.read_bytes().decode("utf-8"), f"output differs from {path}"

    return check
