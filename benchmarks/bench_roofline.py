"""The roofline against this machine: measured CPU latency, regular against separable.

Calibrates a float32 CPU profile for the cores in use: peak FLOP/s is the best of a large
matrix product and a large 3×3 convolution, and bandwidth is the best large copy (bytes
read plus bytes written, as STREAM counts a copy). `torch.set_num_threads` is set to the
cores this process may run on. Then it times the forward pass (inference mode, batch 1)
of every kernel that convcost's roofline counts. The networks are convcost's ``pyramid``
preset, ResNet-18 and MobileNetV2, each regular and rewritten depthwise separable by
`convcost.network.rewrite`. Every kernel is built in PyTorch from convcost's rows, as a
Conv2d with the same hyper-parameters (a part of a separable layer is its own Conv2d), a
BatchNorm2d, a pool, and so on. Each kernel is timed alone, repeatedly: warm-up calls,
then the median of `--runs` samples, each sample long enough to time. A network's
measured time is the sum over its kernels, because the roofline adds up kernels run one
after another. The kernels are warm in the caches, as they are when a benchmark repeats
them.

Reported, per layer and in total: measured time against the roofline bound, and the
separable/regular ratio three ways (measured, MACs, roofline). The question is whether
the roofline ratio lies closer to the measured one than the MAC ratio does, with distance
measured as |log(ratio / measured ratio)|. MobileNetV2 is separable already, so its
rewrite changes only its first convolution. Its blocks are therefore also compared the
other way: each depthwise 3×3 with the 1×1 projection after it, against the regular 3×3
convolution they factorise, timed on the same input.

    python benchmarks/bench_roofline.py [--runs 7] [--threads N] [--layers] [--quick]

Needs PyTorch (an optional dependency); without it the script says so and exits 0. Not
part of the test run: the figures depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import math
import os
import platform
import statistics
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from convcost.costs import LayerCost, layer_cost
from convcost.devices import Device
from convcost.layers import (
    Activation,
    AdaptiveAvgPool,
    Add,
    AvgPool,
    BatchNorm,
    Conv,
    GlobalAvgPool,
    Linear,
    MaxPool,
)
from convcost.network import Network, NetworkCost, network_cost, rewrite
from convcost.presets import build_preset
from convcost.roofline import Roofline, kernel_timing, kernel_traffic, roofline
from convcost.shapes import expand, resolve_padding

MIN_SAMPLE_S = 0.004  # one timed sample repeats a kernel until it lasts this long
WARM_UP = 3

Call = Callable[[], object]


# --- the machine ---------------------------------------------------------------------------


def load_torch() -> Any | None:
    try:
        return importlib.import_module("torch")
    except ImportError:
        return None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> list[str]:
    wanted = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_fp16", "amx_bf16", "amx_tile")
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                present = set(line.partition(":")[2].split())
                return [flag for flag in wanted if flag in present]
    except OSError:
        pass
    return []


def cache_sizes() -> str:
    sizes = []
    for index in range(5):
        base = Path(f"/sys/devices/system/cpu/cpu0/cache/index{index}")
        try:
            level = (base / "level").read_text().strip()
            kind = (base / "type").read_text().strip()
            size = (base / "size").read_text().strip()
        except OSError:
            continue
        if kind != "Instruction":
            sizes.append(f"L{level} {size}")
    return ", ".join(sizes) or "unknown"


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def median_seconds(torch: Any, call: Call, runs: int) -> tuple[float, float]:
    """The median and the best of `runs` samples of `call`, each sample repeating it until
    it lasts MIN_SAMPLE_S (the best is kept too: this machine may be shared)."""
    with torch.inference_mode():
        for _ in range(WARM_UP):
            call()
        start = time.perf_counter()
        call()
        once = time.perf_counter() - start
        repeats = max(1, math.ceil(MIN_SAMPLE_S / max(once, 1e-7)))
        samples = []
        for _ in range(runs):
            start = time.perf_counter()
            for _ in range(repeats):
                call()
            samples.append((time.perf_counter() - start) / repeats)
    return statistics.median(samples), min(samples)


def best_seconds(torch: Any, call: Call, runs: int) -> float:
    """The fastest of `runs` calls after warm-up: a peak rate is what the machine can do."""
    with torch.inference_mode():
        for _ in range(WARM_UP):
            call()
        best = math.inf
        for _ in range(runs):
            start = time.perf_counter()
            call()
            best = min(best, time.perf_counter() - start)
    return best


@dataclass(frozen=True, kw_only=True)
class Calibration:
    matmul_flops: float  # FLOP/s of a 2048² float32 matrix product
    conv_flops: float  # FLOP/s of a 256→256 3×3 convolution on 56×56
    copy_bandwidth: float  # bytes/s of a copy far larger than the last-level cache
    cache_bandwidth: float  # bytes/s of a copy of 2 × 8 MiB, held in the last-level cache
    copy_mib: int

    def device(self, *, in_cache: bool = False) -> Device:
        bandwidth = self.cache_bandwidth if in_cache else self.copy_bandwidth
        where = "an in-cache copy of 2 x 8 MiB" if in_cache else f"a {self.copy_mib} MiB copy"
        return Device(
            name="this-cpu-cache" if in_cache else "this-cpu",
            description=f"this machine's {cores()} cores, calibrated",
            kind="CPU",
            peak={"float32": int(max(self.matmul_flops, self.conv_flops))},
            bandwidth=int(bandwidth),
            source="benchmarks/bench_roofline.py: peak = best of a 2048² matmul and a "
            f"256→256 3×3 conv on 56×56; bandwidth = {where} (read + written bytes)",
        )


def copy_rate(torch: Any, mib: int, runs: int) -> float:
    """Bytes per second read and written by copying `mib` MiB of float32 into another."""
    elements = mib * 2**20 // 4
    source, target = torch.ones(elements), torch.zeros(elements)
    return 2 * elements * 4 / best_seconds(torch, lambda: target.copy_(source), runs)


def calibrate(torch: Any, runs: int, copy_mib: int) -> Calibration:
    n = 2048
    a, b = torch.randn(n, n), torch.randn(n, n)
    matmul = 2 * n**3 / best_seconds(torch, lambda: torch.mm(a, b), runs)
    conv = torch.nn.Conv2d(256, 256, 3, padding=1, bias=False)
    x = torch.randn(1, 256, 56, 56)
    conv_rate = 2 * 56 * 56 * 256 * 256 * 9 / best_seconds(torch, lambda: conv(x), runs)
    rates = [copy_rate(torch, mib, runs) for mib in (copy_mib, 8)]
    return Calibration(
        matmul_flops=matmul,
        conv_flops=conv_rate,
        copy_bandwidth=rates[0],
        cache_bandwidth=rates[1],
        copy_mib=copy_mib,
    )


# --- kernels in PyTorch --------------------------------------------------------------------

_ACTIVATIONS = {"relu": "relu_", "relu6": "relu6", "sigmoid": "sigmoid", "hardswish": "hardswish"}


def _window(layer: Conv | MaxPool | AvgPool, cost: LayerCost) -> tuple[Any, ...]:
    sizes = cost.input_shape.spatial
    kernel = expand("kernel_size", layer.kernel_size, 2)
    stride = expand("stride", kernel if layer.stride is None else layer.stride, 2)
    dilation = expand("dilation", layer.dilation, 2)
    pads = resolve_padding(layer.padding, sizes, kernel, stride, dilation)
    return kernel, stride, dilation, pads


def torch_kernel(torch: Any, cost: LayerCost, batch: int) -> Call | None:
    """`cost`'s kernel in PyTorch, its inputs made ready: None for a kind not built here."""
    nn, functional = torch.nn, torch.nn.functional
    x_shape = cost.input_shape
    if x_shape.ndim not in (0, 2):
        return None
    x = torch.randn(batch, x_shape.channels, *x_shape.spatial)
    layer = cost.layer
    match layer:
        case Conv():
            kernel, stride, dilation, pads = _window(layer, cost)
            symmetric = all(before == after for before, after in pads)
            module = nn.Conv2d(
                x_shape.channels,
                layer.out_channels,
                kernel,
                stride=stride,
                padding=tuple(before for before, _ in pads) if symmetric else 0,
                dilation=dilation,
                groups=layer.groups,
                bias=layer.bias,
            )
            if symmetric:
                return lambda: module(x)
            flat = [side for pair in reversed(pads) for side in pair]
            return lambda: module(functional.pad(x, flat))
        case BatchNorm():
            norm = (nn.BatchNorm2d if x_shape.ndim else nn.BatchNorm1d)(x_shape.channels).eval()
            return lambda: norm(x)
        case Activation(function=function) if function in _ACTIVATIONS:
            name = _ACTIVATIONS[function]
            if name == "relu_":
                return lambda: torch.relu_(x)  # in place, as torchvision's ReLU(inplace=True)
            apply = getattr(functional, name)
            return lambda: apply(x)
        case MaxPool() | AvgPool():
            kernel, stride, dilation, pads = _window(layer, cost)
            if any(before != after for before, after in pads):
                return None
            padding = tuple(before for before, _ in pads)
            pool = (
                nn.MaxPool2d(kernel, stride, padding, dilation, ceil_mode=layer.ceil_mode)
                if isinstance(layer, MaxPool)
                else nn.AvgPool2d(kernel, stride, padding, ceil_mode=layer.ceil_mode)
            )
            return lambda: pool(x)
        case AdaptiveAvgPool():
            adaptive = nn.AdaptiveAvgPool2d(expand("output_size", layer.output_size, 2))
            return lambda: adaptive(x)
        case GlobalAvgPool():
            return lambda: x.mean((2, 3), keepdim=layer.keepdims)
        case Linear():
            dense = nn.Linear(x_shape.channels, layer.out_features, bias=layer.bias)
            return lambda: dense(x)
        case Add():
            others = [torch.randn_like(x) for _ in range(cost.inputs - 1)]
            if len(others) == 1:
                return lambda: torch.add(x, others[0])
            return lambda: sum(others, x)
    return None


class Timer:
    """Times kernels, each distinct (kernel, input shape) once."""

    def __init__(self, torch: Any, runs: int, batch: int) -> None:
        self.torch, self.runs, self.batch = torch, runs, batch
        self.seen: dict[tuple[object, ...], tuple[float, float] | None] = {}

    def seconds(self, cost: LayerCost) -> tuple[float, float] | None:
        """The median and best time of `cost`'s kernel; None if it is not built here."""
        key = (dataclasses.replace(cost.layer, name=None, inputs=()), cost.input_shape, cost.inputs)
        if key not in self.seen:
            call = torch_kernel(self.torch, cost, self.batch)
            self.seen[key] = None if call is None else median_seconds(self.torch, call, self.runs)
        return self.seen[key]


# --- measuring a network -------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Layer:
    """One row: its name and kind, its roofline figures and its measured time."""

    name: str
    kind: str
    macs: int
    moved: int
    intensity: Fraction | None
    bound: str
    roofline_s: Fraction
    measured_s: float | None  # median; None when a kernel of it was not built in PyTorch
    best_s: float | None  # the best sample


@dataclass(frozen=True, kw_only=True)
class Measured:
    label: str
    result: Roofline
    layers: tuple[Layer, ...]

    @property
    def measured_s(self) -> float:
        return sum(layer.measured_s or 0.0 for layer in self.layers)

    @property
    def best_s(self) -> float:
        return sum(layer.best_s or 0.0 for layer in self.layers)

    @property
    def untimed(self) -> int:
        return sum(layer.measured_s is None for layer in self.layers)


def measure(label: str, cost: NetworkCost, device: Device, timer: Timer) -> Measured:
    result = roofline(cost, device, batch_size=timer.batch)
    layers = []
    for item in result.rows:
        times = [timer.seconds(kernel.cost) for kernel in item.kernels]
        layers.append(
            Layer(
                name=item.row.name,
                kind=item.row.cost.kind,
                macs=item.row.cost.macs * timer.batch,
                moved=item.traffic.moved,
                intensity=item.traffic.intensity,
                bound=item.timing.bound,
                roofline_s=item.timing.time,
                measured_s=None if None in times else sum(t[0] for t in times if t),
                best_s=None if None in times else sum(t[1] for t in times if t),
            )
        )
    return Measured(label=label, result=result, layers=tuple(layers))


# --- reporting -------------------------------------------------------------------------------


def us(seconds: float | Fraction) -> str:
    return f"{float(seconds) * 1e6:,.1f}"


def pct(ratio: float | Fraction) -> str:
    return f"{float(ratio):.1%}"


def distance(ratio: float | Fraction, measured: float) -> float:
    return abs(math.log(float(ratio) / measured))


def print_table(headers: list[str], rows: Iterable[list[str]]) -> None:
    """A Markdown table (docs/benchmarks.md takes it as it is)."""
    print("| " + " | ".join(headers) + " |")
    print("| " + " | ".join("---" if i == 0 else "---:" for i in range(len(headers))) + " |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()


def print_layers(measured: Measured) -> None:
    print(f"#### {measured.label}: every layer\n")
    print_table(
        [
            "layer",
            "kind",
            "MMACs",
            "KB moved",
            "FLOP/B",
            "bound",
            "roofline µs",
            "median µs",
            "best µs",
            "median / roofline",
        ],
        (
            [
                layer.name,
                layer.kind,
                f"{layer.macs / 1e6:,.2f}",
                f"{layer.moved / 1e3:,.1f}",
                "-" if layer.intensity is None else f"{float(layer.intensity):.1f}",
                layer.bound,
                us(layer.roofline_s),
                "-" if layer.measured_s is None else us(layer.measured_s),
                "-" if layer.best_s is None else us(layer.best_s),
                "-"
                if layer.measured_s is None or not layer.roofline_s
                else f"{layer.measured_s / float(layer.roofline_s):.1f}×",
            ]
            for layer in measured.layers
        ),
    )


def efficiency_by_kind(all_measured: Iterable[Measured]) -> None:
    """Median measured/roofline per layer kind, over every network measured."""
    by_kind: dict[str, list[float]] = {}
    for measured in all_measured:
        for layer in measured.layers:
            if layer.measured_s is not None and layer.roofline_s:
                by_kind.setdefault(layer.kind, []).append(
                    layer.measured_s / float(layer.roofline_s)
                )
    print("#### Median time / roofline bound, per layer kind (all networks)\n")
    print_table(
        ["kind", "layers", "median", "min", "max"],
        (
            [
                kind,
                str(len(values)),
                f"{statistics.median(values):.1f}×",
                f"{min(values):.1f}×",
                f"{max(values):.1f}×",
            ]
            for kind, values in sorted(by_kind.items(), key=lambda item: -len(item[1]))
        ),
    )


@dataclass(frozen=True, kw_only=True)
class Ratio:
    """separable / regular three ways (and the roofline again on the in-cache profile)."""

    name: str
    measured: float
    best: float
    macs: Fraction
    roofline: Fraction
    roofline_cache: Fraction

    @property
    def roofline_closer(self) -> bool:
        return distance(self.roofline, self.measured) < distance(self.macs, self.measured)

    @property
    def roofline_closer_best(self) -> bool:
        return distance(self.roofline, self.best) < distance(self.macs, self.best)


def ratio_row(ratio: Ratio) -> list[str]:
    return [
        ratio.name,
        pct(ratio.measured),
        pct(ratio.best),
        pct(ratio.macs),
        pct(ratio.roofline),
        pct(ratio.roofline_cache),
        "roofline" if ratio.roofline_closer else "MACs",
        "roofline" if ratio.roofline_closer_best else "MACs",
    ]


RATIO_HEADERS = [
    "layer",
    "measured (median)",
    "measured (best)",
    "MACs",
    "roofline",
    "roofline, in-cache bw",
    "closer to median",
    "closer to best",
]


def layer_ratios(
    regular: Measured, separable: Measured, regular_cache: Roofline, separable_cache: Roofline
) -> list[Ratio]:
    """One ratio per layer the rewrite changed."""
    found = []
    for index, (r, s) in enumerate(zip(regular.layers, separable.layers)):
        if s.kind == r.kind or not r.macs:
            continue
        if r.measured_s is None or s.measured_s is None or r.best_s is None or s.best_s is None:
            continue
        found.append(
            Ratio(
                name=r.name,
                measured=s.measured_s / r.measured_s,
                best=s.best_s / r.best_s,
                macs=Fraction(s.macs, r.macs),
                roofline=s.roofline_s / r.roofline_s,
                roofline_cache=separable_cache.rows[index].timing.time
                / regular_cache.rows[index].timing.time,
            )
        )
    return found


def total_ratio(
    name: str,
    regular: Measured,
    separable: Measured,
    regular_cache: Roofline,
    separable_cache: Roofline,
) -> Ratio:
    return Ratio(
        name=name,
        measured=separable.measured_s / regular.measured_s,
        best=separable.best_s / regular.best_s,
        macs=Fraction(separable.result.cost.totals.macs, regular.result.cost.totals.macs),
        roofline=separable.result.totals.timing.time / regular.result.totals.timing.time,
        roofline_cache=separable_cache.totals.timing.time / regular_cache.totals.timing.time,
    )


def mobilenet_pairs(
    measured: Measured, device: Device, cache_device: Device, timer: Timer
) -> list[Ratio]:
    """Each depthwise 3×3 and the 1×1 projection after it, against the regular 3×3
    convolution from the depthwise input to the projection's output (same stride)."""
    rows = measured.result.rows
    found = []
    for index, item in enumerate(rows):
        if item.row.cost.kind != "depthwise":
            continue
        projection = next(
            (later for later in rows[index + 1 :] if later.row.cost.kind == "pointwise"), None
        )
        depthwise = item.row.cost
        layer = depthwise.layer
        if projection is None or not isinstance(layer, Conv):
            continue
        regular_cost = layer_cost(
            Conv(
                out_channels=projection.row.cost.output_shape.channels,
                kernel_size=layer.kernel_size,
                stride=layer.stride,
                padding=layer.padding,
                dilation=layer.dilation,
                bias=False,
            ),
            depthwise.input_shape,
        )
        pair = (item.kernels[0], projection.kernels[0])
        first, second = (timer.seconds(kernel.cost) for kernel in pair)
        regular_time = timer.seconds(regular_cost)
        if first is None or second is None or regular_time is None:
            continue
        traffic = kernel_traffic(regular_cost, batch_size=timer.batch)
        bounds = []
        for profile in (device, cache_device):
            regular_bound = kernel_timing(traffic, profile).time
            separable_bound = sum(
                kernel_timing(kernel_traffic(k.cost, batch_size=timer.batch), profile).time
                for k in pair
            )
            bounds.append(separable_bound / regular_bound)
        found.append(
            Ratio(
                name=f"{item.row.name} + {projection.row.name}",
                measured=(first[0] + second[0]) / regular_time[0],
                best=(first[1] + second[1]) / regular_time[1],
                macs=Fraction(sum(k.cost.macs for k in pair), regular_cost.macs),
                roofline=bounds[0],
                roofline_cache=bounds[1],
            )
        )
    return found


def summarise(ratios: list[Ratio]) -> str:
    closer = sum(ratio.roofline_closer for ratio in ratios)
    best = sum(ratio.roofline_closer_best for ratio in ratios)
    return (
        f"The roofline ratio is closer to the measured one than the MAC ratio in {closer} of "
        f"{len(ratios)} (medians), {best} of {len(ratios)} (best samples)."
    )


# --- main --------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="timed samples per kernel")
    parser.add_argument("--threads", type=int, default=cores(), help="torch threads")
    parser.add_argument("--batch", type=int, default=1, help="batch size")
    parser.add_argument("--copy-mib", type=int, default=1024, help="size of the large copy")
    parser.add_argument("--layers", action="store_true", help="print every layer's row")
    parser.add_argument("--quick", action="store_true", help="the pyramid only, 3 runs")
    args = parser.parse_args()
    torch = load_torch()
    if torch is None:
        print("bench_roofline: PyTorch is not installed; nothing to measure (skipped).")
        return 0
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    runs = 3 if args.quick else args.runs
    start = time.perf_counter()

    print("### Machine\n")
    print(
        f"- CPU: {cpu_model()}, {cores()} cores usable, {os.cpu_count()} online; "
        f"flags {' '.join(cpu_flags())}; caches {cache_sizes()}"
    )
    print(
        f"- Python {platform.python_version()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; batch {args.batch}, float32"
    )
    print(f"- load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")

    calibration = calibrate(torch, 20, args.copy_mib)
    device = calibration.device()
    cache_device = calibration.device(in_cache=True)
    print("### Calibration\n")
    print_table(
        ["measure", "rate"],
        [
            ["2048² matmul", f"{calibration.matmul_flops / 1e9:,.1f} GFLOP/s"],
            ["256→256 3×3 conv, 56×56", f"{calibration.conv_flops / 1e9:,.1f} GFLOP/s"],
            [
                f"copy {args.copy_mib} MiB → {args.copy_mib} MiB",
                f"{calibration.copy_bandwidth / 1e9:,.2f} GB/s",
            ],
            ["copy 8 MiB → 8 MiB (in cache)", f"{calibration.cache_bandwidth / 1e9:,.2f} GB/s"],
            ["profile: peak", f"{device.peak['float32'] / 1e9:,.1f} GFLOP/s"],
            [
                "profile: ridge point (large copy / in-cache copy)",
                f"{float(device.ridge_point('float32')):.1f} / "
                f"{float(cache_device.ridge_point('float32')):.1f} FLOP/B",
            ],
        ],
    )

    timer = Timer(torch, runs, args.batch)
    presets: list[tuple[str, Network]] = [("pyramid", build_preset("pyramid"))]
    if not args.quick:
        presets += [
            ("ResNet-18", build_preset("resnet18")),
            ("MobileNetV2", build_preset("mobilenet-v2")),
        ]
    totals: list[list[str]] = []
    ratios_total: list[Ratio] = []
    all_measured: list[Measured] = []
    per_layer: dict[str, list[Ratio]] = {}
    for name, network in presets:
        pair = []
        caches = []
        for family in ("regular", "depthwise_separable"):
            cost = network_cost(rewrite(network, family))
            label = f"{name}, " + ("as built" if family == "regular" else "rewritten separable")
            measured = measure(label, cost, device, timer)
            pair.append(measured)
            caches.append(roofline(cost, cache_device, batch_size=args.batch))
            all_measured.append(measured)
            timing = measured.result.totals.timing
            totals.append(
                [
                    label,
                    f"{cost.totals.macs * args.batch / 1e9:,.3f}",
                    f"{measured.result.totals.traffic.moved / 1e6:,.1f}",
                    us(timing.compute_time),
                    us(timing.memory_time),
                    us(timing.time),
                    pct(timing.memory_bound_time / timing.time),
                    us(measured.measured_s),
                    us(measured.best_s),
                    f"{measured.measured_s / float(timing.time):.1f}×",
                    f"{measured.best_s / float(timing.time):.1f}×",
                    str(measured.untimed),
                ]
            )
            if args.layers:
                print_layers(measured)
        regular, separable = pair
        ratios_total.append(total_ratio(name, regular, separable, caches[0], caches[1]))
        per_layer[name] = layer_ratios(regular, separable, caches[0], caches[1])
        if name == "MobileNetV2":
            per_layer["MobileNetV2 blocks (depthwise + projection vs regular 3×3)"] = (
                mobilenet_pairs(regular, device, cache_device, timer)
            )

    print("### Totals (sum over kernels, each timed alone)\n")
    print_table(
        [
            "network",
            "GMACs",
            "MB moved",
            "compute µs",
            "memory µs",
            "roofline µs",
            "memory-bound share",
            "median µs",
            "best µs",
            "median / roofline",
            "best / roofline",
            "untimed layers",
        ],
        totals,
    )
    print("### separable / regular, whole networks\n")
    print_table(["network", *RATIO_HEADERS[1:]], (ratio_row(r) for r in ratios_total))
    print(summarise(ratios_total) + "\n")
    for name, ratios in per_layer.items():
        if not ratios:
            continue
        print(f"### separable / regular, per layer: {name}\n")
        print_table(RATIO_HEADERS, (ratio_row(r) for r in ratios))
        print(summarise(ratios) + "\n")
    efficiency_by_kind(all_measured)
    print(
        f"- load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
        f"{time.perf_counter() - start:.0f} s in all"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
