"""Fast within the limits (issue 10, section 9): a 62 KB YAML spec that expands, through
aliases, to 99,000 convolutions, inside every documented limit.

The spec: 990 named blocks (top-level `sequential`s), each the same list of 100
convolutions, written once and aliased 989 times (``layers: *body``): 99,990 nodes
(`MAX_LAYERS` is 100,000), blocks one deep (`MAX_DEPTH` 32), 62 KB (`MAX_TEXT_BYTES` 1 MiB),
sizes far below 10**18. The 100 convolutions differ (1×1, 3×3, 5×5; 16 and 32 channels),
so the engine costs 100 distinct (layer, input shape) pairs and 99,000 rows.

Times ``convcost compare`` and ``convcost summary`` on it as whole processes, best of 3,
pinned to one core when ``taskset`` exists: CPU time (user + system, what the process
spent on its core however busy the machine is, and what the verdict is on) and wall
time; the target is at most 3 s each. Then, in one process, the CPU and wall time of each
phase (reading the spec, the engine, the report, drawing it), so a miss says where the
time goes.

    python benchmarks/bench_limits.py [--runs 3] [--format plain] [--profile]

``--profile`` adds the top functions of a cProfile run of each command. Not part of the
test run: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import platform
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from convcost.limits import MAX_DEPTH, MAX_LAYERS, MAX_TEXT_BYTES
from convcost.network import Network, Node, Parallel, Residual, Sequential

BLOCKS = 990
CONVS_PER_BLOCK = 100
TARGET_S = 3.0
COMMANDS = ("compare", "summary")
T = TypeVar("T")


def limits_spec(blocks: int = BLOCKS, convs: int = CONVS_PER_BLOCK) -> str:
    """The spec as YAML text: `blocks` named blocks sharing one aliased list of `convs`
    convolutions that keep a 16×32×32 input's shape every two layers."""
    lines = ["name: alias-expanded", "input: 16x32x32", "layers:"]
    body = []
    for index in range(convs):
        channels = 32 if index % 2 == 0 else 16  # 16 -> 32 -> 16 ...: blocks chain
        kernel = (1, 3, 5)[index % 3]
        body.append(
            f"    - {{type: conv, name: conv{index:03d}, out_channels: {channels}, "
            f"kernel_size: {kernel}, padding: same, bias: false}}"
        )
    lines += ["- type: sequential", "  name: block0001", "  layers: &body", *body]
    lines += [f"- {{type: sequential, name: block{b:04d}, layers: *body}}"
              for b in range(2, blocks + 1)]  # fmt: skip
    return "\n".join(lines) + "\n"


def census(nodes: tuple[Node, ...], depth: int = 0) -> tuple[int, int, int]:
    """(nodes, convolutions, deepest block level) of a tree of nodes."""
    total, convs, deepest = 0, 0, -1
    for node in nodes:
        total += 1
        children: list[tuple[Node, ...]] = []
        if isinstance(node, Sequential):
            children = [node.layers]
        elif isinstance(node, Residual):
            children = [node.body, node.shortcut]
        elif isinstance(node, Parallel):
            children = list(node.branches)
        else:
            convs += type(node).__name__ == "Conv"
        if isinstance(node, (Sequential, Residual, Parallel)):
            deepest = max(deepest, depth)
        for child in children:
            more, more_convs, reach = census(child, depth + 1)
            total, convs, deepest = total + more, convs + more_convs, max(deepest, reach)
    return total, convs, deepest


def check_limits(path: Path) -> Network:
    from convcost.specs import load_spec

    size = path.stat().st_size
    network = load_spec(path)
    nodes, convs, deepest = census(network.layers)
    print(f"spec: {size / 1000:.1f} KB (limit {MAX_TEXT_BYTES / 1000:.0f} KB), {nodes:,} nodes "
          f"(limit {MAX_LAYERS:,}), {convs:,} convolutions, blocks {deepest + 1} deep "
          f"(limit {MAX_DEPTH})")  # fmt: skip
    if size > MAX_TEXT_BYTES or nodes > MAX_LAYERS or deepest >= MAX_DEPTH:
        raise SystemExit("the spec is not within the limits: fix limits_spec()")
    return network


def command_line(command: str, path: Path, output_format: str) -> list[str]:
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") else []
    script = Path(sys.executable).with_name("convcost")
    convcost = [sys.executable, str(script)] if script.is_file() else [sys.executable, "-m",
                                                                       "convcost"]  # fmt: skip
    return [*pin, *convcost, command, str(path), "--format", output_format]


def time_process(arguments: list[str]) -> tuple[float, float, int]:
    """Wall time and CPU time (user + system) of one run, and the bytes it wrote."""
    with tempfile.TemporaryFile() as output:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(arguments, check=True, stdout=output, stderr=subprocess.PIPE)
        elapsed = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        return elapsed, cpu, output.tell()


def phases(network: Network, path: Path, output_format: str) -> None:
    """Each phase of both commands, in this process, once."""
    from convcost.network import compare, network_cost
    from convcost.render import render_text
    from convcost.report import compare_families, summary
    from convcost.specs import load_spec

    def timed(label: str, work: Callable[[], T]) -> T:
        gc.collect()  # no collection pending from the phase before
        start, cpu = time.perf_counter(), time.process_time()
        result = work()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        print(f"  {label:<44} {cpu:7.2f} {seconds:7.2f}")
        return result

    print(f"\nphases, in one process (--format {output_format}), seconds:")
    print(f"  {'':<44} {'CPU':>7} {'wall':>7}")
    timed("load_spec (read, parse, build, check shapes)", lambda: load_spec(path))
    timed("network_cost (the engine, one family)", lambda: network_cost(network))
    timed("compare (rewrite and cost three families)", lambda: compare(network))
    report = timed("report.summary", lambda: summary(network))
    text = timed(f"render summary as {output_format}", lambda: render_text(report, output_format))
    print(f"  {'':<44} {len(text) / 1e6:7.1f} MB")
    compared = timed("report.compare_families", lambda: compare_families(network))
    text = timed(f"render compare as {output_format}", lambda: render_text(compared, output_format))
    print(f"  {'':<44} {len(text) / 1e6:7.1f} MB")


def profile(command: str, path: Path, output_format: str, top: int = 18) -> None:
    from convcost.cli import main as cli

    profiler = cProfile.Profile()
    sink = io.StringIO()
    real_stdout, sys.stdout = sys.stdout, sink
    try:
        profiler.runcall(
            cli, [command, str(path), "--format", output_format], standalone_mode=False
        )
    finally:
        sys.stdout = real_stdout
    print(f"\ncProfile of convcost {command} (cumulative, convcost's functions):")
    stats = pstats.Stats(profiler, stream=sys.stdout)
    stats.sort_stats("cumulative").print_stats(r"convcost/", top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per command (best is shown)")
    parser.add_argument("--format", default="plain", help="output format of the commands")
    parser.add_argument("--profile", action="store_true", help="cProfile each command too")
    options = parser.parse_args()

    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"Python {platform.python_version()} on {platform.platform()}, {os.cpu_count()} CPUs, "
          f"load {load}")  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "limits.yaml"
        path.write_text(limits_spec(), encoding="utf-8")
        network = check_limits(path)
        pinned = "one core (taskset -c 0)" if shutil.which("taskset") else "no taskset: any core"
        print(f"\nconvcost COMMAND {path.name} --format {options.format}, best of "
              f"{options.runs}, {pinned}; target <= {TARGET_S:.0f} s of CPU time")  # fmt: skip
        for command in COMMANDS:
            arguments = command_line(command, path, options.format)
            runs = [time_process(arguments) for _ in range(options.runs)]
            best = min(cpu for _, cpu, _ in runs)
            shown = ", ".join(f"{cpu:.2f}" for _, cpu, _ in runs)
            walls = ", ".join(f"{elapsed:.2f}" for elapsed, _, _ in runs)
            verdict = "met" if best <= TARGET_S else "MISSED"
            print(f"  {command:<8} CPU best {best:5.2f} s  (CPU: {shown} s; wall: {walls} s; "
                  f"output {runs[0][2] / 1e6:.1f} MB)  {verdict}")  # fmt: skip
        phases(network, path, options.format)
        if options.profile:
            for command in COMMANDS:
                profile(command, path, options.format)


if __name__ == "__main__":
    main()
