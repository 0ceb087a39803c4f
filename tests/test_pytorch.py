"""PyTorch modules read on the meta device: `from_torch` counts exactly what PyTorch counts.

Hypothesis draws small networks as ``nn.Module`` instances (convolutions with every
hyper-parameter, padding modes included; transposed convolutions; batch norm; activations
as modules, functions and methods; pooling with ``ceil_mode``; adaptive pooling; upsampling;
residual additions; concatenations; squeeze-and-excitation gates; a module called twice; a
parameter held by no leaf; a channels-last MLP with LayerNorm; dense heads) and checks
convcost against PyTorch itself: the output shape, ``sum(p.numel())``, the buffers (without
BatchNorm's ``num_batches_tracked``) and ``FlopCounterMode`` / 2, which runs the real module
on a small real input. Where torchinfo is installed (the peers environment,
docs/peers.md), convcost's ``torchinfo`` profile is checked against torchinfo's
``total_mult_adds`` too, and torchvision's models against the figures measured in
``tests/data/onnx/figures.json``. Skipped without torch.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import textwrap
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from convcost.conventions import count
from convcost.errors import ConvCostError, ModelFileError
from convcost.layers import Add, Conv, Multiply, NotCounted, Operator
from convcost.network import NetworkCost, network_cost
from convcost.onnx import not_counted_rows
from convcost.presets import build_preset
from convcost.pytorch import TORCH_EXTRA, from_torch, load_factory
from convcost.shapes import Shape

with warnings.catch_warnings():
    # torch warns at import when NumPy is missing; nothing here needs NumPy.
    warnings.filterwarnings("ignore", message="Failed to initialize NumPy", category=UserWarning)
    torch = pytest.importorskip("torch")
    from torch import nn
    from torch.nn import functional as F
    from torch.utils.flop_counter import FlopCounterMode

torch.set_num_threads(1)  # the tensors here are tiny: extra threads only add overhead

pytestmark = [
    pytest.mark.torch,
    # torch notes that an even kernel with "same" padding copies the input; costs are unaffected
    pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths:UserWarning"),
]

DATA = Path(__file__).parent / "data"
FIGURES: dict[str, Any] = json.loads((DATA / "onnx" / "figures.json").read_text("utf-8"))
KERAS_FIGURES: dict[str, Any] = json.loads((DATA / "keras" / "figures.json").read_text("utf-8"))


def measure(model: Any, shape: Sequence[int]) -> tuple[tuple[int, ...], int, int, int]:
    """What PyTorch says: the output shape (no batch), parameters, buffers (BatchNorm's
    step counter left out) and FlopCounterMode's FLOPs, on a real input of batch 1."""
    model.eval()
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        output = model(torch.rand(1, *shape))
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(
        b.numel() for name, b in model.named_buffers() if not name.endswith("num_batches_tracked")
    )
    return tuple(output.shape[1:]), params, buffers, counter.get_total_flops()


def agrees(model: Any, shape: Sequence[int]) -> NetworkCost:
    """from_torch's counts are PyTorch's: output shape, params, buffers, FLOPs / 2."""
    output, params, buffers, flops = measure(model, shape)
    cost = network_cost(from_torch(model, Shape(shape[0], tuple(shape[1:]))))
    assert (cost.output_shape.channels, *cost.output_shape.spatial) == output
    assert cost.totals.params == params
    assert cost.totals.non_trainable_params == buffers
    assert 2 * cost.totals.macs == flops
    assert not not_counted_rows(cost)
    return cost


# --- random networks --------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One drawn step: its kind, how it is called, and its module's keyword arguments."""

    kind: str
    arguments: tuple[tuple[str, Any], ...] = ()
    call: str = "module"  # "module", "function" or "method"


@dataclass(frozen=True)
class Drawn:
    """An input shape (channels, then 1 to 3 sizes) and the steps that fit it."""

    shape: tuple[int, ...]
    steps: tuple[Step, ...]


CONV: dict[int, Any] = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
CONV_TRANSPOSE: dict[int, Any] = {
    1: nn.ConvTranspose1d,
    2: nn.ConvTranspose2d,
    3: nn.ConvTranspose3d,
}
BATCH_NORM: dict[int, Any] = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}
POOLS: dict[tuple[str, int], Any] = {
    ("max", 1): nn.MaxPool1d,
    ("max", 2): nn.MaxPool2d,
    ("max", 3): nn.MaxPool3d,
    ("avg", 1): nn.AvgPool1d,
    ("avg", 2): nn.AvgPool2d,
    ("avg", 3): nn.AvgPool3d,
}
POOL_FUNCTIONS: dict[tuple[str, int], Any] = {
    ("max", 1): F.max_pool1d,
    ("max", 2): F.max_pool2d,
    ("max", 3): F.max_pool3d,
    ("avg", 1): F.avg_pool1d,
    ("avg", 2): F.avg_pool2d,
    ("avg", 3): F.avg_pool3d,
}
ADAPTIVE: dict[tuple[str, int], Any] = {
    ("max", 1): nn.AdaptiveMaxPool1d,
    ("max", 2): nn.AdaptiveMaxPool2d,
    ("max", 3): nn.AdaptiveMaxPool3d,
    ("avg", 1): nn.AdaptiveAvgPool1d,
    ("avg", 2): nn.AdaptiveAvgPool2d,
    ("avg", 3): nn.AdaptiveAvgPool3d,
}
# name: (module, function); the method is ``x.<name>()`` where torch has one
ACTIVATIONS: dict[str, tuple[Callable[[], Any], Callable[[Any], Any]]] = {
    "relu": (nn.ReLU, F.relu),
    "relu6": (nn.ReLU6, F.relu6),
    "silu": (nn.SiLU, F.silu),
    "gelu": (nn.GELU, F.gelu),
    "hardswish": (nn.Hardswish, F.hardswish),
    "hardsigmoid": (nn.Hardsigmoid, F.hardsigmoid),
    "sigmoid": (nn.Sigmoid, torch.sigmoid),
    "tanh": (nn.Tanh, torch.tanh),
    "leaky_relu": (nn.LeakyReLU, F.leaky_relu),
    "softmax": (lambda: nn.Softmax(dim=1), lambda x: F.softmax(x, dim=1)),
    "elu": (nn.ELU, F.elu),
    "identity": (nn.Identity, F.relu),  # as a module only: its function (x itself) is no call
}
METHODS = ("relu", "sigmoid", "tanh")
KINDS = (
    "conv",
    "conv",
    "transposed",
    "bn",
    "act",
    "pool",
    "adaptive",
    "upsample",
    "residual",
    "concat",
    "gate",
    "twice",
    "scale",
    "channels_last",
)


def window_size(
    size: int, kernel: int, stride: int, padding: int, dilation: int, ceil: bool = False
) -> int:
    """PyTorch's output size along one axis (0 when the window does not fit)."""
    room = size + 2 * padding - dilation * (kernel - 1) - 1
    if room < 0:
        return 0
    out = (-(-room // stride) if ceil else room // stride) + 1
    if ceil and (out - 1) * stride >= size + padding:
        out -= 1
    return out


@st.composite
def networks(draw: st.DrawFn) -> Drawn:
    ndim = draw(st.sampled_from([1, 2, 2, 2, 3]))
    low, high = {1: (3, 12), 2: (3, 9), 3: (3, 5)}[ndim]
    channels = draw(st.integers(1, 4))
    sizes = tuple(draw(st.integers(low, high)) for _ in range(ndim))
    shape = (channels, *sizes)
    steps: list[Step] = []
    for _ in range(draw(st.integers(1, 5))):
        step, new = draw_step(draw, shape)
        if step is not None:
            steps.append(step)
            shape = new
    if not steps:  # every draw failed to fit: one activation, so that there is a layer
        steps.append(Step("act", (("name", "relu"),)))
    if draw(st.booleans()):  # a dense head
        how = draw(st.sampled_from(["flatten", "module", "method", "mean"]))
        features = shape[0] if how == "mean" and len(shape) > 1 else _numel(shape)
        hidden = draw(st.none() | st.integers(1, 6))
        arguments = {
            "how": how,
            "features": features,
            "hidden": hidden,
            "classes": draw(st.integers(1, 5)),
            "bias": draw(st.booleans()),
        }
        steps.append(Step("head", tuple(arguments.items())))
    return Drawn((channels, *sizes), tuple(steps))


def _numel(shape: Sequence[int]) -> int:
    total = 1
    for size in shape:
        total *= size
    return total


def draw_step(draw: st.DrawFn, shape: tuple[int, ...]) -> tuple[Step | None, tuple[int, ...]]:
    """A step that fits `shape`, and the shape it gives (None when the draw does not fit)."""
    c, sizes = shape[0], shape[1:]
    ndim = len(sizes)
    kind = draw(st.sampled_from(KINDS))

    def per_axis(low: int, high: int) -> tuple[int, ...]:
        return tuple(draw(st.integers(low, high)) for _ in sizes)

    if kind in ("conv", "transposed"):
        groups = draw(st.sampled_from([g for g in (1, 2, c) if c % g == 0]))
        out = groups * draw(st.integers(1, 3))
        kernel, dilation = per_axis(1, 3), per_axis(1, 2)
        bias = draw(st.booleans())
        if kind == "conv":
            stride = per_axis(1, 2)
            padding: Any = draw(st.sampled_from(["int", "valid", "same"]))
            if padding == "same" and set(stride) != {1}:
                padding = "int"
            pads = per_axis(0, 2) if padding == "int" else (0,) * ndim
            mode = "zeros"
            if padding != "valid" and draw(st.booleans()):
                mode = draw(st.sampled_from(["reflect", "replicate", "circular"]))
            if padding == "same":
                spans = [d * (k - 1) for k, d in zip(kernel, dilation)]
                pads = tuple(-(-span // 2) for span in spans)
            if mode != "zeros" and any(p >= s for p, s in zip(pads, sizes)):
                mode = "zeros"
            new = tuple(map(window_size, sizes, kernel, stride, pads, dilation))
            if padding == "same":
                new = sizes
            if min(new) < 1:
                return None, shape
            arguments = {
                "in_channels": c,
                "out_channels": out,
                "kernel_size": kernel,
                "stride": stride,
                "dilation": dilation,
                "groups": groups,
                "bias": bias,
                "padding": pads if padding == "int" else padding,
                "padding_mode": mode,
            }
        else:
            stride, pads = per_axis(1, 2), per_axis(0, 1)
            extra = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
            new = tuple(
                (n - 1) * s - 2 * p + d * (k - 1) + e + 1
                for n, s, p, d, k, e in zip(sizes, stride, pads, dilation, kernel, extra)
            )
            if min(new) < 1 or max(new) > 16:
                return None, shape
            arguments = {
                "in_channels": c,
                "out_channels": out,
                "kernel_size": kernel,
                "stride": stride,
                "padding": pads,
                "output_padding": extra,
                "dilation": dilation,
                "groups": groups,
                "bias": bias,
            }
        return Step(kind, tuple(arguments.items())), (out, *new)
    if kind == "bn":
        track = draw(st.booleans()) or _numel(sizes) == 1
        arguments = {"num_features": c, "affine": draw(st.booleans()), "track_running_stats": track}
        return Step(kind, tuple(arguments.items())), shape
    if kind == "act":
        name = draw(st.sampled_from(sorted(ACTIVATIONS)))
        call = draw(st.sampled_from(["module", "function", "method"]))
        if call == "method" and name not in METHODS:
            call = "function"
        if name == "identity":
            call = "module"
        return Step(kind, (("name", name),), call), shape
    if kind == "pool":
        which = draw(st.sampled_from(["max", "avg"]))
        kernel = per_axis(1, 3)
        stride = per_axis(1, 2)
        dilation = per_axis(1, 2) if which == "max" else (1,) * ndim
        pads = tuple(draw(st.integers(0, k // 2)) for k in kernel)
        ceil = draw(st.booleans())
        new = tuple(map(window_size, sizes, kernel, stride, pads, dilation, (ceil,) * ndim))
        # PyTorch's CPU avg_pool3d refuses a kernel larger than the unpadded input
        if min(new) < 1 or (which == "avg" and any(k > n for k, n in zip(kernel, sizes))):
            return None, shape
        arguments = {
            "which": which,
            "kernel_size": kernel,
            "stride": stride,
            "padding": pads,
            "dilation": dilation,
            "ceil_mode": ceil,
        }
        call = draw(st.sampled_from(["module", "function"]))
        return Step(kind, tuple(arguments.items()), call), (c, *new)
    if kind == "adaptive":
        which = draw(st.sampled_from(["max", "avg"]))
        out_sizes = per_axis(1, 3)
        call = draw(st.sampled_from(["module", "function"])) if which == "avg" else "module"
        return Step(kind, (("which", which), ("output_size", out_sizes)), call), (c, *out_sizes)
    if kind == "upsample":
        factor = draw(st.integers(1, 2))
        if max(sizes) * factor > 16:
            return None, shape
        call = draw(st.sampled_from(["module", "function"]))
        return Step(kind, (("factor", factor),), call), (c, *(s * factor for s in sizes))
    if kind in ("residual", "twice"):  # a shape-keeping convolution: added, or applied twice
        arguments = {
            "in_channels": c,
            "out_channels": c,
            "kernel_size": 3,
            "padding": 1,
            "bias": draw(st.booleans()),
        }
        return Step(kind, tuple(arguments.items())), shape
    if kind == "concat":
        out = draw(st.integers(1, 3))
        arguments = {
            "in_channels": c,
            "out_channels": out,
            "kernel_size": 1,
            "bias": draw(st.booleans()),
        }
        return Step(kind, tuple(arguments.items())), (c + out, *sizes)
    if kind == "gate":
        return Step(kind, (("channels", c), ("hidden", draw(st.integers(1, 3))))), shape
    if kind == "scale":  # a parameter no leaf holds, as ConvNeXt's layer_scale
        return Step(kind, (("channels", c), ("ndim", ndim))), shape
    # channels_last: permute, LayerNorm or GroupNorm, Linear on the channels, permute back
    out = draw(st.integers(1, 4))
    norm = draw(st.sampled_from(["layer", "group", "none"]))
    if norm == "group" and _numel(shape) == 1:  # torch refuses to normalise one value
        norm = "none"
    arguments = {"channels": c, "out": out, "norm": norm, "ndim": ndim, "bias": draw(st.booleans())}
    return Step(kind, tuple(arguments.items())), (out, *sizes)


class Scale(nn.Module):
    """x × a learned value per channel: a parameter held by a module that is no leaf."""

    def __init__(self, channels: int, ndim: int) -> None:
        super().__init__()
        self.gamma = nn.Parameter(torch.ones(channels, *(1,) * ndim))

    def forward(self, x: Any) -> Any:
        return self.gamma * x


class ChannelsLast(nn.Module):
    """ConvNeXt's MLP: channels last, a norm, a dense layer on the channels, channels first."""

    def __init__(self, channels: int, out: int, norm: str, ndim: int, bias: bool) -> None:
        super().__init__()
        self.order = (0, *range(2, ndim + 2), 1)
        self.back = (0, ndim + 1, *range(1, ndim + 1))
        self.norm = {
            "layer": nn.LayerNorm(channels),
            "none": nn.Identity(),
            "group": nn.GroupNorm(1, channels),
        }[norm]
        self.group_first = norm == "group"
        self.linear = nn.Linear(channels, out, bias=bias)

    def forward(self, x: Any) -> Any:
        if self.group_first:
            x = self.norm(x)
        x = x.permute(*self.order)
        if not self.group_first:
            x = self.norm(x)
        return torch.permute(self.linear(x), self.back)


class Net(nn.Module):
    def __init__(self, drawn: Drawn) -> None:
        super().__init__()
        self.plan = drawn.steps
        self.ndim = len(drawn.shape) - 1  # known here: x.dim() in forward is traced
        self.steps = nn.ModuleList(self.module(step, len(drawn.shape) - 1) for step in drawn.steps)

    @staticmethod
    def module(step: Step, ndim: int) -> Any:
        arguments = dict(step.arguments)
        kind = step.kind
        if kind in ("conv", "residual", "twice", "concat"):
            return CONV[ndim](**arguments)
        if kind == "transposed":
            return CONV_TRANSPOSE[ndim](**arguments)
        if kind == "bn":
            return BATCH_NORM[ndim](**arguments)
        if kind == "act":
            return ACTIVATIONS[arguments["name"]][0]()
        if kind == "pool":
            which = arguments.pop("which")
            if which == "avg":
                arguments.pop("dilation")
            return POOLS[which, ndim](**arguments)
        if kind == "adaptive":
            return ADAPTIVE[arguments["which"], ndim](arguments["output_size"])
        if kind == "upsample":
            return nn.Upsample(scale_factor=float(arguments["factor"]), mode="nearest")
        if kind == "gate":
            channels, hidden = arguments["channels"], arguments["hidden"]
            conv = CONV[ndim]
            return nn.Sequential(
                ADAPTIVE["avg", ndim](1),
                conv(channels, hidden, 1),
                nn.ReLU(),
                conv(hidden, channels, 1),
                nn.Sigmoid(),
            )
        if kind == "scale":
            return Scale(**arguments)
        if kind == "channels_last":
            return ChannelsLast(**arguments)
        hidden, features, classes = arguments["hidden"], arguments["features"], arguments["classes"]
        bias = arguments["bias"]
        flatten = [nn.Flatten()] if arguments["how"] == "module" else []
        if hidden is None:
            return nn.Sequential(*flatten, nn.Linear(features, classes, bias=bias))
        return nn.Sequential(
            *flatten,
            nn.Linear(features, hidden),
            nn.ReLU(),
            nn.Dropout(0.25),
            nn.Linear(hidden, classes, bias=bias),
        )

    def forward(self, x: Any) -> Any:
        for step, module in zip(self.plan, self.steps):
            x = self.apply_step(step, module, x, self.ndim)
        return x

    @staticmethod
    def apply_step(step: Step, module: Any, x: Any, ndim: int) -> Any:
        arguments = dict(step.arguments)
        kind, call = step.kind, step.call
        if kind == "residual":
            return x + module(x)
        if kind == "concat":
            return torch.cat([x, module(x)], dim=1)
        if kind == "gate":
            return x * module(x)
        if kind == "twice":
            return module(F.relu(module(x)))
        if kind == "act" and call == "function":
            return ACTIVATIONS[arguments["name"]][1](x)
        if kind == "act" and call == "method":
            return getattr(x, arguments["name"])()
        if kind == "pool" and call == "function":
            which = arguments["which"]
            window = (arguments["kernel_size"], arguments["stride"], arguments["padding"])
            if which == "max":
                return POOL_FUNCTIONS[which, ndim](
                    x, *window, arguments["dilation"], ceil_mode=arguments["ceil_mode"]
                )
            return POOL_FUNCTIONS[which, ndim](x, *window, ceil_mode=arguments["ceil_mode"])
        if kind == "adaptive" and call == "function":
            function = {
                1: F.adaptive_avg_pool1d,
                2: F.adaptive_avg_pool2d,
                3: F.adaptive_avg_pool3d,
            }[ndim]
            return function(x, arguments["output_size"])
        if kind == "upsample" and call == "function":
            return F.interpolate(x, scale_factor=arguments["factor"])
        if kind == "head":
            how = arguments["how"]
            if how == "flatten":
                x = torch.flatten(x, 1)
            elif how == "method":
                x = x.reshape(x.size(0), -1)
            elif how == "mean":
                x = x.mean(dim=tuple(range(2, ndim + 2)))
        return module(x)


@settings(max_examples=30, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
@example(
    Drawn(
        (2, 6, 6),
        (
            Step(
                "twice",
                (
                    ("in_channels", 2),
                    ("out_channels", 2),
                    ("kernel_size", 3),
                    ("padding", 1),
                    ("bias", True),
                ),
            ),
        ),
    )
)
@example(
    Drawn(
        (3, 5, 7),
        (
            Step(
                "conv",
                (
                    ("in_channels", 3),
                    ("out_channels", 4),
                    ("kernel_size", (2, 3)),
                    ("stride", (1, 1)),
                    ("dilation", (2, 1)),
                    ("groups", 1),
                    ("bias", False),
                    ("padding", "same"),
                    ("padding_mode", "reflect"),
                ),
            ),
            Step(
                "pool",
                (
                    ("which", "max"),
                    ("kernel_size", (3, 2)),
                    ("stride", (2, 2)),
                    ("padding", (1, 1)),
                    ("dilation", (1, 2)),
                    ("ceil_mode", True),
                ),
                "function",
            ),
            Step(
                "channels_last",
                (("channels", 4), ("out", 3), ("norm", "layer"), ("ndim", 2), ("bias", True)),
            ),
        ),
    )
)
def test_a_random_network_counts_what_pytorch_counts(drawn: Drawn) -> None:
    """Output shape, sum(p.numel()), buffers and FlopCounterMode / 2, exactly; no row
    flagged "not counted"; the module passed in is left as it was (on the CPU, in eval
    mode here, its weights untouched); and, where torchinfo is installed, the ``torchinfo``
    profile equals torchinfo's total for every network without LayerNorm, GroupNorm or a
    dense layer on the channels of a feature map, which torchinfo counts as its parameters
    (see docs/pytorch.md)."""
    model = Net(drawn).eval()
    before = {name: tensor.clone() for name, tensor in model.state_dict().items()}
    cost = agrees(model, drawn.shape)
    after = model.state_dict()
    assert all(torch.equal(before[name], after[name]) for name in before)
    assert all(not tensor.is_meta for tensor in after.values())
    shared = [row for row in cost.rows if row.cost.layer.shares is not None]
    assert len(shared) == sum(step.kind == "twice" for step in drawn.steps)
    assert all(row.cost.params == 0 for row in shared)
    try:
        torchinfo: Any = importlib.import_module("torchinfo")
    except ImportError:
        return
    if any(step.kind == "channels_last" for step in drawn.steps):
        return
    summary = torchinfo.summary(model, input_size=(1, *drawn.shape), verbose=0)
    assert count(cost, "torchinfo").total == summary.total_mult_adds


def test_a_module_called_twice_counts_its_weights_once() -> None:
    """One row per call: the second shares the first's weights (params once, MACs twice)."""
    conv = nn.Conv2d(4, 4, 3, padding=1)
    model = nn.Sequential(conv, nn.ReLU(), conv)
    cost = agrees(model, (4, 6, 6))
    rows = {row.name: row for row in cost.rows}
    # torch.fx calls a module by its first name ("0", not "2"): the second call is "0_1"
    assert list(rows) == ["0", "1", "0_1"]
    assert rows["0_1"].cost.layer.shares == "0"
    assert rows["0_1"].cost.params == 0
    assert rows["0_1"].cost.macs == rows["0"].cost.macs


def test_a_one_axis_convolution_of_a_2d_model_is_read_as_one_axis() -> None:
    """A Conv1d after a 2-D stage keeps its one-axis kernel, as the ONNX and Keras readers
    keep it: the spatially separable family leaves it as it is, rewriting the Conv2d."""
    from convcost.layers import SpatiallySeparableConv
    from convcost.network import compare

    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten(2), nn.Conv1d(4, 8, 3))
    cost = agrees(model, (3, 8, 8))
    conv1d = cost.rows[-1].cost.layer
    assert isinstance(conv1d, Conv)
    assert conv1d.kernel_size == (3,)
    spatial = compare(cost.network, ("regular", "spatially_separable")).cost("spatially_separable")
    assert isinstance(spatial.rows[0].cost.layer, SpatiallySeparableConv)
    assert spatial.rows[-1].cost == cost.rows[-1].cost


def test_tied_weights_are_counted_once() -> None:
    """Two modules holding one Parameter: the second shares the first's weights when it
    holds nothing else; with a bias of its own, it counts only that bias."""

    class Tied(nn.Module):
        def __init__(self, own_bias: bool) -> None:
            super().__init__()
            self.a = nn.Conv2d(3, 3, 3, padding=1)
            self.b = nn.Conv2d(3, 3, 3, padding=1)
            self.b.weight = self.a.weight
            if not own_bias:
                self.b.bias = self.a.bias

        def forward(self, x: Any) -> Any:
            return self.b(self.a(x))

    rows = {row.name: row.cost for row in agrees(Tied(own_bias=False), (3, 5, 5)).rows}
    assert rows["b"].layer.shares == "a"
    rows = {row.name: row.cost for row in agrees(Tied(own_bias=True), (3, 5, 5)).rows}
    assert isinstance(rows["b"].layer, Operator)
    assert (rows["b"].params, rows["b"].bias) == (3, 3)


def test_a_parametrised_weight_counts_its_own_tensors() -> None:
    """weight_norm's g and v are the parameters; the multiply-adds are the convolution's."""
    conv = nn.utils.parametrizations.weight_norm(nn.Conv2d(3, 8, 3))
    cost = agrees(nn.Sequential(conv, nn.ReLU()), (3, 8, 8))
    assert cost.rows[0].name == "0"
    assert cost.totals.params == 8 + 8 * 27 + 8  # g, v, bias


def test_functional_layers_and_buffers() -> None:
    """F.conv2d, F.linear and F.batch_norm with the module's own tensors; a buffer read by
    arithmetic is non-trainable."""

    class Functional(nn.Module):
        mean: Any  # buffers, declared for the type checker
        var: Any
        offset: Any

        def __init__(self) -> None:
            super().__init__()
            self.weight = nn.Parameter(torch.randn(6, 2, 3, 3))
            self.bias = nn.Parameter(torch.zeros(6))
            self.register_buffer("mean", torch.zeros(6))
            self.register_buffer("var", torch.ones(6))
            self.register_buffer("offset", torch.zeros(6, 1, 1))
            self.fc = nn.Parameter(torch.randn(5, 6))

        def forward(self, x: Any) -> Any:
            x = F.conv2d(x, self.weight, self.bias, 1, 1, 1, 2)
            x = F.batch_norm(x, self.mean, self.var, training=False) - self.offset
            return F.linear(x.mean((2, 3)), self.fc)

    cost = agrees(Functional(), (4, 5, 5))
    kinds = [type(row.cost.layer).__name__ for row in cost.rows]
    assert kinds == ["Conv", "BatchNorm", "Operator", "GlobalAvgPool", "Linear"]


@pytest.mark.parametrize(
    ("layer", "shape"),
    [
        pytest.param(
            nn.Conv1d(2, 4, 3, padding="same", padding_mode="circular"), (2, 7), id="conv1d"
        ),
        pytest.param(
            nn.Conv3d(2, 4, (1, 3, 3), stride=(1, 2, 2), groups=2), (2, 3, 6, 6), id="conv3d"
        ),
        pytest.param(nn.ConvTranspose2d(2, 4, 3, stride=2, groups=2), (2, 4, 5), id="transposed"),
        pytest.param(
            nn.InstanceNorm2d(3, affine=True, track_running_stats=True),
            (3, 4, 4),
            id="instance-norm",
        ),
        pytest.param(nn.ZeroPad2d((1, 0, 2, 1)), (2, 3, 3), id="zero-pad"),
        pytest.param(nn.ReflectionPad2d(1), (2, 3, 3), id="reflection-pad"),
        pytest.param(nn.PixelShuffle(2), (8, 3, 3), id="pixel-shuffle"),
        pytest.param(nn.Upsample(scale_factor=2, mode="bilinear"), (2, 3, 3), id="bilinear"),
        pytest.param(nn.PReLU(3), (3, 4, 4), id="prelu"),
        pytest.param(nn.LocalResponseNorm(2), (3, 4, 4), id="lrn"),
        pytest.param(nn.Hardtanh(0.0, 6.0), (3, 4, 4), id="hardtanh-relu6"),
    ],
)
def test_a_module_counts_what_pytorch_counts(layer: Any, shape: tuple[int, ...]) -> None:
    agrees(nn.Sequential(layer), shape)


def test_the_indices_of_pooling_are_a_second_output() -> None:
    class Indices(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.pool = nn.MaxPool2d(2, return_indices=True)
            self.adaptive = nn.AdaptiveMaxPool2d(1, return_indices=True)

        def forward(self, x: Any) -> Any:
            values, indices = self.pool(x)
            return values, self.adaptive(values)[0], indices

    cost = network_cost(from_torch(Indices(), "3x4x4"))
    assert [row.name for row in cost.rows] == ["pool", "pool:1", "adaptive"]
    assert not not_counted_rows(cost)
    assert cost.output_shapes == (Shape(3, (2, 2)), Shape(3, (1, 1)), Shape(3, (2, 2)))


def test_chunk_and_channel_shuffle_are_selections_and_reshapes() -> None:
    """ShuffleNet's channel split and shuffle: Select rows named after the split (``chunk``,
    ``chunk:1``), Reshape rows for view, transpose and contiguous."""

    class Shuffle(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.branch = nn.Conv2d(2, 2, 1)

        def forward(self, x: Any) -> Any:
            a, b = x.chunk(2, dim=1)
            x = torch.cat((a, self.branch(b)), dim=1)
            n, c, h, w = x.size()
            x = x.view(n, 2, c // 2, h, w).transpose(1, 2).contiguous()
            return x.view(n, -1, h, w)

    cost = agrees(Shuffle(), (4, 3, 3))
    names = [row.name for row in cost.rows]
    assert names == [
        "chunk",
        "chunk:1",
        "branch",
        "cat",
        "view",
        "transpose",
        "contiguous",
        "view_1",
    ]


def test_an_unknown_call_is_a_flagged_row_and_strict_refuses_it() -> None:
    class Recurrent(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lstm = nn.LSTM(8, 16, batch_first=True)
            self.fc = nn.Linear(16, 2)

        def forward(self, x: Any) -> Any:
            out, (h, _) = self.lstm(x)
            return self.fc(out[:, -1] + h[0])

    model = Recurrent()
    cost = network_cost(from_torch(model, Shape(5, (8,))))
    flagged = not_counted_rows(cost)
    assert [row.name for row in flagged] == ["lstm", "lstm:1.0"]
    assert isinstance(flagged[0].cost.layer, NotCounted)
    assert cost.totals.params == sum(p.numel() for p in model.parameters())
    assert cost.output_shape == Shape(2)
    with pytest.raises(ModelFileError, match=r"1 call\(s\) convcost does not count: lstm \(LSTM\)"):
        from_torch(model, Shape(5, (8,)), strict=True)


def test_a_call_its_handler_cannot_read_is_flagged_not_fatal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A call in a form convcost's handler does not expect is a flagged row, never a crash."""
    from convcost import pytorch

    def broken(converter: Any, call: Any) -> None:
        converter.data(call)  # reads the pieces of the split, then fails
        raise IndexError("an argument in an unexpected form")

    monkeypatch.setitem(pytorch._registry(torch).functions, torch.cat, broken)

    class Split(nn.Module):
        def forward(self, x: Any) -> Any:
            return torch.cat(x.chunk(2, dim=1), dim=1).relu()

    cost = network_cost(from_torch(Split(), "4x3x3"))
    assert [(row.name, row.cost.kind) for row in cost.rows] == [
        ("chunk", "reshape"),
        ("chunk:1", "reshape"),
        ("cat", "not_counted"),
        ("relu", "activation"),
    ]


# --- names and stages -------------------------------------------------------------------------


def _basic_block(inplanes: int, planes: int, stride: int) -> Any:
    """torchvision's BasicBlock, with its module names."""

    class BasicBlock(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.relu = nn.ReLU(inplace=True)
            self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.downsample = None
            if stride != 1 or inplanes != planes:
                self.downsample = nn.Sequential(
                    nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes)
                )

        def forward(self, x: Any) -> Any:
            identity = x
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            if self.downsample is not None:
                identity = self.downsample(x)
            out += identity
            return self.relu(out)

    return BasicBlock()


class ResNet18(nn.Module):
    """torchvision's resnet18, module for module (torchvision is not installed in CI)."""

    def __init__(self, classes: int = 1000) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        channels = 64
        for stage, planes in enumerate((64, 128, 256, 512), start=1):
            stride = 1 if stage == 1 else 2
            blocks = [_basic_block(channels, planes, stride), _basic_block(planes, planes, 1)]
            self.add_module(f"layer{stage}", nn.Sequential(*blocks))
            channels = planes
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512, classes)

    def forward(self, x: Any) -> Any:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        for stage in ("layer1", "layer2", "layer3", "layer4"):
            x = self.get_submodule(stage)(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


def vgg16(classes: int = 1000) -> Any:
    """torchvision's vgg16, module for module."""

    class VGG(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            layers: list[Any] = []
            channels = 3
            for width, convs in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
                for _ in range(convs):
                    layers += [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(inplace=True)]
                    channels = width
                layers.append(nn.MaxPool2d(2, 2))
            self.features = nn.Sequential(*layers)
            self.avgpool = nn.AdaptiveAvgPool2d((7, 7))
            self.classifier = nn.Sequential(
                nn.Linear(512 * 49, 4096),
                nn.ReLU(True),
                nn.Dropout(0.5),
                nn.Linear(4096, 4096),
                nn.ReLU(True),
                nn.Dropout(0.5),
                nn.Linear(4096, classes),
            )

        def forward(self, x: Any) -> Any:
            return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))

    return VGG()


def rows_of(cost: NetworkCost) -> list[tuple[Any, ...]]:
    return [
        (
            row.name,
            row.group,
            row.cost.kind,
            row.cost.params,
            row.cost.non_trainable_params,
            row.cost.macs,
            row.cost.output_shape,
        )
        for row in cost.rows
    ]


@pytest.mark.parametrize(
    ("build", "preset", "resolution"),
    [
        pytest.param(ResNet18, "resnet18", 224, id="resnet18"),
        pytest.param(ResNet18, "resnet18", 97, id="resnet18-97"),
        pytest.param(vgg16, "vgg16", 224, id="vgg16"),
    ],
)
def test_a_torch_model_has_its_presets_rows(
    build: Callable[[], Any], preset: str, resolution: int
) -> None:
    """The same rows, names, stages, kinds, counts and shapes as the preset built from the
    paper: the module is made on the meta device (no weight memory: VGG-16 has 138 M)."""
    with torch.device("meta"):
        model = build()
    cost = network_cost(from_torch(model, Shape(3, (resolution, resolution))))
    assert rows_of(cost) == rows_of(network_cost(build_preset(preset, resolution=resolution)))


TORCHVISION_PRESETS = [
    ("resnet18", "resnet18"),
    ("resnet50", "resnet50"),
    ("mobilenet_v2", "mobilenet-v2"),
    ("vgg16", "vgg16"),
]


@pytest.mark.parametrize(("model", "preset"), TORCHVISION_PRESETS)
def test_a_torchvision_model_has_its_presets_rows(model: str, preset: str) -> None:
    torchvision = pytest.importorskip("torchvision")
    with torch.device("meta"):
        module = getattr(torchvision.models, model)(weights=None)
    cost = network_cost(from_torch(module, "3x224x224"))
    assert rows_of(cost) == rows_of(network_cost(build_preset(preset)))


def test_the_twin_counts_its_figures() -> None:
    """tests/data/twin_torch.py's build(), through load_factory: PyTorch's figures (ONNX
    fixtures) and, row by row, the trainable and non-trainable parameters of its Keras
    twin's layers of the same names (Keras's ``block_add`` is the functional ``add``)."""
    figures = FIGURES["models"]["twin"]
    cost = agrees(load_factory(f"{DATA / 'twin_torch.py'}:build"), (3, 30, 30))
    assert 2 * cost.totals.macs == figures["flop_counter_flops"]
    assert cost.totals.params == figures["params"]
    assert cost.totals.non_trainable_params == figures["buffers"]
    rows = {row.name: row.cost for row in cost.rows}
    keras = KERAS_FIGURES["models"]["twin"]["layers"]
    for name, _, _, _, trainable, non_trainable in keras:
        torch_name = {"block_add": "add", "input": None}.get(name, name)
        if torch_name is None:
            continue
        assert (rows[torch_name].params, rows[torch_name].non_trainable_params) == (
            trainable,
            non_trainable,
        ), name
    assert isinstance(rows["add"].layer, Add)


# --- torchvision, in the peers environment ------------------------------------------------------

TORCHVISION = (
    "resnet18",
    "resnet50",
    "mobilenet_v2",
    "mobilenet_v3_small",
    "mobilenet_v3_large",
    "efficientnet_b0",
    "shufflenet_v2_x1_0",
    "densenet121",
    "convnext_tiny",
    "vgg16",
)


@pytest.mark.parametrize("name", TORCHVISION)
def test_a_torchvision_model_counts_its_figures(name: str) -> None:
    """torchvision 0.29.1 against figures.json (measured with torch 2.14.1): params,
    buffers, FlopCounterMode / 2, the output; each leaf module a row of its name and
    parameters (``name_1``, ... for further calls), its FLOPs twice the row's MACs; the
    parameters a module holds itself (ConvNeXt's layer_scale) counted by its own rows;
    and convcost's ``torchinfo`` profile equal to torchinfo's total but on ConvNeXt."""
    torchvision = pytest.importorskip("torchvision")
    figures = FIGURES["models"][name]
    with torch.device("meta"):
        model = getattr(torchvision.models, name)(weights=None)
    cost = network_cost(from_torch(model, Shape(3, (224, 224))))
    assert cost.totals.params == figures["params"]
    assert cost.totals.non_trainable_params == figures["buffers"]
    assert 2 * cost.totals.macs == figures["flop_counter_flops"]
    assert (1, cost.output_shape.channels) == tuple(figures["output"])
    assert not not_counted_rows(cost)
    rows = {row.name: row.cost for row in cost.rows}
    leaves = set()
    for module, cls, params in figures["leaf_modules"]:
        calls = figures["leaf_calls"].get(module, 1)
        names = [f"{module}_{i}" if i else module for i in range(calls)]  # none if never called
        leaves.update(names)
        assert all(row in rows for row in names), f"{module} ({cls})"
        assert sum(rows[row].params for row in names) == params, module
        if module in figures["leaf_flops"]:
            assert 2 * sum(rows[row].macs for row in names) == figures["leaf_flops"][module]
    for module, _, params in figures["params_outside_leaves"]:
        own = [row for row in rows if row.startswith(f"{module}.") and row not in leaves]
        assert sum(rows[row].params for row in own) == params, module
    profile = count(cost, "torchinfo").total
    if name != "convnext_tiny":
        assert profile == figures["torchinfo"]["total_mult_adds"]
        return
    # torchinfo 1.8.0 counts a module that is no convolution as its parameters × the batch:
    # so each nn.Linear on ConvNeXt's channels-last map once per sample, not per position,
    # and each LayerNorm as its parameters (layer_info.py, calculate_macs).
    matmul = [c for c in rows.values() if isinstance(c.layer, Operator) and c.layer.contraction]
    norms = [
        c
        for c in rows.values()
        if isinstance(c.layer, Operator) and c.layer.op_type == "LayerNormalization"
    ]
    difference = sum(c.macs + c.bias_adds - c.params for c in matmul)
    difference -= sum(c.params for c in norms)
    assert profile - figures["torchinfo"]["total_mult_adds"] == difference == 4_146_595_296


# --- the module passed in, and errors ------------------------------------------------------------


def test_the_module_is_copied_not_moved_and_weights_are_never_allocated() -> None:
    """A 2.5-billion-parameter model made on the meta device is read in no time (its
    weights would take 10 GB); a CPU model in training mode stays on the CPU, in training
    mode, with its weights."""
    with torch.device("meta"):
        huge = nn.Sequential(nn.Flatten(), nn.Linear(50_000, 50_000))
    assert network_cost(from_torch(huge, "50000")).totals.params == 2_500_050_000
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Dropout())
    model.train()
    conv, norm = model[0], model[1]
    weight = conv.get_parameter("weight").detach().clone()
    from_torch(model, "3x8x8")
    assert model.training
    assert norm.training
    assert conv.get_parameter("weight").device.type == "cpu"
    assert torch.equal(conv.get_parameter("weight").detach(), weight)
    assert int(norm.get_buffer("num_batches_tracked")) == 0


def test_input_shape_is_a_shape_or_its_text() -> None:
    model = nn.Conv2d(3, 4, 3)
    assert from_torch(model, "3x8x8") == from_torch(model, Shape(3, (8, 8)))
    with pytest.raises(ConvCostError, match="input_shape must be"):
        from_torch(model, (3, 8, 8))  # type: ignore[arg-type]
    with pytest.raises(ConvCostError, match=r"module must be a torch\.nn\.Module"):
        from_torch("model", "3x8x8")


def test_a_module_fx_cannot_trace_is_one_line_naming_torchs_error() -> None:
    class Branching(nn.Module):
        def forward(self, x: Any) -> Any:
            return x if x.sum() > 0 else -x

    with pytest.raises(ModelFileError) as caught:
        from_torch(Branching(), "3x4x4")
    message = str(caught.value)
    assert message.startswith("torch module Branching: torch.fx cannot trace it (TraceError: ")
    assert "\n" not in message


def test_an_input_the_module_cannot_take_names_the_call() -> None:
    model = nn.Sequential(nn.Conv2d(3, 4, 3))
    with pytest.raises(ModelFileError, match=r"on input 5x8x8, 0 \(Conv2d\) fails: "):
        from_torch(model, "5x8x8")


def test_a_forward_of_two_inputs_is_refused() -> None:
    class Two(nn.Module):
        def forward(self, x: Any, y: Any) -> Any:
            return x + y

    with pytest.raises(ModelFileError, match="its forward takes 2 inputs"):
        from_torch(Two(), "3x4x4")


def test_importing_convcost_pytorch_does_not_import_torch() -> None:
    code = "import sys, convcost.pytorch; print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_without_torch_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now raises ImportError
    with pytest.raises(ConvCostError, match=r"needs PyTorch: pip install convcost\[torch\]"):
        from_torch(object(), "3x8x8")
    assert TORCH_EXTRA == "pip install convcost[torch]"


# --- load_factory --------------------------------------------------------------------------------

MODEL_FILE = """
import torch
from torch import nn
from blocks import block  # a neighbour of the file, importable as the file is

def build():
    return nn.Sequential(block(3, 8), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 2))

def broken():
    raise RuntimeError("no weights here\\nsecond line")

def not_a_module():
    return 42

def exits():
    raise SystemExit(3)

THING = 1
"""


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    blocks = "def block(c, n):\n    return nn.Sequential(nn.Conv2d(c, n, 3), nn.ReLU())\n"
    (tmp_path / "blocks.py").write_text("from torch import nn\n\n" + blocks)
    path = tmp_path / "model.py"
    path.write_text(textwrap.dedent(MODEL_FILE))
    return path


def test_load_factory_builds_the_users_model(model_file: Path) -> None:
    model = load_factory(f"{model_file}:build")
    assert isinstance(model, nn.Module)
    cost = agrees(model, (3, 8, 8))
    assert [row.name for row in cost.rows] == ["0.0", "0.1", "1", "2", "3"]
    assert str(model_file.parent) not in sys.path  # put back as it was


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        pytest.param(
            "{file}",
            "{file}: name the function that builds the model: FILE.py:FACTORY",
            id="no-factory",
        ),
        pytest.param(
            "{file}:bild", "{file}: has no 'bild'; did you mean 'build'?", id="no-such-function"
        ),
        pytest.param("{file}:THING", "{file}: THING is not callable (int)", id="not-callable"),
        pytest.param(
            "{file}:broken", "{file}: broken() raised RuntimeError: no weights here", id="raises"
        ),
        pytest.param("{file}:exits", "{file}: exits() raised SystemExit: 3", id="exits"),
        pytest.param(
            "{file}:not_a_module",
            "{file}: not_a_module() returned int, not a torch.nn.Module",
            id="not-a-module",
        ),
        pytest.param(
            "{file}:2build",
            "{file}: '2build' is not a Python name; write FILE.py:FACTORY",
            id="not-a-name",
        ),
        pytest.param("{dir}/missing.py:build", "{dir}/missing.py: no such file", id="no-such-file"),
        pytest.param(
            "{dir}/model.txt:build",
            "{dir}/model.txt: a model factory lives in a Python file (.py)",
            id="not-python",
        ),
        pytest.param(
            "{dir}/syntax.py:build",
            "{dir}/syntax.py: importing it raised SyntaxError: ",
            id="syntax-error",
        ),
    ],
)
def test_load_factory_errors_are_one_line(model_file: Path, spec: str, message: str) -> None:
    (model_file.parent / "syntax.py").write_text("def build(:\n")
    (model_file.parent / "model.txt").write_text("")
    values = {"file": str(model_file), "dir": str(model_file.parent)}
    with pytest.raises(ModelFileError) as caught:
        load_factory(spec.format(**values))
    assert str(caught.value).startswith(message.format(**values))
    assert "\n" not in str(caught.value)


def test_operators_are_named_after_their_modules() -> None:
    """Operators inside a module are named after it and themselves; the stages are the
    modules inside ``stage``, which holds most rows (as torchvision's ``features``)."""

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(2, 2, 3, padding=1)
            self.gamma = nn.Parameter(torch.ones(2, 1, 1))

        def forward(self, x: Any) -> Any:
            return x + self.gamma * self.conv(x)

    class Gate(nn.Module):
        def forward(self, x: Any) -> Any:
            return x * torch.sigmoid(x.mean((2, 3), keepdim=True))

    class Top(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.stage = nn.Sequential(Block(), Block())
            self.gate = Gate()

        def forward(self, x: Any) -> Any:
            return self.gate(self.stage(x))

    cost = agrees(Top(), (2, 4, 4))
    assert [(row.name, row.group) for row in cost.rows] == [
        ("stage.0.conv", "stage.0"),
        ("stage.0.mul", "stage.0"),
        ("stage.0.add", "stage.0"),
        ("stage.1.conv", "stage.1"),
        ("stage.1.mul", "stage.1"),
        ("stage.1.add", "stage.1"),
        ("gate.mean", None),
        ("gate.sigmoid", None),
        ("gate.mul", None),
    ]
    assert isinstance(cost.rows[-1].cost.layer, Multiply)
    assert isinstance(cost.rows[0].cost.layer, Conv)
