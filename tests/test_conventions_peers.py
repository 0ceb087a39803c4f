"""The counting profiles against the peer tools themselves, where they are installed.

Each convcost network is turned into a PyTorch model (a layer with ``functional=True``
becomes a call to ``torch.nn.functional`` inside a parameter-free module of its own, as
torchvision writes one in ``forward``; residual additions are written ``x + y``) and run
through each installed tool; the tool's total must equal `count` under the tool's
profile. torchvision's ResNet-18, VGG-16, MobileNetV2 and ResNet-50 are checked against
the presets the same way. Without torch, a tool or torchvision, the tests that need them
are skipped; none of the tools is a dependency of convcost.
"""

from __future__ import annotations

import contextlib
import io
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from convcost.conventions import count
from convcost.costs import layer_cost
from convcost.layers import (
    ACTIVATIONS,
    Activation,
    AdaptiveAvgPool,
    AdaptiveMaxPool,
    AvgPool,
    BatchNorm,
    Conv,
    ConvTranspose,
    DepthwiseSeparableConv,
    Dropout,
    Flatten,
    GlobalAvgPool,
    GlobalMaxPool,
    Layer,
    Linear,
    MaxPool,
    Upsample,
    ZeroPad,
)
from convcost.network import Network, Node, Parallel, Residual, Sequential, network_cost
from convcost.presets import build_preset
from convcost.shapes import Shape

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional
_Module: Any = nn.Module

pytestmark = pytest.mark.torch

# --- convcost network → PyTorch model ------------------------------------------------------

_MODULES: dict[str, Callable[[], Any]] = {
    "relu": nn.ReLU,
    "relu6": nn.ReLU6,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "swish": nn.SiLU,
    "sigmoid": nn.Sigmoid,
    "hardsigmoid": nn.Hardsigmoid,
    "hardswish": nn.Hardswish,
    "tanh": nn.Tanh,
    "softmax": lambda: nn.Softmax(dim=1),
    "identity": nn.Identity,
}
# Looked up on torch.nn.functional at call time, so that a tool's patch is seen.
_FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "relu": lambda x: F.relu(x),
    "relu6": lambda x: F.relu6(x),
    "leaky_relu": lambda x: F.leaky_relu(x),
    "elu": lambda x: F.elu(x),
    "gelu": lambda x: F.gelu(x),
    "silu": lambda x: F.silu(x),
    "swish": lambda x: F.silu(x),
    "sigmoid": lambda x: torch.sigmoid(x),
    "hardsigmoid": lambda x: F.hardsigmoid(x),
    "hardswish": lambda x: F.hardswish(x),
    "tanh": lambda x: torch.tanh(x),
    "softmax": lambda x: F.softmax(x, dim=1),
    "identity": lambda x: x,
}


class _Call(_Module):  # type: ignore[misc]  # torch is Any to mypy (importorskip)
    """A function call in `forward`: no hook of any tool is registered for this type."""

    def __init__(self, function: Callable[[Any], Any]) -> None:
        super().__init__()
        self.function = function

    def forward(self, x: Any) -> Any:
        return self.function(x)


class _Residual(_Module):  # type: ignore[misc]
    def __init__(self, body: Any, shortcut: Any) -> None:
        super().__init__()
        self.body = body
        self.shortcut = shortcut

    def forward(self, x: Any) -> Any:
        return self.body(x) + self.shortcut(x)


class _Parallel(_Module):  # type: ignore[misc]
    def __init__(self, branches: list[Any], merge: str) -> None:
        super().__init__()
        self.branches = nn.ModuleList(branches)
        self.merge = merge

    def forward(self, x: Any) -> Any:
        outputs = [branch(x) for branch in self.branches]
        if self.merge == "concat":
            return torch.cat(outputs, dim=1)
        total = outputs[0]
        for output in outputs[1:]:
            total = total + output
        return total


def _padding(layer: Conv | ConvTranspose | MaxPool | AvgPool) -> Any:
    if layer.padding == "valid":
        return 0
    if isinstance(layer.padding, str):
        return layer.padding  # "same" at stride 1, as PyTorch allows it
    return layer.padding


def _torch_layer(layer: Layer, shape: Shape) -> Any:
    """The PyTorch module for one 2-D layer applied to `shape`."""
    c = shape.channels
    match layer:
        case Conv():
            return nn.Conv2d(
                c, layer.out_channels, layer.kernel_size, layer.stride, _padding(layer),
                layer.dilation, layer.groups, layer.bias,
            )  # fmt: skip
        case ConvTranspose():
            return nn.ConvTranspose2d(
                c, layer.out_channels, layer.kernel_size, layer.stride, _padding(layer),
                layer.output_padding, layer.groups, layer.bias, layer.dilation,
            )  # fmt: skip
        case DepthwiseSeparableConv():
            parts = layer_cost(layer, shape).parts
            return nn.Sequential(*(_torch_layer(p.layer, p.input_shape) for p in parts))
        case BatchNorm():
            return nn.BatchNorm2d(c, affine=layer.affine)
        case Activation() if layer.functional:
            return _Call(_FUNCTIONS[layer.function])
        case Activation():
            return _MODULES[layer.function]()
        case MaxPool() | AvgPool():
            module = nn.MaxPool2d if isinstance(layer, MaxPool) else nn.AvgPool2d
            options = {"dilation": layer.dilation} if isinstance(layer, MaxPool) else {}
            arguments = (layer.kernel_size, layer.stride, _padding(layer))
            if layer.functional:
                function = "max_pool2d" if isinstance(layer, MaxPool) else "avg_pool2d"
                return _Call(
                    lambda x: getattr(F, function)(
                        x, *arguments, ceil_mode=layer.ceil_mode, **options
                    )
                )
            return module(*arguments, ceil_mode=layer.ceil_mode, **options)
        case AdaptiveAvgPool() | AdaptiveMaxPool():
            average = isinstance(layer, AdaptiveAvgPool)
            size = layer.output_size
            if layer.functional:
                function = "adaptive_avg_pool2d" if average else "adaptive_max_pool2d"
                return _Call(lambda x: getattr(F, function)(x, size))
            return (nn.AdaptiveAvgPool2d if average else nn.AdaptiveMaxPool2d)(size)
        case GlobalAvgPool() | GlobalMaxPool():
            pool = (
                nn.AdaptiveAvgPool2d if isinstance(layer, GlobalAvgPool) else nn.AdaptiveMaxPool2d
            )(1)
            return pool if layer.keepdims else nn.Sequential(pool, nn.Flatten())
        case Linear():
            return nn.Linear(c, layer.out_features, layer.bias)
        case Flatten():
            return nn.Flatten()
        case Dropout():
            return nn.Dropout(layer.p)
        case ZeroPad():
            return nn.ZeroPad2d(layer.padding)
        case Upsample():
            return nn.Upsample(scale_factor=layer.scale_factor, mode="nearest")
    raise AssertionError(f"no PyTorch module for {layer!r}")


def _torch_nodes(nodes: tuple[Node, ...], shape: Shape) -> tuple[Any, Shape]:
    modules = []
    for node in nodes:
        module, shape = _torch_node(node, shape)
        modules.append(module)
    return nn.Sequential(*modules), shape


def _torch_node(node: Node, shape: Shape) -> tuple[Any, Shape]:
    output = network_cost(Network(input_shape=shape, layers=(node,))).output_shape
    if isinstance(node, Sequential):
        return _torch_nodes(node.layers, shape)[0], output
    if isinstance(node, Residual):
        body = _torch_nodes(node.body, shape)[0]
        return _Residual(body, _torch_nodes(node.shortcut, shape)[0]), output
    if isinstance(node, Parallel):
        branches = [_torch_nodes(branch, shape)[0] for branch in node.branches]
        return _Parallel(branches, node.merge), output
    return _torch_layer(node, shape), output


def to_torch(network: Network) -> Any:
    """A fresh PyTorch model of a 2-D `network`, in eval mode."""
    return _torch_nodes(network.layers, network.input_shape)[0].eval()


# --- the tools --------------------------------------------------------------------------------

Model = Callable[[], Any]  # a fresh model each call: some tools leave buffers behind
Input = tuple[int, ...]  # (channels, height, width)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """The tools print, log and warn freely; none of it is under test here."""
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stdout(io.StringIO()),
        contextlib.redirect_stderr(io.StringIO()),
        torch.no_grad(),
    ):
        warnings.simplefilter("ignore")
        yield


def _paper(model: Model, size: Input) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with _quiet(), counter:
        model()(torch.zeros(1, *size))
    return int(counter.get_total_flops()) // 2


def _torchinfo(model: Model, size: Input) -> int:
    torchinfo = pytest.importorskip("torchinfo")
    with _quiet():
        return int(torchinfo.summary(model(), input_size=(1, *size), verbose=0).total_mult_adds)


def _ptflops(backend: str) -> Callable[[Model, Input], int]:
    def run(model: Model, size: Input) -> int:
        ptflops = pytest.importorskip("ptflops")
        with _quiet():
            macs, _ = ptflops.get_model_complexity_info(
                model(), size, as_strings=False, print_per_layer_stat=False, backend=backend
            )
        return int(macs)

    return run


def _thop(model: Model, size: Input) -> int:
    thop = pytest.importorskip("thop")
    with _quiet():
        macs, _ = thop.profile(model(), inputs=(torch.zeros(1, *size),), verbose=False)
    return int(macs)


def _fvcore(train: bool) -> Callable[[Model, Input], int]:
    def run(model: Model, size: Input) -> int:
        fvcore_nn = pytest.importorskip("fvcore.nn")
        instance = model().train(train)
        batch = 2 if train else 1  # batch norm cannot train on one value per channel
        with _quiet():
            analysis = fvcore_nn.FlopCountAnalysis(instance, torch.zeros(batch, *size))
            analysis.unsupported_ops_warnings(False)
            analysis.uncalled_modules_warnings(False)
            total = int(analysis.total())
        assert total % batch == 0
        return total // batch

    return run


def _torchprofile(model: Model, size: Input) -> int:
    torchprofile = pytest.importorskip("torchprofile")
    with _quiet():
        return int(torchprofile.profile_macs(model(), torch.zeros(1, *size)))


def _calflops(model: Model, size: Input) -> int:
    calflops = pytest.importorskip("calflops")
    with _quiet():
        flops, _, _ = calflops.calculate_flops(
            model=model(),
            input_shape=(1, *size),
            output_as_string=False,
            print_results=False,
            print_detailed=False,
        )
    return int(flops)


TOOLS: dict[str, Callable[[Model, Input], int]] = {
    "paper": _paper,
    "torchinfo": _torchinfo,
    "ptflops-aten": _ptflops("aten"),
    "ptflops": _ptflops("pytorch"),
    "thop": _thop,
    "fvcore": _fvcore(train=False),
    "fvcore-train": _fvcore(train=True),
    "torchprofile": _torchprofile,
    "calflops": _calflops,
}


# --- torchvision models against the presets ---------------------------------------------------

TORCHVISION = [
    ("resnet18", "resnet18"),
    ("vgg16", "vgg16"),
    ("mobilenet_v2", "mobilenet-v2"),
    ("resnet50", "resnet50"),
]


@pytest.mark.parametrize("profile", list(TOOLS))
@pytest.mark.parametrize(("model", "preset"), TORCHVISION, ids=[p for _, p in TORCHVISION])
def test_torchvision_models(model: str, preset: str, profile: str) -> None:
    torchvision = pytest.importorskip("torchvision")

    def build() -> Any:
        return getattr(torchvision.models, model)(weights=None).eval()

    expected = TOOLS[profile](build, (3, 224, 224))
    assert count(network_cost(build_preset(preset)), profile).total == expected


# --- generated networks -------------------------------------------------------------------------


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


@st.composite
def _torch_node_for(draw: st.DrawFn, shape: Shape) -> Node:
    """A layer or block PyTorch and every tool accept on `shape` (2-D, C×H×W)."""
    c, (h, w) = shape.channels, shape.spatial
    out = draw(st.integers(1, 4))
    bias = draw(st.booleans())
    functional = draw(st.booleans())
    kernel = draw(st.sampled_from([1, 3]))
    kinds = ["conv", "depthwise", "separable", "bn", "act", "act", "adaptive", "global",
             "dropout", "pad", "residual", "parallel"]  # fmt: skip
    if min(h, w) >= 2:
        kinds += ["pool"]
    if max(h, w) <= 8:
        kinds += ["transposed", "upsample"]
    kind = draw(st.sampled_from(kinds))
    if kind == "conv":
        stride = draw(st.sampled_from([1, 2]))
        return Conv(
            out_channels=out, kernel_size=kernel, stride=stride, padding=kernel // 2, bias=bias
        )
    if kind == "depthwise":
        return Conv(out_channels=c * out, kernel_size=3, padding=1, groups=c, bias=bias)
    if kind == "separable":
        convention = draw(st.sampled_from(["none", "pointwise", "both"]))
        return DepthwiseSeparableConv(out_channels=out, kernel_size=3, padding=1, bias=convention)  # type: ignore[arg-type]
    if kind == "transposed":
        # unbiased: calflops sizes a transposed convolution's bias as a forward convolution's
        return ConvTranspose(out_channels=out, kernel_size=draw(st.integers(1, 3)),
                             stride=draw(st.integers(1, 2)), bias=False)  # fmt: skip
    if kind == "bn":
        return BatchNorm(affine=draw(st.booleans()))
    if kind == "act":
        return Activation(
            function=draw(st.sampled_from(sorted(ACTIVATIONS))), functional=functional
        )
    if kind == "pool":
        if draw(st.booleans()):
            return MaxPool(kernel_size=2, functional=functional)
        return AvgPool(kernel_size=2, functional=functional)
    if kind == "adaptive":
        # sizes dividing the input: thop computes the window in floating point
        size = (draw(st.sampled_from(_divisors(h))), draw(st.sampled_from(_divisors(w))))
        if draw(st.booleans()):
            return AdaptiveMaxPool(output_size=size, functional=functional)
        return AdaptiveAvgPool(output_size=size, functional=functional)
    if kind == "global":
        return GlobalAvgPool(keepdims=True) if draw(st.booleans()) else GlobalMaxPool(keepdims=True)
    if kind == "dropout":
        return Dropout()
    if kind == "pad":
        return ZeroPad(padding=1)
    if kind == "upsample":
        return Upsample(scale_factor=2)
    body = (Conv(out_channels=c, kernel_size=kernel, padding=kernel // 2, bias=bias), BatchNorm())
    if kind == "residual":
        return Residual(body=body, shortcut=(Conv(out_channels=c, kernel_size=1),) if bias else ())
    return Parallel(branches=(body, ()), merge=draw(st.sampled_from(["add", "concat"])))


@st.composite
def torch_networks(draw: st.DrawFn) -> Network:
    """Small 2-D networks of every layer type the tools know, optionally a dense head."""
    shape = Shape(draw(st.integers(1, 3)), (draw(st.integers(4, 9)), draw(st.integers(4, 9))))
    input_shape = shape
    layers: list[Node] = []
    for _ in range(draw(st.integers(1, 5))):
        node = draw(_torch_node_for(shape))
        layers.append(node)
        shape = network_cost(Network(input_shape=shape, layers=(node,))).output_shape
    if draw(st.booleans()):
        layers += [
            Flatten(),
            Linear(out_features=draw(st.integers(1, 5)), bias=draw(st.booleans())),
        ]
    return Network(input_shape=input_shape, layers=tuple(layers))


@pytest.mark.parametrize("profile", list(TOOLS))
@settings(max_examples=25)
@given(network=torch_networks())
def test_generated_networks(network: Network, profile: str) -> None:
    """2-D networks PyTorch and every tool accept (no padding "same" with an even kernel,
    adaptive output sizes that divide the input, unbiased transposed convolutions; for
    calflops, at least one parameter): each tool's total equals the count under its
    profile."""
    cost = network_cost(network)
    # calflops 0.3.2 reads the device of the first parameter after patching
    # torch.nn.functional: a parameter-free model raises and leaves the patches in place.
    assume(profile != "calflops" or cost.totals.params > 0)
    size = (network.input_shape.channels, *network.input_shape.spatial)
    expected = TOOLS[profile](lambda: to_torch(network), size)
    assert count(cost, profile).total == expected
