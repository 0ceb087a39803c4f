"""Start-up cost of `convcost compare`, timed as whole processes.

Runs, round-robin so that drift hits every command alike, ``python -c pass`` (the
interpreter floor), ``python -c "import click, rich.console, rich.table"`` (the import
floor: what any click + rich tool pays) and ``convcost compare`` in each format; prints
the median and the minimum of each, and the ratio of the default compare (rich, as in a
terminal) to the import floor. Target: at most 1.3×.

Then checks, with ``python -X importtime``, which formats load rich and tabulate (target:
``--format json`` loads neither), and lists the imports that dominate the default compare.

    python benchmarks/bench_cli.py [--runs 30]

Not part of the test run: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

FORMATS = ("rich", "plain", "markdown", "latex", "csv", "json")
TARGET_RATIO = 1.3


def convcost_script() -> list[str]:
    """The installed console script, run by this interpreter (so -X flags reach it)."""
    script = Path(sys.executable).with_name("convcost")
    if script.is_file():
        return [sys.executable, str(script)]
    return [sys.executable, "-m", "convcost"]


def environment() -> dict[str, str]:
    """No colour forced, a fixed width for rich, no inherited Python start-up hooks."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("FORCE_COLOR", "NO_COLOR", "PYTHONSTARTUP", "PYTHONPROFILEIMPORTTIME")
    }
    env["COLUMNS"] = "100"
    return env


def commands() -> dict[str, list[str]]:
    convcost = convcost_script()
    table = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "import click, rich": [sys.executable, "-c", "import click, rich.console, rich.table"],
    }
    for name in FORMATS:
        table[f"compare --format {name}"] = [*convcost, "compare", "--format", name]
    return table


def time_round_robin(table: dict[str, list[str]], runs: int, warmup: int) -> dict[str, list[float]]:
    env = environment()
    times: dict[str, list[float]] = {name: [] for name in table}
    for round_ in range(warmup + runs):
        for name, command in table.items():
            start = time.perf_counter()
            subprocess.run(
                command, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            elapsed = time.perf_counter() - start
            if round_ >= warmup:
                times[name].append(elapsed)
    return times


def imports_of(arguments: list[str]) -> list[tuple[int, int, str]]:
    """(cumulative µs, nesting depth, module) of every import of one run, in order."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", *convcost_script()[1:], *arguments],
        check=True,
        env=environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    imports = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line.split("|")
        depth = (len(name) - len(name.lstrip())) // 2
        imports.append((int(cumulative), depth, name.strip()))
    return imports


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="timed runs per command")
    parser.add_argument("--warmup", type=int, default=3, help="untimed runs per command first")
    options = parser.parse_args()

    # Installed packages come byte-compiled (pip compiles at install); an editable checkout
    # under PYTHONDONTWRITEBYTECODE would recompile convcost's sources at every start.
    import compileall

    import convcost

    compileall.compile_dir(Path(convcost.__file__).parent, quiet=1)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"Python {platform.python_version()} on {platform.platform()}, {os.cpu_count()} CPUs")
    print(f"load average before the runs (1, 5, 15 min): {load}")
    print(f"{options.runs} runs per command (after {options.warmup} warm-up), round-robin\n")
    times = time_round_robin(commands(), options.runs, options.warmup)
    floor = statistics.median(times["import click, rich"])
    print(f"{'command':<28} {'median ms':>10} {'min ms':>8} {'× import floor':>15}")
    for name, samples in times.items():
        median = statistics.median(samples)
        print(
            f"{name:<28} {median * 1e3:>10.1f} {min(samples) * 1e3:>8.1f} {median / floor:>15.2f}"
        )
    ratio = statistics.median(times["compare --format rich"]) / floor
    verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
    print(f"\ndefault compare (rich) / import floor: {ratio:.2f}×", end=" ")
    print(f"(target <= {TARGET_RATIO}×: {verdict})")

    print("\nmodules loaded, by format (python -X importtime):")
    for name in FORMATS:
        loaded = {
            module.split(".")[0] for _, _, module in imports_of(["compare", "--format", name])
        }
        heavy = [module for module in ("rich", "tabulate", "click") if module in loaded]
        print(f"  --format {name:<9} loads {', '.join(heavy) or 'none of click, rich, tabulate'}")
    json_loaded = {
        module.split(".")[0] for _, _, module in imports_of(["compare", "--format", "json"])
    }
    clean = not {"rich", "tabulate"} & json_loaded
    print(f"--format json loads neither rich nor tabulate: {'met' if clean else 'MISSED'}")

    print("\nlargest top-level imports of the default compare (cumulative ms):")
    top = sorted(
        (item for item in imports_of(["compare", "--format", "rich"]) if item[1] == 0),
        reverse=True,
    )
    for cumulative, _, module in top[:12]:
        print(f"  {cumulative / 1e3:7.1f}  {module}")


if __name__ == "__main__":
    main()
