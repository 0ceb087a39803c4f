"""Import hygiene, each in a fresh interpreter.

The engine never loads the front-end libraries (click, rich, tabulate): a library user,
or ``--format json``, must not pay for them. And every module imports on its own, so no
import cycle hides behind the order in which ``convcost/__init__.py`` happens to import.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import convcost

FRONT_END = ("click", "rich", "tabulate")
# The command line and the renderers are the two modules allowed to use them.
FRONT_END_MODULES = frozenset({"convcost.cli", "convcost.options", "convcost.render"})
# `python -m convcost` runs the command when imported, so it is not imported here.
MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(convcost.__path__, prefix="convcost.")
    if info.name != "convcost.__main__"
)


def python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        check=False,
    )


def loaded_front_end(module: str) -> list[str]:
    code = (
        f"import sys, {module}\n"
        "top = {name.partition('.')[0] for name in sys.modules}\n"
        f"print(' '.join(sorted(top & {set(FRONT_END)!r})))"
    )
    result = python(code)
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_importing_convcost_loads_no_front_end_library() -> None:
    assert loaded_front_end("convcost") == []


@pytest.mark.parametrize("module", MODULES)
def test_module_imports_alone(module: str) -> None:
    """Each module imports first, in a fresh interpreter (no circular imports).

    Only the command line and the renderers may load click, rich or tabulate on import.
    """
    loaded = loaded_front_end(module)
    if module not in FRONT_END_MODULES:
        assert loaded == []


def test_a_summary_in_json_imports_only_what_it_uses() -> None:
    """`convcost summary MODEL --format json` loads no renderer library, and none of the
    modules that only some options need: devices and the roofline (``--device``), the TOML
    parser (spec and profile files), temporary files (``--output``), difflib (a mistyped
    choice), csv, html and textwrap (other formats), the other model readers."""
    model = Path(__file__).parent / "data" / "onnx" / "resnet18.onnx"
    code = (
        "import sys\n"
        "from convcost.cli import main\n"
        f"sys.argv = ['convcost', 'summary', {str(model)!r}, '--format', 'json']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "sys.stdout = sys.__stdout__\n"
        "print('\\nLOADED', ' '.join(sorted(sys.modules)))\n"
    )
    result = python(code)
    assert result.returncode == 0, result.stderr
    loaded = set(result.stdout.rpartition("LOADED ")[2].split())
    assert "convcost.onnx" in loaded
    unwanted = {
        "rich", "tabulate", "convcost.devices", "convcost.roofline", "tomllib", "tempfile",
        "difflib", "csv", "html", "textwrap", "convcost.specs", "convcost.presets",
        "convcost.keras", "convcost.pytorch",
    }  # fmt: skip
    assert unwanted & loaded == set()
