"""ONNX exports of random PyTorch networks, read back: PyTorch's own counts, exactly.

Hypothesis draws a small convolutional network (convolutions with every hyper-parameter,
transposed convolutions, batch norm, activations, pooling, residual additions,
concatenations, squeeze-and-excitation gates, a dense head), builds it in PyTorch, counts
it there (``sum(p.numel())``, the BatchNorm buffers, ``FlopCounterMode`` / 2), exports it
with the TorchScript exporter keeping BatchNorm (``dynamo=False``,
``training=TrainingMode.PRESERVE``, after filling every tensor with distinct random values
so that the exporter de-duplicates nothing: docs in scripts/fixtures/README.md) and checks
that `from_onnx` counts the same. Skipped when torch is not installed; few, small examples.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convcost.network import network_cost
from convcost.onnx import from_onnx, not_counted_rows
from convcost.onnxproto import parse_model

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="Failed to initialize NumPy", category=UserWarning)
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnx")  # the TorchScript exporter writes through the onnx package
    from torch import nn
    from torch.utils.flop_counter import FlopCounterMode

torch.set_num_threads(1)

pytestmark = [pytest.mark.torch]


@dataclass(frozen=True)
class Block:
    """One drawn step: its kind and the keyword arguments of its module(s)."""

    kind: str
    arguments: tuple[tuple[str, Any], ...]


def _out(size: int, kernel: int, stride: int, padding: int, dilation: int, ceil: bool) -> int:
    span = dilation * (kernel - 1) + 1
    room = size + 2 * padding - span
    if room < 0:
        return 0
    count = (-(-room // stride) if ceil else room // stride) + 1
    if ceil and (count - 1) * stride >= size + padding:
        count -= 1
    return count


@st.composite
def networks(draw: st.DrawFn) -> tuple[tuple[int, int, int], tuple[Block, ...], int | None]:
    """An input shape (C, H, W), blocks that fit it, and the classes of a dense head."""
    channels = draw(st.integers(1, 4))
    height, width = draw(st.integers(4, 11)), draw(st.integers(4, 11))
    shape = (channels, height, width)
    blocks = []
    for _ in range(draw(st.integers(1, 5))):
        c, h, w = shape
        kind = draw(
            st.sampled_from(
                ["conv", "conv", "transposed", "bn", "act", "pool", "residual", "concat", "gate"]
            )
        )
        if kind in ("conv", "transposed"):
            groups = draw(st.sampled_from([g for g in (1, 2, c) if c % g == 0]))
            out = groups * draw(st.integers(1, 3))
            kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
            stride = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
            dilation = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
            padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
            bias = draw(st.booleans())
            if kind == "conv":
                sizes = [
                    _out(s, k, st_, p, d, False)
                    for s, k, st_, p, d in zip((h, w), kernel, stride, padding, dilation)
                ]
                if min(sizes) < 1:
                    continue
                arguments = {
                    "in_channels": c,
                    "out_channels": out,
                    "kernel_size": kernel,
                    "stride": stride,
                    "padding": padding,
                    "dilation": dilation,
                    "groups": groups,
                    "bias": bias,
                }
            else:
                extra = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation))
                sizes = [
                    (s - 1) * st_ - 2 * p + d * (k - 1) + e + 1
                    for s, k, st_, p, d, e in zip((h, w), kernel, stride, padding, dilation, extra)
                ]
                if min(sizes) < 1 or max(sizes) > 24:
                    continue
                arguments = {
                    "in_channels": c,
                    "out_channels": out,
                    "kernel_size": kernel,
                    "stride": stride,
                    "padding": padding,
                    "output_padding": extra,
                    "dilation": dilation,
                    "groups": groups,
                    "bias": bias,
                }
            shape = (out, sizes[0], sizes[1])
        elif kind == "pool":
            kernel_size = draw(st.integers(2, 3))
            stride_ = draw(st.integers(1, 2))
            padding_ = draw(st.integers(0, kernel_size // 2))
            ceil = draw(st.booleans())
            sizes = [_out(s, kernel_size, stride_, padding_, 1, ceil) for s in (h, w)]
            if min(sizes) < 1:
                continue
            arguments = {
                "kernel_size": kernel_size,
                "stride": stride_,
                "padding": padding_,
                "ceil_mode": ceil,
                "maximum": draw(st.booleans()),
            }
            shape = (c, sizes[0], sizes[1])
        elif kind == "act":
            arguments = {
                "function": draw(
                    st.sampled_from(
                        [
                            "ReLU",
                            "ReLU6",
                            "Sigmoid",
                            "Hardswish",
                            "Hardsigmoid",
                            "LeakyReLU",
                            "Tanh",
                            "ELU",
                            "GELU",
                            "SiLU",
                            "Softmax",
                        ]
                    )
                )
            }
        elif kind == "bn":
            arguments = {"num_features": c}
        elif kind in ("residual", "concat"):
            out = c if kind == "residual" else draw(st.integers(1, 4))
            arguments = {
                "in_channels": c,
                "out_channels": out,
                "kernel_size": 3,
                "padding": 1,
                "bias": draw(st.booleans()),
            }
            if kind == "concat":
                shape = (c + out, h, w)
        else:  # a squeeze-and-excitation gate
            arguments = {"channels": c, "hidden": draw(st.integers(1, 4))}
        blocks.append(Block(kind, tuple(arguments.items())))
    head = draw(st.none() | st.integers(1, 5))
    return (channels, height, width), tuple(blocks), head


class Net(nn.Module):
    def __init__(self, blocks: tuple[Block, ...], head: int | None, channels: int) -> None:
        super().__init__()
        self.kinds = [block.kind for block in blocks]
        self.steps = nn.ModuleList(self._module(block) for block in blocks)
        self.head = None
        if head is not None:
            self.head = nn.Sequential(
                nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(channels, head)
            )

    @staticmethod
    def _module(block: Block) -> Any:
        arguments = dict(block.arguments)
        if block.kind in ("conv", "residual", "concat"):
            return nn.Conv2d(**arguments)
        if block.kind == "transposed":
            return nn.ConvTranspose2d(**arguments)
        if block.kind == "bn":
            return nn.BatchNorm2d(**arguments)
        if block.kind == "act":
            function = arguments["function"]
            return nn.Softmax(dim=1) if function == "Softmax" else getattr(nn, function)()
        if block.kind == "pool":
            kind = nn.MaxPool2d if arguments.pop("maximum") else nn.AvgPool2d
            return kind(**arguments)
        channels, hidden = arguments["channels"], arguments["hidden"]
        return nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(channels, hidden, 1),
            nn.ReLU(),
            nn.Conv2d(hidden, channels, 1),
            nn.Sigmoid(),
        )

    def forward(self, x: Any) -> Any:
        for kind, step in zip(self.kinds, self.steps):
            if kind == "residual":
                x = x + step(x)
            elif kind == "concat":
                x = torch.cat([x, step(x)], dim=1)
            elif kind == "gate":
                x = x * step(x)
            else:
                x = step(x)
        return x if self.head is None else self.head(x)


def export(model: Any, shape: tuple[int, int, int]) -> bytes:
    generator = torch.Generator().manual_seed(20261101)
    with torch.no_grad():  # distinct values: the exporter would share equal tensors
        for name, tensor in [*model.named_parameters(), *model.named_buffers()]:
            if tensor.is_floating_point():
                values = torch.randn(tensor.shape, generator=generator)
                tensor.copy_(values.abs() + 0.5 if name.endswith("running_var") else values)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter is deprecated; PRESERVE
        torch.onnx.export(
            model,
            (torch.zeros(1, *shape),),
            buffer,
            dynamo=False,
            training=torch.onnx.TrainingMode.PRESERVE,
            opset_version=17,
            input_names=["input"],
            output_names=["output"],
        )
    return buffer.getvalue()


@settings(max_examples=25, suppress_health_check=[HealthCheck.too_slow])
@given(networks())
def test_a_random_export_counts_what_pytorch_counts(
    drawn: tuple[tuple[int, int, int], tuple[Block, ...], int | None],
) -> None:
    shape, blocks, head = drawn
    channels = shape[0]
    for block in blocks:  # the channels reaching the head
        arguments = dict(block.arguments)
        if block.kind in ("conv", "transposed"):
            channels = arguments["out_channels"]
        elif block.kind == "concat":
            channels += arguments["out_channels"]
    model = Net(blocks, head, channels).eval()
    params = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for n, b in model.named_buffers() if "num_batches" not in n)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        output = model(torch.zeros(1, *shape))
    network = from_onnx(parse_model(export(model, shape)))
    cost = network_cost(network)
    assert cost.totals.params == params
    assert cost.totals.non_trainable_params == buffers
    assert 2 * cost.totals.macs == counter.get_total_flops()
    assert (cost.output_shape.channels, *cost.output_shape.spatial) == tuple(output.shape[1:])
    assert not not_counted_rows(cost)
