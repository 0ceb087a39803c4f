"""Engine throughput: `network_cost` on chains of 1,000, 10,000 and 100,000 layers.

Each network is a chain of Conv 3×3 ("same", 8 → 8 channels) + BatchNorm + ReLU, repeated,
on an 8×16×16 input, built once; `network_cost` is timed with `time.perf_counter`, best of
several runs, garbage collector on (as in real use; a second column has it off, to show
what the cyclic collector adds on large networks). Prints µs per layer and checks that
the time grows linearly (µs per layer at 100,000 within 1.5× of that at 1,000). Target:
10,000 layers in under 50 ms. For reference it also times building the 10,000-layer
network and comparing it across the three families (three rewrites and three costings).

    python benchmarks/bench_engine.py [--profile]

``--profile`` prints the top functions of a cProfile run of `network_cost` at 10,000
layers. Not part of the test run: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import gc
import os
import platform
import pstats
import time
from collections.abc import Callable

from convcost import Activation, BatchNorm, Conv, Shape
from convcost.network import Network, compare, network_cost

SIZES = (1_000, 10_000, 100_000)
TARGET_MS = 50.0
LINEAR_TOLERANCE = 1.5


def chain(layers: int) -> Network:
    """`layers` layers: Conv 3×3 same, BatchNorm, ReLU, Conv, ... each its own named object."""
    nodes: list[Conv | BatchNorm | Activation] = []
    for index in range(layers):
        step = index % 3
        if step == 0:
            nodes.append(Conv(name=f"conv{index}", out_channels=8, kernel_size=3, padding="same"))
        elif step == 1:
            nodes.append(BatchNorm(name=f"bn{index}"))
        else:
            nodes.append(Activation(name=f"relu{index}"))
    return Network(name=f"chain{layers}", input_shape=Shape(8, (16, 16)), layers=tuple(nodes))


def best_of(function: Callable[[], object], runs: int) -> float:
    """The fastest of `runs` calls, in seconds; each starts with no collection pending."""
    best = float("inf")
    for _ in range(runs):
        gc.collect()  # outside the timing: the debt of building the fixture is not the engine's
        start = time.perf_counter()
        function()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per size (best is kept)")
    parser.add_argument("--profile", action="store_true", help="cProfile 10,000 layers")
    options = parser.parse_args()

    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"Python {platform.python_version()} on {platform.platform()}, {os.cpu_count()} CPUs")
    print(f"load average before the runs (1, 5, 15 min): {load}")
    print(f"best of {options.runs} runs (3 at 100,000 layers)\n")
    print(f"{'layers':>8} {'best ms':>10} {'µs/layer':>9} {'µs/layer, gc off':>17}")
    per_layer: dict[int, float] = {}
    for size in SIZES:
        network = chain(size)
        if len(network_cost(network).rows) != size:
            raise SystemExit(f"expected {size} rows")
        runs = options.runs if size < 100_000 else 3
        seconds = best_of(functools.partial(network_cost, network), runs)
        gc.disable()
        try:
            without_gc = best_of(functools.partial(network_cost, network), runs)
        finally:
            gc.enable()
        per_layer[size] = seconds / size * 1e6
        print(
            f"{size:>8,} {seconds * 1e3:>10.1f} {per_layer[size]:>9.2f} "
            f"{without_gc / size * 1e6:>17.2f}"
        )

    growth = per_layer[SIZES[-1]] / per_layer[SIZES[0]]
    linear = "linear" if growth <= LINEAR_TOLERANCE else "NOT linear"
    print(f"\nµs/layer at {SIZES[-1]:,} / at {SIZES[0]:,}: {growth:.2f} ({linear})")
    ten_thousand = per_layer[10_000] * 10_000 / 1e3
    verdict = "met" if ten_thousand < TARGET_MS else "MISSED"
    print(f"10,000 layers: {ten_thousand:.1f} ms (target < {TARGET_MS:.0f} ms: {verdict})")

    build = best_of(lambda: chain(10_000), 3)
    network = chain(10_000)
    families = best_of(functools.partial(compare, network), 3)
    print(f"\nfor reference, 10,000 layers: building the Network {build * 1e3:.1f} ms; "
          f"compare() over 3 families {families * 1e3:.1f} ms")  # fmt: skip

    if options.profile:
        profiler = cProfile.Profile()
        profiler.runcall(network_cost, network)
        print("\ncProfile of network_cost, 10,000 layers (by own time):")
        pstats.Stats(profiler).strip_dirs().sort_stats("tottime").print_stats(15)


if __name__ == "__main__":
    main()
