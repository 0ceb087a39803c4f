"""Device profiles: every built-in figure against its source, the parsers, the validation.

The table below quotes each figure's source again, so a changed number must be changed in
two places that say where it comes from. Derived figures (CPU cores, the Jetson's and the
Apple GPU's compute) are recomputed here from their factors, independently of the module.
"""

from __future__ import annotations

import dataclasses
import doctest
import json
from decimal import Decimal
from fractions import Fraction
from typing import Any, NamedTuple

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import convcost.devices
from convcost.devices import (
    DEVICES,
    DTYPE_BYTES,
    DTYPES,
    MAX_RATE,
    Device,
    DeviceError,
    device_from_mapping,
    device_to_mapping,
    get_device,
    parse_device,
    parse_rate,
)
from convcost.errors import ConvCostError, FieldError

T = 10**12
G = 10**9


class Figure(NamedTuple):
    device: str
    quantity: str  # a data type, or "bandwidth"
    value: int
    quote: str  # where the value comes from, as the source prints it


A100 = "NVIDIA A100 datasheet (r4), A100 80GB SXM column"
H100 = "NVIDIA H100 datasheet, H100 SXM column, '* With sparsity' halved"
L4 = "NVIDIA L4 datasheet, '* Shown with sparsity' halved"
ADA = "NVIDIA Ada GPU Architecture whitepaper v2.1, Appendix A, Table 2, RTX 4090 (dense/sparse)"
ORIN = "NVIDIA Jetson Orin Nano Series data sheet, Orin Nano 8GB"
APPLE = "Apple Newsroom, 'Apple unveils M2' (2022-06-06)"
PI5 = "Raspberry Pi BCM2712 documentation and Pi 5 product brief"
A76 = "Cortex-A76 SOG: 2 FP/ASIMD pipes, FMLA and SDOT 2 per cycle"
# Derived: pipes (or FMA units) x lanes x 2 per multiply-add x clock.
FIGURES: tuple[Figure, ...] = (
    Figure("a100-sxm4-80gb", "float32", 19_500 * G, f"{A100}: FP32 19.5 TFLOPS"),
    Figure("a100-sxm4-80gb", "float16", 312 * T, f"{A100}: FP16 Tensor Core 312 TFLOPS"),
    Figure("a100-sxm4-80gb", "bfloat16", 312 * T, f"{A100}: BFLOAT16 Tensor Core 312 TFLOPS"),
    Figure("a100-sxm4-80gb", "int8", 624 * T, f"{A100}: INT8 Tensor Core 624 TOPS"),
    Figure("a100-sxm4-80gb", "bandwidth", 2_039 * G, f"{A100}: 2,039 GB/s"),
    Figure("h100-sxm5-80gb", "float32", 67 * T, f"{H100}: FP32 67 teraFLOPS"),
    Figure("h100-sxm5-80gb", "float16", 989_500 * G, f"{H100}: FP16 Tensor Core 1,979*"),
    Figure("h100-sxm5-80gb", "bfloat16", 989_500 * G, f"{H100}: BFLOAT16 Tensor Core 1,979*"),
    Figure("h100-sxm5-80gb", "int8", 1_979 * T, f"{H100}: INT8 Tensor Core 3,958 TOPS*"),
    Figure("h100-sxm5-80gb", "bandwidth", 3_350 * G, f"{H100}: 3.35 TB/s"),
    Figure("l4", "float32", 30_300 * G, f"{L4}: FP32 30.3 teraFLOPS"),
    Figure("l4", "float16", 121 * T, f"{L4}: FP16 Tensor Core 242 teraFLOPS*"),
    Figure("l4", "bfloat16", 121 * T, f"{L4}: BFLOAT16 Tensor Core 242 teraFLOPS*"),
    Figure("l4", "int8", 242_500 * G, f"{L4}: INT8 Tensor Core 485 TOPS*"),
    Figure("l4", "bandwidth", 300 * G, f"{L4}: 300 GB/s"),
    Figure("rtx-4090", "float32", 82_600 * G, f"{ADA}: Peak FP32 TFLOPS (non-Tensor) 82.6"),
    Figure("rtx-4090", "float16", 165_200 * G, f"{ADA}: FP16 w/ FP32 Accumulate 165.2/330.4"),
    Figure("rtx-4090", "bfloat16", 165_200 * G, f"{ADA}: BF16 w/ FP32 Accumulate 165.2/330.4"),
    Figure("rtx-4090", "int8", 660_600 * G, f"{ADA}: Peak INT8 Tensor TOPS 660.6/1321.2"),
    Figure("rtx-4090", "bandwidth", 1_008 * G, f"{ADA}: Memory Bandwidth 1008 GB/sec"),
    Figure(
        "jetson-orin-nano-8gb",
        "float32",
        1_024 * 2 * 625 * 10**6,
        f"{ORIN}: derived, 1024 CUDA cores x 2 x 625 MHz",
    ),
    Figure("jetson-orin-nano-8gb", "float16", 10 * T, f"{ORIN}: derived, dense INT8 / 2"),
    Figure("jetson-orin-nano-8gb", "bfloat16", 10 * T, f"{ORIN}: derived, dense INT8 / 2"),
    Figure("jetson-orin-nano-8gb", "int8", 20 * T, f"{ORIN}: '20 (Dense) INT8 TOPs'"),
    Figure("jetson-orin-nano-8gb", "bandwidth", 68 * G, f"{ORIN}: '128-bit LPDDR5 68 GB/s'"),
    Figure(
        "apple-m2-gpu",
        "float32",
        10 * 128 * 2 * 1_398 * 10**6,
        "derived: 10 cores x 128 ALUs x 2 x 1.398 GHz (third-party clock)",
    ),
    Figure("apple-m2-gpu", "float16", 3_578_880 * 10**6, "derived: the float32 rate"),
    Figure("apple-m2-gpu", "bandwidth", 100 * G, f"{APPLE}: '100GB/s' unified memory"),
    Figure("raspberry-pi-5", "float32", 4 * 2 * 4 * 2 * 2_400 * 10**6, f"{A76}; x4 cores"),
    Figure("raspberry-pi-5", "float16", 4 * 2 * 8 * 2 * 2_400 * 10**6, f"{A76}; x4 cores"),
    Figure("raspberry-pi-5", "int8", 4 * 2 * 16 * 2 * 2_400 * 10**6, f"{A76}; x4 cores"),
    Figure("raspberry-pi-5", "bandwidth", 4_267 * 10**6 * 4, f"{PI5}: 32-bit LPDDR4X-4267"),
    Figure("raspberry-pi-5-core", "float32", 38_400 * 10**6, f"{A76}: 2 x 4 x 2 x 2.4 GHz"),
    Figure("raspberry-pi-5-core", "float16", 76_800 * 10**6, f"{A76}: 2 x 8 x 2 x 2.4 GHz"),
    Figure("raspberry-pi-5-core", "int8", 153_600 * 10**6, f"{A76}: 2 x 16 x 2 x 2.4 GHz"),
    Figure("raspberry-pi-5-core", "bandwidth", 17_068 * 10**6, f"{PI5}: 4,267 MT/s x 4 B"),
    Figure("generic-avx2-core", "float32", 96 * G, "assumed: 2 FMA x 8 lanes x 2 x 3.0 GHz"),
    Figure("generic-avx2-core", "bandwidth", 51_200 * 10**6, "assumed: DDR4-3200 x 8 B x 2"),
    Figure("generic-avx512-core", "float32", 192 * G, "assumed: 2 FMA x 16 lanes x 2 x 3 GHz"),
    Figure("generic-avx512-core", "bandwidth", 51_200 * 10**6, "assumed: DDR4-3200 x 8 B x 2"),
)


def _figure_id(figure: Figure) -> str:
    return f"{figure.device}/{figure.quantity}"


@pytest.mark.parametrize("figure", FIGURES, ids=_figure_id)
def test_builtin_figure_matches_its_source(figure: Figure) -> None:
    device = DEVICES[figure.device]
    if figure.quantity == "bandwidth":
        assert device.bandwidth == figure.value, figure.quote
    else:
        assert device.peak_for(figure.quantity) == figure.value, figure.quote


@pytest.mark.parametrize("name", list(DEVICES))
def test_every_builtin_figure_is_in_the_table(name: str) -> None:
    """No figure of a built-in profile escapes the table, and absent dtypes stay absent."""
    cited = {figure.quantity for figure in FIGURES if figure.device == name}
    assert cited == {*DEVICES[name].peak, "bandwidth"}


def test_builtin_order_and_kinds() -> None:
    assert list(DEVICES) == [
        "a100-sxm4-80gb",
        "h100-sxm5-80gb",
        "l4",
        "rtx-4090",
        "jetson-orin-nano-8gb",
        "apple-m2-gpu",
        "raspberry-pi-5",
        "raspberry-pi-5-core",
        "generic-avx2-core",
        "generic-avx512-core",
    ]
    assert {device.kind for device in DEVICES.values()} == {
        "data-centre GPU",
        "desktop GPU",
        "edge GPU",
        "SoC GPU",
        "CPU",
        "CPU core",
    }


@pytest.mark.parametrize("device", DEVICES.values(), ids=lambda device: device.name)
def test_builtin_sources_cite(device: Device) -> None:
    """Every profile names a document by URL; every GPU's says how sparsity was handled."""
    assert "https://" in device.source
    if device.name.startswith(("a100", "h100", "l4")):
        assert "sparsity" in device.source


def test_whole_chip_is_four_cores() -> None:
    chip, core = DEVICES["raspberry-pi-5"], DEVICES["raspberry-pi-5-core"]
    assert {dtype: 4 * rate for dtype, rate in core.peak.items()} == dict(chip.peak)
    assert chip.bandwidth == core.bandwidth


def test_dtype_bytes() -> None:
    assert dict(DTYPE_BYTES) == {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}
    assert tuple(DTYPE_BYTES) == DTYPES


def test_module_doctests() -> None:
    results = doctest.testmod(convcost.devices, optionflags=doctest.ELLIPSIS)
    assert results.attempted > 0
    assert results.failed == 0


# --- ridge point ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "dtype", "ridge"),
    [
        ("a100-sxm4-80gb", "float16", Fraction(312_000, 2_039)),  # 312 T / 2.039 T
        ("h100-sxm5-80gb", "float32", Fraction(20)),  # 67 T / 3.35 T
        ("l4", "float32", Fraction(101)),  # 30.3 T / 300 G
        ("generic-avx2-core", "float32", Fraction(15, 8)),  # 96 G / 51.2 G
        ("raspberry-pi-5-core", "int8", Fraction(38_400, 4_267)),  # 153.6 G / 17.068 G
    ],
    ids=lambda value: str(value),
)
def test_ridge_point_is_exact(name: str, dtype: str, ridge: Fraction) -> None:
    assert DEVICES[name].ridge_point(dtype) == ridge
    assert isinstance(DEVICES[name].ridge_point(dtype), Fraction)


@pytest.mark.parametrize("device", DEVICES.values(), ids=lambda device: device.name)
def test_ridge_point_times_bandwidth_is_peak(device: Device) -> None:
    for dtype, rate in device.peak.items():
        assert device.ridge_point(dtype) * device.bandwidth == rate


# --- lookups --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "suggested"),
    [
        ("a100", "a100-sxm4-80gb"),
        ("h100", "h100-sxm5-80gb"),
        ("rtx4090", "rtx-4090"),
        ("jetson-orin-nano", "jetson-orin-nano-8gb"),
        ("raspberry-pi5", "raspberry-pi-5"),
        ("generic-avx-core", "generic-avx2-core"),
    ],
)
def test_unknown_name_suggests_the_nearest(text: str, suggested: str) -> None:
    with pytest.raises(DeviceError, match=f"unknown device '{text}'; did you mean") as info:
        get_device(text)
    assert repr(suggested) in str(info.value)
    assert "\n" not in str(info.value)


def test_lookup_ignores_case_and_spaces() -> None:
    assert get_device("  RTX-4090 ") is DEVICES["rtx-4090"]
    assert parse_device("L4") is DEVICES["l4"]


def test_absent_dtype_names_the_device_and_its_dtypes() -> None:
    with pytest.raises(DeviceError, match="'generic-avx2-core' has no int8 peak; it has float32"):
        DEVICES["generic-avx2-core"].peak_for("int8")
    with pytest.raises(FieldError, match="dtype must be one of"):
        DEVICES["l4"].peak_for("int4")


# --- exact SI parsing -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("19.5T", 19_500_000_000_000),
        ("1.555T", 1_555_000_000_000),
        ("19.5e12", 19_500_000_000_000),
        ("1555e9", 1_555_000_000_000),
        ("989.5T", 989_500_000_000_000),
        ("0.3T", 300_000_000_000),  # float: 0.3 * 1e12 = 299999999999.99994
        ("4.35T", 4_350_000_000_000),  # float: 4.35 * 1e12 = 4349999999999.9995
        ("3.35TB/s", 3_350_000_000_000),
        ("2039GB/s", 2_039_000_000_000),
        ("17.068 GB/s", 17_068_000_000),
        ("624 TOPS", 624_000_000_000_000),
        ("19.5 TFLOPS", 19_500_000_000_000),
        ("19.5TFLOP/s", 19_500_000_000_000),
        ("1.28e12 flops", 1_280_000_000_000),
        ("1k", 1_000),
        ("0.5K", 500),
        (".5G", 500_000_000),
        ("2.5E3M", 2_500_000_000),
        ("1P", 10**15),
        ("1000000P", MAX_RATE),
        ("  7  ", 7),
    ],
)
def test_parse_rate_is_exact(text: str, value: int) -> None:
    rate = parse_rate(text, unit="bytes") if text.endswith("B/s") else parse_rate(text)
    assert rate == value
    assert type(rate) is int


@given(
    value=st.integers(min_value=1, max_value=MAX_RATE),
    prefix=st.sampled_from([("", 0), ("K", 3), ("M", 6), ("G", 9), ("T", 12), ("P", 15)]),
)
@example(value=19_500_000_000_000, prefix=("T", 12))
def test_parse_rate_reads_any_exact_decimal(value: int, prefix: tuple[str, int]) -> None:
    """The law: the decimal spelling of value / 10**k with prefix 10**k reads back as value."""
    symbol, exponent = prefix
    number = format(Decimal(value).scaleb(-exponent), "f")
    assert parse_rate(number + symbol) == value
    assert parse_rate(f"{value}e0") == value


@pytest.mark.parametrize(
    ("text", "unit", "expected"),
    [
        ("19.5X", "ops", "a number with an optional SI prefix"),
        ("", "ops", "a number with"),
        ("T", "ops", "a number with"),
        ("0", "ops", "positive"),
        ("0.0T", "ops", "positive"),
        ("-1T", "ops", "positive"),
        ("1.5", "ops", "a whole number per second"),
        ("0.0001K", "ops", "a whole number per second"),
        ("1e22", "ops", "at most 10**21"),
        ("1000001P", "ops", "at most 10**21"),
        ("1e999", "ops", "at most 10**21"),
        ("1e-999", "ops", "a whole number"),
        ("1e9999", "ops", "a number with"),  # exponents have at most three digits
        ("19.5TB/s", "ops", "unit (FLOPS, OPS)"),
        ("1.5GiB/s", "bytes", "not GiB"),
        ("1Tb/s", "bytes", "not bits"),
        ("1TFLOPS", "bytes", "unit B/s"),
        ("1m", "ops", "a number with"),  # milli, not mega
        ("1,5T", "ops", "a number with"),
        ("1_000", "ops", "a number with"),
        ("nan", "ops", "a number with"),
        ("inf", "ops", "a number with"),
        ("1" * 101, "ops", "a number with"),
    ],
)
def test_parse_rate_errors_name_the_field_and_text(text: str, unit: Any, expected: str) -> None:
    with pytest.raises(FieldError) as info:
        parse_rate(text, field="peak", unit=unit)
    message = str(info.value)
    assert message.startswith("peak must be ")
    assert expected in message
    assert "\n" not in message


# --- parse_device -----------------------------------------------------------------------


def test_parse_device_key_values() -> None:
    device = parse_device("peak=19.5e12,bandwidth=1555e9,dtype=float16,name=mine")
    assert device.name == "mine"
    assert dict(device.peak) == {"float16": 19_500_000_000_000}
    assert device.bandwidth == 1_555_000_000_000
    assert device.kind == "user-defined"
    assert "peak=19.5e12" in device.source

    device = parse_device(" bandwidth = 1.5T , peak.int8 = 624T, peak.float16=312T ")
    assert dict(device.peak) == {"float16": 312 * T, "int8": 624 * T}  # in DTYPES order
    assert device.name == "custom"

    device = parse_device("peak=1T,dtype=int8,peak.float16=2T,bandwidth=1")
    assert dict(device.peak) == {"float16": 2 * T, "int8": T}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("peak19.5T", "unknown device 'peak19.5T'"),
        ("peak=1T", "give bandwidth="),
        ("bandwidth=1T", "give a peak"),
        ("bandwidth=1T,dtype=int8", "give peak= too"),
        ("peak=1T,,bandwidth=1T", "'' is not key=value"),
        ("peak=1T,bandwidth", "'bandwidth' is not key=value"),
        ("peak=1T,bandwith=1T", "unknown key 'bandwith'; did you mean 'bandwidth'?"),
        ("peak.fp16=1T,bandwidth=1T", "unknown key 'peak.fp16'; did you mean 'peak.float16'"),
        ("peak=1T,peak=2T,bandwidth=1T", "peak is given twice"),
        ("peak=1T,peak.float32=2T,bandwidth=1T", "both give the float32 peak"),
        ("peak=1T,dtype=fp16,bandwidth=1T", "dtype must be one of float32"),
        ("peak=19.5X,bandwidth=1T", "peak must be a number with"),
        ("peak=1T,bandwidth=-1", "bandwidth must be positive, got '-1'"),
        ("peak=1T,bandwidth=1GiB/s", "bandwidth must be a number with"),
        ("peak.int8=1.5,bandwidth=1T", "peak.int8 must be a whole number per second"),
        ("peak=1T,bandwidth=1T,name=l4", "not a built-in device's"),
        ("peak=1T,bandwidth=1T,name=My GPU", "name must be 1 to 64 lowercase letters"),
        ("peak=1T,bandwidth=1T,name=", "name must be"),
        ("peak=" + "9" * 5000, "too long"),
    ],
)
def test_parse_device_errors(text: str, expected: str) -> None:
    with pytest.raises(ConvCostError) as info:
        parse_device(text)
    message = str(info.value)
    assert expected in message
    assert "\n" not in message


# --- device_from_mapping and the round trip ---------------------------------------------


def test_device_from_mapping_reads_numbers_and_text() -> None:
    device = device_from_mapping(
        {
            "name": "lab-gpu",
            "description": "the lab's GPU",
            "kind": "desktop GPU",
            "peak": {"float32": 19_500_000_000_000, "float16": "312T", "int8": 6.24e14},
            "bandwidth": "2039GB/s",
            "source": "our measurements",
        },
        source="lab.toml",
    )
    assert dict(device.peak) == {"float32": 19_500 * G, "float16": 312 * T, "int8": 624 * T}
    assert device.bandwidth == 2_039 * G
    assert device.source == "our measurements"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ([], "a device profile must be a mapping"),
        ({"nam": "x"}, "unknown key 'nam'; did you mean 'name'?"),
        ({"name": "x", "peak": {"float32": 1}}, "the key 'bandwidth' is required"),
        ({"name": "x", "peak": {}, "bandwidth": 1}, "peak must be a table"),
        ({"name": "x", "peak": {"fp32": 1}, "bandwidth": 1}, "unknown data type 'fp32'"),
        ({"name": "x", "peak": {"float32": True}, "bandwidth": 1}, "peak.float32 must be"),
        ({"name": "x", "peak": {"float32": 1.5}, "bandwidth": 1}, "peak.float32 must be"),
        ({"name": "x", "peak": {"float32": 2.0**60}, "bandwidth": 1}, "from 1 to 2**53"),
        ({"name": "x", "peak": {"float32": float("nan")}, "bandwidth": 1}, "peak.float32"),
        ({"name": "x", "peak": {"float32": 10**5000}, "bandwidth": 1}, "16,610 bits"),
        ({"name": "x", "peak": {"float32": 0}, "bandwidth": 1}, "peak.float32 must be"),
        ({"name": "x", "peak": {"float32": 1}, "bandwidth": "1 Tb/s"}, "bandwidth must be"),
        ({"name": "a100-sxm4-80gb", "peak": {"float32": 1}, "bandwidth": 1}, "built-in"),
        ({"name": "x", "kind": "", "peak": {"float32": 1}, "bandwidth": 1}, "kind must be"),
        ({"name": "x", "peak": {"float32": 1}, "bandwidth": 1, "source": 3}, "source must"),
    ],
)
def test_device_from_mapping_errors_name_the_file_and_key(data: Any, expected: str) -> None:
    with pytest.raises(DeviceError) as info:
        device_from_mapping(data, source="gpus.toml")
    message = str(info.value)
    assert message.startswith("gpus.toml: ")
    assert expected in message
    assert "\n" not in message


@pytest.mark.parametrize("device", DEVICES.values(), ids=lambda device: device.name)
def test_builtin_round_trips_through_a_mapping_and_json(device: Device) -> None:
    copy = dataclasses.replace(device, name=device.name + "-copy")  # built-in names are taken
    data = json.loads(json.dumps(device_to_mapping(copy)))
    assert device_from_mapping(data, source="copy.json") == copy


rates = st.integers(min_value=1, max_value=MAX_RATE)
names = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,20}", fullmatch=True).filter(
    lambda name: name not in DEVICES
)
devices = st.builds(
    Device,
    name=names,
    description=st.text(min_size=1).filter(lambda text: text.strip() and "\n" not in text),
    kind=st.sampled_from(["desktop GPU", "CPU core", "user-defined"]),
    peak=st.dictionaries(st.sampled_from(DTYPES), rates, min_size=1),
    bandwidth=rates,
    source=st.text(min_size=1).filter(str.strip),
)


@given(devices)
def test_any_device_round_trips_through_a_mapping(device: Device) -> None:
    assert device_from_mapping(device_to_mapping(device), source="any") == device


@given(devices)
def test_any_device_round_trips_through_key_values(device: Device) -> None:
    pieces = [f"peak.{dtype}={rate}" for dtype, rate in device.peak.items()]
    text = ",".join([*pieces, f"bandwidth={device.bandwidth}", f"name={device.name}"])
    parsed = parse_device(text)
    assert (parsed.name, parsed.peak, parsed.bandwidth) == (
        device.name,
        device.peak,
        device.bandwidth,
    )


# --- validation -------------------------------------------------------------------------


def _valid(**changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "name": "x",
        "description": "a device",
        "kind": "CPU core",
        "peak": {"float32": 1},
        "bandwidth": 1,
        "source": "made up",
    }
    return {**fields, **changes}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "X"}, "name"),
        ({"name": ""}, "name"),
        ({"name": "-x"}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"name": 3}, "name"),
        ({"description": " "}, "description"),
        ({"description": "two\nlines"}, "description"),
        ({"kind": None}, "kind"),
        ({"source": ""}, "source"),
        ({"peak": {}}, "peak"),
        ({"peak": [("float32", 1)]}, "peak"),
        ({"peak": {"int4": 1}}, "peak"),
        ({"peak": {"float32": True}}, "peak.float32"),
        ({"peak": {"float32": 0}}, "peak.float32"),
        ({"peak": {"int8": MAX_RATE + 1}}, "peak.int8"),
        ({"peak": {"float16": 1.0}}, "peak.float16"),
        ({"bandwidth": False}, "bandwidth"),
        ({"bandwidth": -1}, "bandwidth"),
        ({"bandwidth": Fraction(3, 2)}, "bandwidth"),
    ],
    ids=lambda value: repr(value)[:40],
)
def test_device_is_valid_from_birth(changes: dict[str, object], field: str) -> None:
    with pytest.raises(FieldError) as info:
        Device(**_valid(**changes))  # type: ignore[arg-type]  # wrong types on purpose
    assert info.value.field == field


def test_peak_is_read_only_and_ordered() -> None:
    device = Device(**_valid(peak={"int8": 4, "float32": 1}))  # type: ignore[arg-type]
    assert list(device.peak) == ["float32", "int8"]
    assert device.dtypes == ("float32", "int8")
    with pytest.raises(TypeError):
        device.peak["float32"] = 2  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        device.bandwidth = 2  # type: ignore[misc]


def test_peak_is_copied_not_shared() -> None:
    peak = {"float32": 1}
    device = Device(**_valid(peak=peak))  # type: ignore[arg-type]
    peak["float32"] = 2
    assert device.peak["float32"] == 1


# --- fuzz: any input gives a device or a ConvCostError -------------------------------------

junk_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**20, max_value=10**30)
    | st.floats()
    | st.fractions()
    | st.text(max_size=30)
    | st.sampled_from(["19.5T", "1.555TB/s", "624 TOPS", "0", "-1", "1e99", "float32"])
)
junk = st.recursive(
    junk_scalars,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(DTYPES) | st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=8,
)
mapping_keys = st.sampled_from(["name", "description", "kind", "peak", "bandwidth", "source"])


@given(st.dictionaries(mapping_keys | st.text(max_size=10), junk, max_size=7) | junk)
@example({"name": "x", "peak": {"float32": "1T"}, "bandwidth": 10**400})
@example({"name": "x", "peak": {"float32": float("inf")}, "bandwidth": 1})
def test_device_from_mapping_gives_a_device_or_a_convcost_error(data: Any) -> None:
    outcome: Device | ConvCostError
    try:
        outcome = device_from_mapping(data, source="fuzz.toml")
    except ConvCostError as error:
        outcome = error
    assert isinstance(outcome, Device) or "\n" not in str(outcome)


pieces = st.lists(
    st.tuples(
        st.sampled_from(
            ["name", "dtype", "peak", "bandwidth", "peak.float16", "peak.int8", "x", ""]
        ),
        st.sampled_from(["=", "", "=="]),
        st.sampled_from(["19.5T", "1.5GB/s", "float16", "mine", "-3", "1e30", "", "0.5"])
        | st.text(max_size=10),
    ),
    max_size=6,
)


@given(st.text(max_size=60) | pieces.map(lambda items: ",".join("".join(i) for i in items)))
@example("peak=1T,bandwidth=1,dtype=float16")
@example("peak=1e999999,bandwidth=1")
def test_parse_device_gives_a_device_or_a_convcost_error(text: str) -> None:
    outcome: Device | ConvCostError
    try:
        outcome = parse_device(text)
    except ConvCostError as error:
        outcome = error
    assert isinstance(outcome, Device) or "\n" not in str(outcome)


@given(junk)
def test_parse_rate_of_anything_gives_an_int_or_a_field_error(value: Any) -> None:
    try:
        rate = parse_rate(value)
    except FieldError:
        pass
    else:
        assert 1 <= rate <= MAX_RATE


def test_mapping_types_are_plain_for_serialisation() -> None:
    data = device_to_mapping(DEVICES["l4"])
    assert type(data["peak"]) is dict  # not the read-only proxy: json can write it
    assert json.loads(json.dumps(data)) == data
