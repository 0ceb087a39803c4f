"""Sweep throughput: 100, 1,000 and 10,000 points over ResNet-50 and MobileNet v1.

Two grids, each in three sizes (three families, the paper's convention, no device), both
width × resolution: 10 × 10, 10 × 100, then 100 × 100.

* ResNet-50 (`width` is torchvision's width_per_group / 64): widths 0.5 to 1.4 by 0.1,
  then 0.5 to 1.49 by 0.01; resolutions 128 to 137, then 128 to 227;
* MobileNet v1: widths 0.1 to 1 by 0.1, then 0.05 to 1.04 by 0.01; the same resolutions.

Each `sweep` call is timed whole (building the networks, costing every point, making the
report), once per size, garbage collector on, pinned to one core where the system
allows: wall time, and CPU time (`time.process_time`), which is what one core spends
however busy the machine is; the verdict is on CPU time. Beside it, in CPU time: what
building every point's network with `load_network` alone would take (the sweep builds
one per width and sets each resolution's input, see `Preset.with_resolution`).
Target: 10,000 points over ResNet-50 in under 10 s.

    python benchmarks/bench_sweep.py [--sizes 100,1000,10000] [--profile]

``--profile`` prints the top functions of a cProfile run of the 1,000-point ResNet-50
sweep. Not part of the test run: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import platform
import pstats
import time
from dataclasses import dataclass

from convcost.sources import load_network
from convcost.sweep import parse_grid, sweep

TARGET_S = 10.0


@dataclass(frozen=True)
class Case:
    """A sweep at one size: its preset and its grid texts."""

    source: str
    texts: tuple[str, ...]

    @property
    def size(self) -> int:
        return parse_grid(self.texts).size


CASES: dict[int, tuple[Case, ...]] = {
    100: (
        Case("resnet50", ("width=0.5:1.4:0.1", "resolution=128:137")),
        Case("mobilenet-v1", ("width=0.1:1:0.1", "resolution=128:137")),
    ),
    1_000: (
        Case("resnet50", ("width=0.5:1.4:0.1", "resolution=128:227")),
        Case("mobilenet-v1", ("width=0.1:1:0.1", "resolution=128:227")),
    ),
    10_000: (
        Case("resnet50", ("width=0.5:1.49:0.01", "resolution=128:227")),
        Case("mobilenet-v1", ("width=0.05:1.04:0.01", "resolution=128:227")),
    ),
}


def pin_to_one_core() -> str:
    if hasattr(os, "sched_setaffinity") and hasattr(os, "sched_getaffinity"):
        core = min(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {core})
        return f"pinned to CPU {core}"
    return "not pinned (no sched_setaffinity here)"


def timed_sweep(case: Case) -> tuple[float, float]:
    """Wall and CPU seconds of the whole sweep."""
    grid = parse_grid(case.texts)
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    report = sweep(case.source, grid)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    if len(report.points) != grid.size:
        raise SystemExit(f"{case.source}: expected {grid.size} points")
    return seconds, cpu


def timed_builds(case: Case) -> float:
    """CPU seconds of every point's `load_network`, alone."""
    grid = parse_grid(case.texts)
    gc.collect()
    start = time.process_time()
    for point in grid.points():
        load_network(case.source, parameters=point)
    return time.process_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--sizes", default="100,1000,10000", help="point counts to time")
    parser.add_argument("--profile", action="store_true", help="cProfile 1,000 points")
    options = parser.parse_args()
    sizes = [int(size) for size in options.sizes.split(",")]

    pinned = pin_to_one_core()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"Python {platform.python_version()} on {platform.platform()}, {os.cpu_count()} CPUs")
    print(f"{pinned}; load average before the runs (1, 5, 15 min): {load}\n")
    print(f"{'sweep':<52} {'points':>7} {'wall s':>7} {'CPU s':>7} {'CPU µs/pt':>9} "
          f"{'build CPU s':>11}")  # fmt: skip
    results: dict[tuple[str, int], float] = {}
    for size in sizes:
        for case in CASES[size]:
            if case.size != size:
                raise SystemExit(f"{case.texts} has {case.size} points, not {size}")
            seconds, cpu = timed_sweep(case)
            builds = timed_builds(case)
            results[case.source, size] = cpu
            label = f"{case.source} {' '.join(case.texts)}"
            print(f"{label:<52} {size:>7,} {seconds:>7.2f} {cpu:>7.2f} {cpu / size * 1e6:>9.0f} "
                  f"{builds:>11.2f}")  # fmt: skip

    for source in ("resnet50", "mobilenet-v1"):
        measured = sorted(size for name, size in results if name == source)
        if len(measured) > 1:
            first, last = measured[0], measured[-1]
            growth = (results[source, last] / last) / (results[source, first] / first)
            print(f"\n{source}: CPU µs per point at {last:,} / at {first:,}: {growth:.2f}")
    if ("resnet50", 10_000) in results:
        seconds = results["resnet50", 10_000]
        verdict = "met" if seconds < TARGET_S else "MISSED"
        print(
            f"ResNet-50, 10,000 points: {seconds:.1f} CPU s (target < {TARGET_S:.0f} s: {verdict})"
        )

    if options.profile:
        case = CASES[1_000][0]
        profiler = cProfile.Profile()
        profiler.runcall(sweep, case.source, parse_grid(case.texts))
        print(f"\ncProfile of sweep({case.source!r}, {' '.join(case.texts)}), by own time:")
        pstats.Stats(profiler).strip_dirs().sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
