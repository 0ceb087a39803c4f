"""ONNX files with their weights inline: convcost against onnx-tool, as whole processes.

The issue's goal (issue 15, part 6): on ResNet-50 (about 100 MB of weights inline) and
VGG-16 (about 530 MB) convcost answers at least 10× faster than onnx-tool end to end, with
a peak memory that does not grow with the weights.

The full-weight files are not in the repository: this script builds them from the stripped
fixtures of tests/data/onnx with the onnx package (every initializer filled with zeros of
its dims, inline: the same bytes on disk as the real weights, for a reader that skips them),
into a temporary directory. Then, round-robin, each command runs as its own process:

* ``convcost summary FILE --format json``, the installed command;
* onnx-tool's ``model_profile(FILE)`` in ``python -c``, when an interpreter that has
  onnx-tool is given (``--peer-python``, default /work/fixture-envs/tv/bin/python);
* ``python -c "import onnx"`` in that interpreter, the floor of any onnx-based tool.

For each: the median and minimum wall time, the median CPU time (user + system, from
``os.wait4``), and the peak resident memory of the command (GNU time's ``%M`` when
/usr/bin/time exists: a direct child's own figure would start from this script's). Twice:
with the file in the page cache (warm: it was just written, as for a model used twice),
and evicted from it before every run (cold: ``posix_fadvise(DONTNEED)``, as for a model
read once from disk).

Peak RSS counts the file's pages a process maps, not only what it allocates. convcost maps
the file and reads only the bytes around each tensor's header (advised MADV_RANDOM, so no
read-ahead pulls the weights in); from a cold cache that is all it maps. From a warm cache
the kernel maps whole cached folios (up to 2 MB each, ext4 and Linux 6.x) around each header
it touches: shared page cache, reclaimable, counted in RSS all the same.

    python benchmarks/bench_onnx.py [--runs 5] [--peer-python PATH] [--keep DIR]

Needs the onnx package (to build the files). Not part of the test run.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "data" / "onnx"
MODELS = ("resnet50", "vgg16")
PEER_PYTHON = Path("/work/fixture-envs/tv/bin/python")
TARGET = 10.0
GNU_TIME = "/usr/bin/time" if Path("/usr/bin/time").is_file() else None

PEER = "import sys, onnx_tool; onnx_tool.model_profile(sys.argv[1])"


BUILD = """
import math, sys
import onnx
source, target = sys.argv[1:]
model = onnx.load(source, load_external_data=False)
for tensor in model.graph.initializer:
    del tensor.external_data[:]
    tensor.data_location = onnx.TensorProto.DEFAULT
    width = {onnx.TensorProto.FLOAT: 4, onnx.TensorProto.INT64: 8}.get(tensor.data_type, 4)
    tensor.raw_data = bytes(width * math.prod(tensor.dims))
onnx.save(model, target)
"""


def build(name: str, directory: Path) -> Path:
    """The stripped fixture with every initializer's zeros written inline, built in a
    process of its own: a child's peak memory counts its parent's at the time it starts
    (Linux records the old address space's peak at exec), so this one stays small."""
    path = directory / f"{name}.full.onnx"
    subprocess.run([sys.executable, "-c", BUILD, str(FIXTURES / f"{name}.onnx"), str(path)],
                   check=True)  # fmt: skip
    return path


def convcost_command() -> tuple[list[str], str]:
    """The installed command (``python -m convcost`` where there is no script)."""
    script = Path(sys.executable).with_name("convcost")
    cli = [sys.executable, str(script)] if script.is_file() else [sys.executable, "-m", "convcost"]
    return [*cli, "summary", "{file}", "--format", "json"], "convcost summary FILE --format json"


def environment() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "PYTHONSTARTUP"}
    env["PYTHONPATH"] = str(REPO)
    return env


def evict(path: Path) -> None:
    """Drop the file's pages from the page cache (clean pages: no privilege needed)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(descriptor)


def run(command: list[str], cold: Path | None = None) -> tuple[float, float, int]:
    """Wall time and CPU time (user + system) in seconds, and peak resident memory in bytes,
    of one process; with `cold`, that file is evicted from the page cache first. CPU time
    moves less than wall time when other work shares the machine."""
    if cold is not None:
        evict(cold)
    # A child's peak RSS starts from its parent's resident size (Linux records the address
    # space it had before exec): GNU time, a small C program, runs the command instead, and
    # reports the command's own peak.
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as report:
        launcher = [GNU_TIME, "-f", "%M", "-o", report.name] if GNU_TIME else []
        start = time.perf_counter()
        process = subprocess.Popen(
            [*launcher, *command],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=environment(),
        )
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        error = process.stderr.read().decode(errors="replace") if process.stderr else ""
        if process.returncode != 0:
            raise SystemExit(f"{' '.join(command[:3])} ... failed:\n{error[-2000:]}")
        scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, KiB on Linux
        peak = usage.ru_maxrss * scale
        if GNU_TIME:
            peak = int(report.read().split()[-1]) * 1024  # GNU time's %M: KiB
    return elapsed, usage.ru_utime + usage.ru_stime, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--peer-python", type=Path, default=PEER_PYTHON)
    parser.add_argument("--keep", type=Path, help="build the files here and keep them")
    args = parser.parse_args()
    peer = args.peer_python if args.peer_python.is_file() else None
    if peer is None:
        print(f"no peer interpreter at {args.peer_python}: onnx-tool is not timed")
    convcost, convcost_label = convcost_command()
    print(f"convcost: {convcost_label}")
    print(f"machine: {platform.platform()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    import compileall  # an installed convcost is byte-compiled; a checkout may not be

    compileall.compile_dir(REPO / "convcost", quiet=1)

    with tempfile.TemporaryDirectory(prefix="convcost-bench-onnx-") as temporary:
        directory = args.keep or Path(temporary)
        directory.mkdir(parents=True, exist_ok=True)
        files = {name: build(name, directory) for name in MODELS}
        table: dict[str, list[str]] = {}
        labels: dict[tuple[str, str], str] = {}
        files_of: dict[str, Path] = {}
        for name, path in files.items():
            stripped = FIXTURES / f"{name}.onnx"
            labels[name, "stripped"] = f"convcost {name} (stripped, {_mb(stripped)})"
            labels[name, "ours"] = f"convcost {name} ({_mb(path)} inline)"
            labels[name, "peer"] = f"onnx-tool {name} ({_mb(path)} inline)"
            table[labels[name, "stripped"]] = [p.replace("{file}", str(stripped)) for p in convcost]
            table[labels[name, "ours"]] = [p.replace("{file}", str(path)) for p in convcost]
            files_of[labels[name, "stripped"]] = stripped
            files_of[labels[name, "ours"]] = path
            if peer is not None:
                table[labels[name, "peer"]] = [str(peer), "-c", PEER, str(path)]
                files_of[labels[name, "peer"]] = path
        if peer is not None:
            table["python -c 'import onnx' (peer floor)"] = [str(peer), "-c", "import onnx"]
        results = {}
        for cache in ("warm", "cold"):
            times: dict[str, list[float]] = {label: [] for label in table}
            cpu: dict[str, list[float]] = {label: [] for label in table}
            peaks: dict[str, int] = dict.fromkeys(table, 0)
            for round_ in range(args.runs + 1):  # one untimed round first
                for label, command in table.items():
                    file = files_of.get(label) if cache == "cold" else None
                    elapsed, used, peak = run(command, file)
                    if round_:
                        times[label].append(elapsed)
                        cpu[label].append(used)
                        peaks[label] = max(peaks[label], peak)
            results[cache] = (times, cpu, peaks)
            print(f"({cache} done, load average {os.getloadavg()[0]:.1f})", flush=True)

    width = max(map(len, table))
    for cache, (times, cpu, peaks) in results.items():
        print(f"\n{cache} page cache, {args.runs} runs")
        print(f"{'command':<{width}}  wall median    min   CPU median   peak RSS MiB")
        for label in table:
            print(f"{label:<{width}}  {statistics.median(times[label]):11.3f} "
                  f"{min(times[label]):6.3f} {statistics.median(cpu[label]):12.3f}"
                  f"   {peaks[label] / 2**20:12.1f}")  # fmt: skip
        if peer is not None:
            for name in files:
                ratios = []
                for measure in (times, cpu):
                    ours = statistics.median(measure[labels[name, "ours"]])
                    ratios.append(statistics.median(measure[labels[name, "peer"]]) / ours)
                verdict = "met" if min(ratios) >= TARGET else "NOT met"
                print(f"{name}: onnx-tool / convcost = {ratios[0]:.1f}× wall, {ratios[1]:.1f}× "
                      f"CPU (target ≥ {TARGET:.0f}×: {verdict})")  # fmt: skip


def _mb(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} KB"


if __name__ == "__main__":
    main()
