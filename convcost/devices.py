"""Device profiles: the two numbers a roofline bound needs, with where each comes from.

A `Device` holds a device's peak arithmetic rate per data type (operations per second:
FLOP/s for the floating-point types, OP/s for int8) and its memory bandwidth (bytes per
second), as exact integers. With them a layer's time is bounded below by

    time >= max(operations / peak[dtype], bytes moved / bandwidth)

the roofline bound. It is a bound, not a prediction: real kernels reach a fraction of
either roof (launch overheads, tiling, caches, clocks that drop under load), so a layer
that the bound calls memory-bound may still be slower than the bound by a large factor.

The built-in profiles (`DEVICES`) use the vendors' published peak figures, **dense**:
where a vendor prints a "with sparsity" figure (2:4 structured sparsity doubles NVIDIA's
tensor-core numbers), the dense figure is used, and where only the sparse one is printed
it is halved as the vendor's own footnote says. GPU ``float32`` is the plain (non-tensor)
FP32 rate; TF32 is recorded in the source notes only. A dtype is absent when the device
has no path for it that a figure can be given for, and each profile's `source` says
which and why. Profiles whose figures are derived (the CPU cores, parts of the Jetson
and Apple GPU profiles) write the derivation out in `source`. Decimal units throughout:
1 GB/s = 10**9 bytes/s, 1 TFLOP/s = 10**12 FLOP/s.

>>> a100 = get_device("a100-sxm4-80gb")
>>> a100.peak_for("float16"), a100.bandwidth
(312000000000000, 2039000000000)
>>> a100.ridge_point("float16")  # FLOPs per byte where the two roofs meet
Fraction(312000, 2039)
>>> mine = parse_device("peak=19.5T,bandwidth=1.555T,name=mine")
>>> mine.peak["float32"], mine.bandwidth
(19500000000000, 1555000000000)
>>> get_device("a100")
Traceback (most recent call last):
  ...
convcost.errors.DeviceError: unknown device 'a100'; did you mean 'a100-sxm4-80gb'? ...
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final, Literal, TypeAlias

from convcost.checks import is_int, suggest
from convcost.errors import ConvCostError, DeviceError, DeviceFileError, FieldError, show
from convcost.files import SUFFIX_FORMATS, parse_data, read_text, source_name
from convcost.memory import DTYPE_BYTES, DTYPES, DType

__all__ = [
    "DEVICES",
    "DTYPES",
    "DTYPE_BYTES",
    "MAX_RATE",
    "DType",
    "Device",
    "DeviceError",
    "DeviceFileError",
    "device_from_mapping",
    "device_to_mapping",
    "get_device",
    "load_device",
    "parse_device",
    "parse_rate",
]


MAX_RATE: Final = 10**21
"""The largest peak or bandwidth accepted (a zetta-unit per second): anything above is a typo."""

RateUnit: TypeAlias = Literal["ops", "bytes"]

_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}", re.ASCII)
_MAX_TEXT = 4096  # characters of a `parse_device` text
_MAX_NUMBER = 100  # characters of one number
_EXACT_FLOAT = 2**53  # integral floats below this are exactly the integer written


# --- the profile --------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Device:
    """A device's peak rates and memory bandwidth, with the source of every figure.

    `name` is short, lowercase and command-line friendly (letters, digits, ``.``, ``_``,
    ``-``); `description` and `kind` (``"data-centre GPU"``, ``"CPU core"``, ...) are
    one line each; `peak` maps each data type the device has a path for to its dense peak
    in operations per second; `bandwidth` is in bytes per second; `source` cites where
    the figures come from. Every rate is an exact integer from 1 to `MAX_RATE`. `peak` is
    stored read-only, in `DTYPES` order.
    """

    name: str
    description: str
    kind: str
    peak: Mapping[str, int] = field(hash=False)
    bandwidth: int
    source: str

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise FieldError(
                "name",
                self.name,
                "1 to 64 lowercase letters, digits, '.', '_' or '-', starting with a "
                "letter or digit",
            )
        for name in ("description", "kind"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip() or "\n" in value:
                raise FieldError(name, value, "a non-empty line of text")
        if not isinstance(self.source, str) or not self.source.strip():
            raise FieldError("source", self.source, "a non-empty text")
        if not isinstance(self.peak, Mapping) or not self.peak:
            raise FieldError("peak", self.peak, "a non-empty mapping of data type to operations/s")
        for dtype, rate in self.peak.items():
            if dtype not in DTYPES:
                raise FieldError("peak", dtype, "keyed by " + ", ".join(DTYPES))
            _check_rate(f"peak.{dtype}", rate)
        _check_rate("bandwidth", self.bandwidth)
        ordered = {dtype: self.peak[dtype] for dtype in DTYPES if dtype in self.peak}
        object.__setattr__(self, "peak", MappingProxyType(ordered))

    @property
    def dtypes(self) -> tuple[str, ...]:
        """The data types this device has a peak for, in `DTYPES` order."""
        return tuple(self.peak)

    def peak_for(self, dtype: str) -> int:
        """The dense peak for `dtype`, in operations per second.

        A `DeviceError` naming the device and the data types it has when it has none for
        `dtype`; a `FieldError` when `dtype` is not a data type at all.
        """
        if dtype not in DTYPES:
            raise FieldError("dtype", dtype, "one of " + ", ".join(DTYPES))
        try:
            return self.peak[dtype]
        except KeyError:
            raise DeviceError(
                f"device {self.name!r} has no {dtype} peak; it has " + ", ".join(self.dtypes)
            ) from None

    def ridge_point(self, dtype: str) -> Fraction:
        """Operations per byte at which the compute and memory roofs meet, for `dtype`.

        A layer doing fewer operations per byte moved than this is memory-bound on this
        device; more, compute-bound.
        """
        return Fraction(self.peak_for(dtype), self.bandwidth)


def _check_rate(field_name: str, value: object) -> None:
    if not is_int(value) or not 1 <= value <= MAX_RATE:
        raise FieldError(field_name, value, "an integer from 1 to 10**21 (per second)")


# --- the built-in profiles ----------------------------------------------------------

_TERA: Final = 10**12
_GIGA: Final = 10**9

_A100_SOURCE = (
    "NVIDIA, 'NVIDIA A100 Tensor Core GPU' datasheet (nvidia-a100-datasheet-us-nvidia-"
    "1758950-r4-web), specifications table, column 'A100 80GB SXM': FP32 19.5 TFLOPS; "
    "FP16 Tensor Core 312 TFLOPS; BFLOAT16 Tensor Core 312 TFLOPS; INT8 Tensor Core "
    "624 TOPS; GPU memory bandwidth 2,039 GB/s. "
    "https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/a100/pdf/"
    "nvidia-a100-datasheet-us-nvidia-1758950-r4-web.pdf . "
    "The starred 'with sparsity' figures (624 / 624 / 1,248) are not used. "
    "TF32 Tensor Core: 156 TFLOPS dense (not used; float32 is the plain FP32 figure)."
)
_H100_SOURCE = (
    "NVIDIA, 'NVIDIA H100 Tensor Core GPU' datasheet, specifications table, column "
    "'H100 SXM': FP32 67 teraFLOPS; BFLOAT16 and FP16 Tensor Core 1,979 teraFLOPS*; "
    "INT8 Tensor Core 3,958 TOPS*; GPU memory bandwidth 3.35 TB/s; footnote '* With "
    "sparsity' (the datasheet's footnote: specifications are one-half lower without "
    "sparsity), so dense FP16/BF16 = 1,979 / 2 = 989.5 TFLOPS and dense INT8 = "
    "3,958 / 2 = 1,979 TOPS. https://www.nvidia.com/en-us/data-center/h100/ and "
    "https://resources.nvidia.com/en-us-tensor-core/nvidia-tensor-core-gpu-datasheet . "
    "TF32 Tensor Core: 989* -> 494.5 TFLOPS dense (not used). The H100 architecture "
    "whitepaper's table (a preliminary 1,830 MHz SXM5) gives 989.4 / 1,978.9 / 66.9 and "
    "3,352 GB/s; the product datasheet's figures are used."
)
_L4_SOURCE = (
    "NVIDIA, 'NVIDIA L4 Tensor Core GPU' datasheet, specifications: FP32 30.3 "
    "teraFLOPS; FP16 Tensor Core 242 teraFLOPS*; BFLOAT16 Tensor Core 242 teraFLOPS*; "
    "INT8 Tensor Core 485 TOPS*; GPU memory bandwidth 300 GB/s; '* Shown with "
    "sparsity', halved here: FP16/BF16 121 TFLOPS, INT8 242.5 TOPS dense. "
    "https://www.nvidia.com/en-us/data-center/l4/ (product brief PB-11316-001_v01: "
    "https://www.nvidia.com/content/dam/en-zz/Solutions/Data-Center/l4/"
    "PB-11316-001_v01.pdf). TF32 Tensor Core 120* -> 60 TFLOPS dense (not used). The Ada "
    "architecture whitepaper prints the dense INT8 figure as 242 TOPS (a rounding)."
)
_RTX4090_SOURCE = (
    "NVIDIA, 'NVIDIA ADA GPU ARCHITECTURE' whitepaper (v2.1), Appendix A, Table 2, "
    "GeForce RTX 4090 (dense/sparse): Peak FP32 TFLOPS (non-Tensor) 82.6; Peak FP16 "
    "Tensor TFLOPS with FP32 Accumulate 165.2/330.4; Peak BF16 Tensor TFLOPS with FP32 "
    "Accumulate 165.2/330.4; Peak INT8 Tensor TOPS 660.6/1321.2; Memory Bandwidth "
    "1008 GB/sec. https://images.nvidia.com/aem-dam/Solutions/geforce/ada/"
    "nvidia-ada-gpu-architecture.pdf . float16 uses the FP32-accumulate row, the "
    "accumulation frameworks use by default; with FP16 accumulate GeForce Ada doubles it "
    "(330.3 TFLOPS dense, not used). Peak TF32 Tensor TFLOPS 82.6/165.2 (not used)."
)
_ORIN_NANO_SOURCE = (
    "NVIDIA, 'Jetson Orin Nano Series' module data sheet and the Jetson module "
    "comparison (https://developer.nvidia.com/embedded/jetson-modules): Jetson Orin "
    "Nano 8GB: 'Up to 40 (Sparse) INT8 TOPs and 20 (Dense) INT8 TOPs'; '1024 NVIDIA "
    "CUDA cores | 32 Tensor cores'; GPU maximum operating frequency 625 MHz; memory "
    "'8GB 128-bit LPDDR5 68 GB/s'. int8 = the dense 20 TOPS. Derived: float32 = 1,024 "
    "CUDA cores x 2 FLOP (one FMA) x 625 MHz = 1.28 TFLOPS. float16 and bfloat16 = "
    "half the dense INT8 rate = 10 TFLOPS: NVIDIA publishes no tensor FP16 figure for "
    "this module; Ampere tensor cores run FP16 and BF16 at half their INT8 rate (A100 "
    "datasheet: 312 TFLOPS vs 624 TOPS), and 20 TOPS / (32 tensor cores x 625 MHz) = "
    "1,000 ops per tensor core per clock, the A100's per-tensor-core INT8 rate. This is "
    "the original 15 W configuration; JetPack 6.1's 'MAXN SUPER' mode (1,020 MHz GPU, "
    "102 GB/s, 67 sparse TOPS) is not this profile."
)
_M2_SOURCE = (
    "Bandwidth: Apple Newsroom, 'Apple unveils M2, taking the breakthrough performance "
    "and capabilities of M1 even further' (6 June 2022): 'the memory controller ... "
    "delivers 100GB/s of unified memory bandwidth'. https://www.apple.com/newsroom/2022/"
    "06/apple-unveils-m2-with-breakthrough-performance-and-capabilities/ . Compute: "
    "Apple publishes no TFLOPS figure for M2, so it is derived: 10 GPU cores x 128 FP32 "
    "ALUs per core x 2 FLOP (one FMA) x 1.398 GHz = 3.57888 TFLOPS. 128 ALUs per core: "
    "P. Turner, metal-benchmarks (https://github.com/philipturner/metal-benchmarks, "
    "'Layout of an M1 GPU Core', Apple 7 and Apple 8 families); the 1,398 MHz GPU clock "
    "is a third-party reading (powermetrics / spec databases), not an Apple figure. "
    "Check: the same formula for M1's 8 cores at 1.278 GHz gives 2.617 TFLOPS, Apple's "
    "own '2.6 teraflops of throughput' for M1 (Apple Newsroom, 'Apple unleashes M1', "
    "10 November 2020, https://www.apple.com/newsroom/2020/11/apple-unleashes-m1/). "
    "float16 = the float32 rate: the Apple GPU's FP16 arithmetic is not faster than FP32 "
    "(metal-benchmarks). bfloat16 and int8: absent (no faster path on the GPU; the "
    "Neural Engine is a separate unit, not modelled)."
)
_A76_DERIVATION = (
    "Derived from the microarchitecture: a Cortex-A76 core has two 128-bit FP/ASIMD "
    "pipelines, V0 and V1, and issues an ASIMD FMLA to either, 2 per cycle (Arm, 'Arm "
    "Cortex-A76 Software Optimization Guide', PJDOC-466751330-7215, version 8.0, section "
    "2.1 and the ASIMD floating-point instruction table: 'ASIMD FP multiply accumulate', "
    "latency 4, throughput 2, pipelines V; https://developer.arm.com/documentation/"
    "pjdoc466751330-7215/latest/ ; LLVM's Neoverse N1 model, the A76's server sibling, "
    "models FMLA the same way). Per core per cycle: float32 = 2 pipes x 4 lanes x 2 FLOP "
    "= 16; float16 (Armv8.2 FP16 arithmetic, FMLA .8H) = 2 x 8 x 2 = 32; int8 (Armv8.2 "
    "dot product, SDOT: 16 multiply-adds per instruction, throughput 2 per cycle in the "
    "optimization guide's ASIMD integer table) = 2 x 16 x 2 = 64. At 2.4 GHz: 38.4 "
    "GFLOP/s, 76.8 GFLOP/s, 153.6 GOP/s per core. bfloat16: absent (BF16 instructions "
    "are Armv8.6; the A76 has none). Clock: 'BCM2712 ... quad-core Arm Cortex-A76 CPU "
    "cluster, clocked at up to 2.4GHz' (Raspberry Pi documentation, 'Processors: "
    "BCM2712', https://www.raspberrypi.com/documentation/computers/processors.html ; "
    "Raspberry Pi 5 product brief, https://datasheets.raspberrypi.com/rpi5/"
    "raspberry-pi-5-product-brief.pdf). Bandwidth: 'A 32-bit LPDDR4X memory interface "
    "provides up to 17GB/s' (same documentation page) with 'LPDDR4X-4267 SDRAM' (product "
    "brief): 4,267 MT/s x 4 bytes = 17.068 GB/s (JEDEC LPDDR4X, JESD209-4-1)."
)
_PI5_SOURCE = (
    "All four cores: 4 x the per-core figures (153.6 GFLOP/s float32, 307.2 GFLOP/s "
    "float16, 614.4 GOP/s int8), sharing the one memory interface. " + _A76_DERIVATION
)
_PI5_CORE_SOURCE = (
    "One core. Bandwidth is the whole memory interface's, an upper bound: one core "
    "alone reaches less of it. " + _A76_DERIVATION
)
_X86_COMMON = (
    " Bandwidth: an assumed DDR4-3200 memory with two 64-bit channels, 3,200 MT/s x "
    "8 bytes x 2 = 51.2 GB/s (JEDEC DDR4, JESD79-4), shared by the whole socket and so "
    "an upper bound for one core. float16, bfloat16 and int8: absent, since their "
    "paths depend on extensions only some parts have (F16C only converts; AVX-512 FP16, "
    "AVX512_BF16, AVX-VNNI and AVX512_VNNI come with particular generations): describe "
    "such a part with parse_device, e.g. 'peak.int8=...'. A generic, assumption-based "
    "profile, not a particular processor; real clocks under wide vector load are often "
    "lower than 3.0 GHz."
)
_AVX2_SOURCE = (
    "Derived: 2 FMA units x 8 float32 lanes (256-bit AVX2) x 2 FLOP x an assumed 3.0 GHz "
    "= 96 GFLOP/s. Two 256-bit FMA units, one FMA each per cycle: Intel, 'Intel 64 and "
    "IA-32 Architectures Optimization Reference Manual' (Haswell and later "
    "microarchitectures: FMA on ports 0 and 1), https://www.intel.com/content/www/us/en/"
    "developer/articles/technical/intel64-and-ia32-architectures-optimization.html ; "
    "AMD, 'Software Optimization Guide for AMD Family 17h/19h Processors' (Zen 2 and "
    "later: two FMA pipes of 256 bits)." + _X86_COMMON
)
_AVX512_SOURCE = (
    "Derived: 2 FMA units x 16 float32 lanes (512-bit AVX-512) x 2 FLOP x an assumed "
    "3.0 GHz = 192 GFLOP/s. Two 512-bit FMA units: Intel, 'Intel 64 and IA-32 "
    "Architectures Optimization Reference Manual' (Skylake Server and later server "
    "cores: a 512-bit FMA on fused ports 0+1 and a second on port 5, present on some "
    "SKUs only; parts with one unit reach half this), https://www.intel.com/content/www/"
    "us/en/developer/articles/technical/intel64-and-ia32-architectures-optimization.html"
    " . AMD Zen 4 runs 512-bit FMAs at one per cycle (the AVX2 rate of the generic AVX2 "
    "profile)." + _X86_COMMON
)


def _builtin(*devices: Device) -> Mapping[str, Device]:
    return MappingProxyType({device.name: device for device in devices})


DEVICES: Final[Mapping[str, Device]] = _builtin(
    Device(
        name="a100-sxm4-80gb",
        description="NVIDIA A100 SXM4 80 GB (data-centre GPU)",
        kind="data-centre GPU",
        peak={
            "float32": 19_500 * _GIGA,
            "float16": 312 * _TERA,
            "bfloat16": 312 * _TERA,
            "int8": 624 * _TERA,
        },
        bandwidth=2_039 * _GIGA,
        source=_A100_SOURCE,
    ),
    Device(
        name="h100-sxm5-80gb",
        description="NVIDIA H100 SXM5 80 GB (data-centre GPU)",
        kind="data-centre GPU",
        peak={
            "float32": 67 * _TERA,
            "float16": 989_500 * _GIGA,
            "bfloat16": 989_500 * _GIGA,
            "int8": 1_979 * _TERA,
        },
        bandwidth=3_350 * _GIGA,
        source=_H100_SOURCE,
    ),
    Device(
        name="l4",
        description="NVIDIA L4 24 GB (data-centre inference GPU)",
        kind="data-centre GPU",
        peak={
            "float32": 30_300 * _GIGA,
            "float16": 121 * _TERA,
            "bfloat16": 121 * _TERA,
            "int8": 242_500 * _GIGA,
        },
        bandwidth=300 * _GIGA,
        source=_L4_SOURCE,
    ),
    Device(
        name="rtx-4090",
        description="NVIDIA GeForce RTX 4090 24 GB (desktop GPU)",
        kind="desktop GPU",
        peak={
            "float32": 82_600 * _GIGA,
            "float16": 165_200 * _GIGA,
            "bfloat16": 165_200 * _GIGA,
            "int8": 660_600 * _GIGA,
        },
        bandwidth=1_008 * _GIGA,
        source=_RTX4090_SOURCE,
    ),
    Device(
        name="jetson-orin-nano-8gb",
        description="NVIDIA Jetson Orin Nano 8 GB module, 625 MHz GPU (edge GPU)",
        kind="edge GPU",
        peak={
            "float32": 1_024 * 2 * 625_000_000,
            "float16": 10 * _TERA,
            "bfloat16": 10 * _TERA,
            "int8": 20 * _TERA,
        },
        bandwidth=68 * _GIGA,
        source=_ORIN_NANO_SOURCE,
    ),
    Device(
        name="apple-m2-gpu",
        description="Apple M2 10-core GPU, 100 GB/s unified memory (SoC GPU)",
        kind="SoC GPU",
        peak={
            "float32": 10 * 128 * 2 * 1_398_000_000,
            "float16": 10 * 128 * 2 * 1_398_000_000,
        },
        bandwidth=100 * _GIGA,
        source=_M2_SOURCE,
    ),
    Device(
        name="raspberry-pi-5",
        description="Raspberry Pi 5, four Cortex-A76 cores at 2.4 GHz (CPU)",
        kind="CPU",
        peak={
            "float32": 4 * 2 * 4 * 2 * 2_400_000_000,
            "float16": 4 * 2 * 8 * 2 * 2_400_000_000,
            "int8": 4 * 2 * 16 * 2 * 2_400_000_000,
        },
        bandwidth=4_267_000_000 * 4,
        source=_PI5_SOURCE,
    ),
    Device(
        name="raspberry-pi-5-core",
        description="Raspberry Pi 5, one Cortex-A76 core at 2.4 GHz (CPU core)",
        kind="CPU core",
        peak={
            "float32": 2 * 4 * 2 * 2_400_000_000,
            "float16": 2 * 8 * 2 * 2_400_000_000,
            "int8": 2 * 16 * 2 * 2_400_000_000,
        },
        bandwidth=4_267_000_000 * 4,
        source=_PI5_CORE_SOURCE,
    ),
    Device(
        name="generic-avx2-core",
        description="Generic x86-64 core, AVX2 + FMA at 3.0 GHz (assumption-based CPU core)",
        kind="CPU core",
        peak={"float32": 2 * 8 * 2 * 3 * _GIGA},
        bandwidth=3_200_000_000 * 8 * 2,
        source=_AVX2_SOURCE,
    ),
    Device(
        name="generic-avx512-core",
        description="Generic x86-64 core, two AVX-512 FMA units at 3.0 GHz "
        "(assumption-based CPU core)",
        kind="CPU core",
        peak={"float32": 2 * 16 * 2 * 3 * _GIGA},
        bandwidth=3_200_000_000 * 8 * 2,
        source=_AVX512_SOURCE,
    ),
)
"""The built-in profiles by name: data-centre GPUs, desktop, edge and SoC GPUs, then CPUs."""


def get_device(name: str) -> Device:
    """The built-in profile called `name` (case and surrounding spaces ignored).

    An unknown name is a `DeviceError` suggesting the closest names and listing them all.
    """
    if not isinstance(name, str):
        raise FieldError("device", name, "a device name")
    key = name.strip().lower()
    try:
        return DEVICES[key]
    except KeyError:
        names = tuple(DEVICES)
        raise DeviceError(
            f"unknown device {show(name)}{suggest(key, names)} "
            f"(built-in devices: {', '.join(names)})"
        ) from None


# --- numbers with SI prefixes --------------------------------------------------------

_PREFIXES: Final[Mapping[str, int]] = MappingProxyType(
    {"": 0, "K": 3, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15}
)
_NUMBER = re.compile(
    r"(?P<number>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d{1,3})?)\s*"
    r"(?P<prefix>[kKMGTP]?)(?P<unit>.*)",
    re.ASCII | re.DOTALL,
)
_OPS_UNITS: Final = frozenset({"", "flops", "flop/s", "ops", "op/s"})
_BYTES_UNITS: Final = frozenset({"", "B/s"})


def _number_expected(unit: RateUnit) -> str:
    if unit == "ops":
        return (
            "a number with an optional SI prefix (K, M, G, T, P) and unit (FLOPS, OPS), "
            "e.g. '19.5T', '19.5e12' or '19.5 TFLOPS'"
        )
    return (
        "a number with an optional SI prefix (K, M, G, T, P) and unit B/s (bytes; not "
        "bits, not GiB), e.g. '1.555T' or '2039GB/s'"
    )


def parse_rate(text: str, *, field: str = "value", unit: RateUnit = "ops") -> int:
    """An exact rate per second from text such as ``"19.5T"``, ``"1555e9"`` or ``"2039GB/s"``.

    The number is read as a decimal (never a float), so ``19.5T`` is exactly
    19,500,000,000,000. SI prefixes K (or k), M, G, T and P are powers of 1000; binary
    prefixes (KiB, GiB) and the lowercase m (milli) are refused. An optional unit
    follows: for `unit` ``"ops"``, FLOPS, FLOP/s, OPS or OP/s (any case); for
    ``"bytes"``, B/s (a lowercase b would mean bits). The value must come to a whole
    number from 1 to `MAX_RATE`. Each error is a `FieldError` naming `field` and the text.

    >>> parse_rate("19.5T"), parse_rate("624 TOPS"), parse_rate("2039GB/s", unit="bytes")
    (19500000000000, 624000000000000, 2039000000000)
    >>> parse_rate("1.5GiB/s", field="bandwidth", unit="bytes")
    Traceback (most recent call last):
      ...
    convcost.errors.FieldError: bandwidth must be a number with ..., got '1.5GiB/s'
    """
    if not isinstance(text, str):
        raise FieldError(field, text, _number_expected(unit))
    stripped = text.strip()
    if stripped.startswith("-"):
        raise FieldError(field, text, "positive")
    match = _NUMBER.fullmatch(stripped) if len(stripped) <= _MAX_NUMBER else None
    if match is None:
        raise FieldError(field, text, _number_expected(unit))
    suffix = match["unit"].strip()
    allowed = suffix.lower() in _OPS_UNITS if unit == "ops" else suffix in _BYTES_UNITS
    if not allowed:
        raise FieldError(field, text, _number_expected(unit))
    value = Fraction(Decimal(match["number"])) * 10 ** _PREFIXES[match["prefix"]]
    if value <= 0:
        raise FieldError(field, text, "positive")
    if value.denominator != 1:
        raise FieldError(field, text, "a whole number per second")
    if value > MAX_RATE:
        raise FieldError(field, text, "at most 10**21 per second")
    return int(value)


def _rate(field_name: str, value: object, unit: RateUnit) -> int:
    """A rate from a mapping: an int, an integral float below 2**53, or text."""
    if is_int(value):
        _check_rate(field_name, value)
        return value
    if isinstance(value, float):
        if value.is_integer() and 1 <= value < _EXACT_FLOAT:
            return int(value)
        raise FieldError(
            field_name,
            value,
            "a whole number from 1 to 2**53 when written as a float (write larger or "
            "fractional figures as text, e.g. '19.5T')",
        )
    if isinstance(value, str):
        return parse_rate(value, field=field_name, unit=unit)
    raise FieldError(field_name, value, "a number or text such as '19.5T'")


# --- user profiles --------------------------------------------------------------------

_MAPPING_KEYS: Final = ("name", "description", "kind", "peak", "bandwidth", "source")


def _check_name_free(name: object) -> None:
    if isinstance(name, str) and name in DEVICES:
        raise FieldError("name", name, "a name that is not a built-in device's (choose another)")


def device_from_mapping(data: Mapping[str, object], *, source: str) -> Device:
    """A user profile from a mapping read from a JSON or TOML file named `source`.

    Keys: ``name`` (required; not a built-in's name), ``description``, ``kind``,
    ``source`` (the citation; by default one naming the file), ``peak`` (required: a
    table of data type to rate) and ``bandwidth`` (required). A rate is an integer, a
    float that is a whole number below 2**53, or text read by `parse_rate` (``"19.5T"``).
    Each error is a `DeviceError` starting with `source` and naming the key.

    >>> device = device_from_mapping(
    ...     {"name": "mine", "peak": {"float16": "100T"}, "bandwidth": 5e11}, source="my.toml"
    ... )
    >>> device.peak_for("float16"), device.bandwidth, device.kind
    (100000000000000, 500000000000, 'user-defined')
    """
    where = f"{source}: "
    try:
        if not isinstance(data, Mapping):
            raise DeviceError(f"a device profile must be a mapping, got {show(data)}")
        for key in data:
            if key not in _MAPPING_KEYS:
                hint = suggest(key, _MAPPING_KEYS) if isinstance(key, str) else ""
                raise DeviceError(
                    f"unknown key {show(key)}{hint} (keys: {', '.join(_MAPPING_KEYS)})"
                )
        for key in ("name", "peak", "bandwidth"):
            if key not in data:
                raise DeviceError(f"the key {key!r} is required")
        _check_name_free(data["name"])
        peak_table = data["peak"]
        if not isinstance(peak_table, Mapping) or not peak_table:
            raise FieldError(
                "peak", peak_table, "a table of data type to rate, e.g. {float32 = '19.5T'}"
            )
        peak: dict[str, int] = {}
        for dtype, value in peak_table.items():
            if dtype not in DTYPES:
                hint = suggest(dtype, DTYPES) if isinstance(dtype, str) else ""
                raise DeviceError(
                    f"peak: unknown data type {show(dtype)}{hint} (data types: {', '.join(DTYPES)})"
                )
            peak[dtype] = _rate(f"peak.{dtype}", value, "ops")
        # Text fields pass as they are: Device checks them and names the field.
        text: dict[str, Any] = {
            "description": "user-defined device",
            "kind": "user-defined",
            "source": f"user-defined, read from {source}",
        }
        text.update((key, data[key]) for key in ("name", *text) if key in data)
        return Device(**text, peak=peak, bandwidth=_rate("bandwidth", data["bandwidth"], "bytes"))
    except ConvCostError as error:
        raise DeviceError(f"{where}{error}") from error


def device_to_mapping(device: Device) -> dict[str, object]:
    """The mapping `device_from_mapping` reads back as an equal device (a file's contents).

    >>> device_to_mapping(get_device("generic-avx2-core"))["peak"]
    {'float32': 96000000000}
    """
    return {
        "name": device.name,
        "description": device.description,
        "kind": device.kind,
        "peak": dict(device.peak),
        "bandwidth": device.bandwidth,
        "source": device.source,
    }


_TEXT_KEYS: Final = ("name", "dtype", "peak", *(f"peak.{dtype}" for dtype in DTYPES), "bandwidth")


def parse_device(text: str) -> Device:
    """A device from the command line: a built-in name, or ``key=value`` pieces.

    The pieces, separated by commas: ``peak`` (the dense peak for the data type named by
    ``dtype``, float32 by default), ``peak.<dtype>`` (one per data type, for several),
    ``bandwidth`` (bytes per second), ``dtype`` and ``name`` (``custom`` by default).
    Rates are read by `parse_rate`: ``peak=19.5T,bandwidth=1.555T`` and
    ``peak=19.5e12,bandwidth=1555e9,dtype=float16,name=mine`` are exact. Every malformed
    piece is a one-line `ConvCostError` naming the key and the value.

    >>> device = parse_device("peak.float16=312T,peak.int8=624 TOPS,bandwidth=2039GB/s")
    >>> dict(device.peak), device.name
    ({'float16': 312000000000000, 'int8': 624000000000000}, 'custom')
    """
    if not isinstance(text, str):
        raise FieldError("device", text, "a device name or key=value pieces")
    if len(text) > _MAX_TEXT:
        raise DeviceError(f"device description too long ({len(text):,} characters)")
    if "=" not in text:
        try:
            return get_device(text)
        except DeviceError as error:
            raise DeviceError(
                f"{error}; or describe a device as key=value pieces, e.g. "
                "peak=19.5T,bandwidth=1.555T"
            ) from None
    values: dict[str, str] = {}
    for piece in text.split(","):
        key, equals, value = (part.strip() for part in piece.partition("="))
        if not equals:
            raise DeviceError(
                f"device: {show(piece.strip())} is not key=value (keys: {', '.join(_TEXT_KEYS)})"
            )
        if key not in _TEXT_KEYS:
            raise DeviceError(
                f"device: unknown key {show(key)}{suggest(key, _TEXT_KEYS)} "
                f"(keys: {', '.join(_TEXT_KEYS)})"
            )
        if key in values:
            raise DeviceError(f"device: {key} is given twice")
        values[key] = value
    dtype = values.get("dtype", "float32")
    if dtype not in DTYPES:
        raise FieldError("dtype", dtype, "one of " + ", ".join(DTYPES))
    if "dtype" in values and "peak" not in values:
        raise DeviceError("device: dtype= names the data type of peak=; give peak= too")
    peak: dict[str, int] = {}
    if "peak" in values:
        peak[dtype] = parse_rate(values["peak"], field="peak", unit="ops")
    for each in DTYPES:
        key = f"peak.{each}"
        if key in values:
            if each in peak:
                raise DeviceError(
                    f"device: peak= (dtype {dtype}) and {key}= both give the {each} peak"
                )
            peak[each] = parse_rate(values[key], field=key, unit="ops")
    if not peak:
        raise DeviceError("device: give a peak: peak= (with dtype=) or peak.<dtype>=")
    if "bandwidth" not in values:
        raise DeviceError("device: give bandwidth= (bytes per second, e.g. bandwidth=1.555T)")
    name = values.get("name", "custom")
    _check_name_free(name)
    return Device(
        name=name,
        description="user-defined device",
        kind="user-defined",
        peak=peak,
        bandwidth=parse_rate(values["bandwidth"], field="bandwidth", unit="bytes"),
        source=f"given on the command line: {text.strip()}",
    )


def load_device(source: str) -> Device:
    """A device from the command line's `--device`: a built-in name, ``key=value``
    pieces (`parse_device`), or a profile of your own in a .json, .toml or .yaml file
    (`device_from_mapping`), read through the same guarded reader as spec files."""
    if not isinstance(source, str):
        raise FieldError("device", source, "a device name, key=value pieces or a file")
    suffix = Path(source).suffix.lower()
    if "=" in source or suffix not in SUFFIX_FORMATS:
        return parse_device(source)
    name = source_name(source)
    text = read_text(source, error=DeviceFileError)
    data = parse_data(text, SUFFIX_FORMATS[suffix], source=name, error=DeviceFileError)
    if not isinstance(data, Mapping):
        raise DeviceFileError(name, "expected a table of device fields (name, peak, bandwidth)")
    try:
        return device_from_mapping(data, source=name)
    except ConvCostError as error:
        raise DeviceFileError(name, str(error)) from None
