"""The presets against the real models: PyTorch, and torchvision where it is installed.

Each test builds the reference model with weights=None, runs one image through it in eval
mode on PyTorch's meta device (shapes only), and compares, layer for layer, what convcost
computed from shapes alone: parameters (`parameters()`), batch-norm running statistics
(buffers), output shapes and multiply-accumulates (`FlopCounterMode` counts 2 FLOPs per
MAC and no bias).

torch alone checks the networks written here from their papers (seed 000's VGG-block model,
MobileNet v1 as in its Table 1); torchvision checks ResNet, VGG-16 and MobileNetV2.
Without torch (or torchvision) these tests are skipped.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import pytest

from convcost.layers import BatchNorm, Conv, DepthwiseSeparableConv, Linear
from convcost.network import NetworkCost, network_cost
from convcost.presets import build_preset

torch = pytest.importorskip("torch")
nn = torch.nn

pytestmark = pytest.mark.torch

Record = tuple[str, tuple[int, ...], int]  # kind, output shape (C, H, W), parameters


def measure(model: Any, resolution: int) -> tuple[list[Record], int, int, int]:
    """Per-layer records of conv, linear and BN calls; params, BN buffers and MACs."""
    from torch.utils.flop_counter import FlopCounterMode

    records: list[Record] = []

    def hook(module: Any, inputs: Any, output: Any) -> None:
        kind = {nn.Conv2d: "conv", nn.Linear: "linear", nn.BatchNorm2d: "norm"}[type(module)]
        count = sum(p.numel() for p in module.parameters())
        records.append((kind, tuple(output.shape[1:]), count))

    handles = [
        module.register_forward_hook(hook)
        for module in model.modules()
        if type(module) in (nn.Conv2d, nn.Linear, nn.BatchNorm2d)
    ]
    model.eval()
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(torch.zeros(1, 3, resolution, resolution, device="meta"))
    for handle in handles:
        handle.remove()
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(
        b.numel()
        for name, b in model.named_buffers()
        if name.endswith(("running_mean", "running_var"))
    )
    flops = counter.get_total_flops()
    assert flops % 2 == 0
    return records, params, buffers, flops // 2


def convcost_records(cost: NetworkCost) -> list[Record]:
    """The same records from convcost's rows (a separable layer is its two convolutions)."""
    records: list[Record] = []
    for row in cost.rows:
        layer = row.cost.layer
        parts = row.cost.parts if isinstance(layer, DepthwiseSeparableConv) else (row.cost,)
        for part in parts:
            shape = (part.output_shape.channels, *part.output_shape.spatial)
            if isinstance(part.layer, Conv):
                records.append(("conv", shape, part.params))
            elif isinstance(part.layer, Linear):
                records.append(("linear", shape, part.params))
            elif isinstance(part.layer, BatchNorm):
                records.append(("norm", shape, part.params))
    return records


def check(build: Any, name: str, resolution: int, **parameters: Any) -> None:
    """Compare `build()`'s model, made on the meta device (shapes only, no arithmetic)."""
    with torch.device("meta"):
        model = build()
    records, params, buffers, macs = measure(model, resolution)
    cost = network_cost(build_preset(name, resolution=resolution, **parameters))
    assert convcost_records(cost) == records
    assert cost.totals.params == params
    assert cost.totals.non_trainable_params == buffers
    assert cost.totals.macs == macs


# --- torch only: networks written here from their papers ------------------------------


def _vgg_cifar(separable: bool, classes: int, resolution: int) -> Any:
    layers: list[Any] = []
    channels = 3
    for width in (64, 128, 256):
        for _ in range(2):
            if separable:  # Keras SeparableConv2D: depthwise without bias, biased pointwise
                layers += [
                    nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False),
                    nn.Conv2d(channels, width, 1),
                ]
            else:
                layers.append(nn.Conv2d(channels, width, 3, padding=1))
            layers.append(nn.ReLU())
            channels = width
        layers.append(nn.MaxPool2d(2))
    features = 256 * (resolution // 8) ** 2
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(features, classes), nn.Softmax(dim=1))


@pytest.mark.parametrize("separable", [False, True], ids=["conv2d", "separableconv2d"])
@pytest.mark.parametrize(("resolution", "classes"), [(32, 10), (48, 100)])
def test_vgg_cifar_against_torch(separable: bool, resolution: int, classes: int) -> None:
    model = partial(_vgg_cifar, separable, classes, resolution)
    check(model, "vgg-cifar", resolution, separable=separable, classes=classes)


def _mobilenet_v1(alpha: float, classes: int, shallow: bool, conv_head: bool) -> Any:
    """Table 1 of Howard et al. (last depthwise stride 1), BN + ReLU after every conv.

    The classifier is a dense layer, or (`conv_head`, as in Keras) a biased 1×1 convolution.
    """

    def conv_bn(c_in: int, c_out: int, kernel: int, stride: int, groups: int = 1) -> list[Any]:
        conv = nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, groups=groups, bias=False)
        return [conv, nn.BatchNorm2d(c_out), nn.ReLU()]

    body = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2)]
    body += [] if shallow else [(512, 1)] * 5
    body += [(1024, 2), (1024, 1)]
    channels = int(32 * alpha)
    layers = conv_bn(3, channels, 3, 2)
    for filters, stride in body:
        out = int(filters * alpha)
        layers += conv_bn(channels, channels, 3, stride, groups=channels)
        layers += conv_bn(channels, out, 1, 1)
        channels = out
    if conv_head:
        head = [nn.AdaptiveAvgPool2d(1), nn.Conv2d(channels, classes, 1), nn.Flatten()]
    else:
        head = [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, classes)]
    return nn.Sequential(*layers, *head)


@pytest.mark.parametrize(
    ("width", "resolution", "classes", "shallow"),
    [
        (1.0, 224, 1000, False),
        (0.75, 192, 1000, False),
        (0.5, 160, 120, False),
        (0.25, 128, 1000, False),
        (1.0, 224, 1000, True),
    ],
)
def test_mobilenet_v1_against_torch(
    width: float, resolution: int, classes: int, shallow: bool
) -> None:
    """Both styles against the paper's network (even resolutions: TF 'same' = padding 1)."""
    for style in ("paper", "keras"):
        model = partial(_mobilenet_v1, width, classes, shallow, conv_head=style == "keras")
        check(
            model,
            "mobilenet-v1",
            resolution,
            width=width,
            classes=classes,
            shallow=shallow,
            style=style,
        )


# --- torchvision ---------------------------------------------------------------------

TORCHVISION = [
    pytest.param("resnet18", "resnet18", {}, 224, id="resnet18"),
    pytest.param("resnet50", "resnet50", {}, 224, id="resnet50"),
    pytest.param("vgg16", "vgg16", {}, 224, id="vgg16"),
    pytest.param("mobilenet_v2", "mobilenet-v2", {}, 224, id="mobilenet_v2"),
    pytest.param("resnet18", "resnet18", {"classes": 10}, 160, id="resnet18-160-10"),
    pytest.param("resnet50", "resnet50", {"classes": 10}, 97, id="resnet50-97-odd"),
    pytest.param("vgg16", "vgg16", {"classes": 10}, 256, id="vgg16-256-10"),
    pytest.param("mobilenet_v2", "mobilenet-v2", {"width": 0.5}, 160, id="mobilenet_v2-0.5-160"),
    pytest.param("mobilenet_v2", "mobilenet-v2", {"width": 1.4}, 224, id="mobilenet_v2-1.4"),
    pytest.param("mobilenet_v2", "mobilenet-v2", {"width": 0.35}, 99, id="mobilenet_v2-0.35-99"),
]


@pytest.mark.parametrize(("model", "preset", "parameters", "resolution"), TORCHVISION)
def test_against_torchvision(
    model: str, preset: str, parameters: dict[str, Any], resolution: int
) -> None:
    torchvision = pytest.importorskip("torchvision")
    options: dict[str, Any] = {"weights": None, "num_classes": parameters.get("classes", 1000)}
    if "width" in parameters:
        options["width_mult"] = parameters["width"]
    reference = partial(getattr(torchvision.models, model), **options)
    check(reference, preset, resolution, **parameters)
