"""The `convcost` command line: parse → compute → render. The only module that exits.

Exit codes, written down once: 0 success; 2 any bad input (a usage error, a bad value, a
bad spec file); 1 only for a failure that is not the user's.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, TypeVar

import click

from convcost import __version__
from convcost.errors import ConvCostError

if TYPE_CHECKING:
    from convcost.layers import BiasConvention
    from convcost.network import Family

EXIT_OK: Final = 0
EXIT_BUG: Final = 1
EXIT_BAD_INPUT: Final = 2

FAMILY_NAMES: Final[dict[str, str]] = {
    "regular": "regular",
    "spatial": "spatially_separable",
    "spatially_separable": "spatially_separable",
    "depthwise": "depthwise_separable",
    "depthwise_separable": "depthwise_separable",
}
FORMAT_CHOICES: Final = (
    "rich", "plain", "markdown", "github", "latex", "rst", "html", "csv", "json"
)  # fmt: skip

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str) -> None:
    """Print one line on stderr and exit 2: the user's input was wrong."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def reports_errors(command: F) -> F:
    """Turn a `ConvCostError` into one line on stderr and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ConvCostError as error:
            fail(str(error))

    return wrapper  # type: ignore[return-value]


class ShapeType(click.ParamType):  # type: ignore[type-arg]
    """A feature-map shape such as ``16x128x128`` (C×H×W) or ``hwc:128x128x16``."""

    name = "SHAPE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from convcost.shapes import Shape, parse_shape

        if isinstance(value, Shape):
            return value
        channels_last = bool(ctx and ctx.params.get("channels_last"))
        try:
            return parse_shape(value, channels_last=channels_last)
        except ConvCostError as error:
            self.fail(str(error), param, ctx)


class FamiliesType(click.ParamType):  # type: ignore[type-arg]
    """A comma-separated list of families: regular, spatial, depthwise."""

    name = "FAMILIES"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        names = [name.strip().replace("-", "_") for name in str(value).split(",") if name.strip()]
        unknown = [name for name in names if name not in FAMILY_NAMES]
        if unknown or not names:
            self.fail(
                f"{value!r}: choose from regular, spatial, depthwise (comma-separated)",
                param,
                ctx,
            )
        return tuple(dict.fromkeys(FAMILY_NAMES[name] for name in names))


def size_option(*names: str, help: str, default: int, minimum: int = 1) -> Callable[[F], F]:
    return click.option(
        *names, type=click.IntRange(min=minimum), default=default, show_default=True, help=help
    )


def format_option(command: F) -> F:
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(FORMAT_CHOICES),
        default=None,
        help="Output format [default: rich in a terminal, plain otherwise or with NO_COLOR].",
    )(command)


def common_count_options(command: F) -> F:
    """Options shared by the commands that print counts."""
    for option in reversed(
        [
            click.option("--exact", is_flag=True, help="Full integers instead of K/M/G units."),
            click.option("--flops", is_flag=True, help="Show FLOPs (2 × MACs) beside MACs."),
            click.option(
                "--flops-bias",
                is_flag=True,
                help="Count one FLOP per bias addition too (with --flops).",
            ),
            format_option,
        ]
    ):
        command = option(command)
    return command


def resolve_format(output_format: str | None) -> str:
    if output_format:
        return output_format
    if sys.stdout.isatty() and not os.environ.get("NO_COLOR"):
        return "rich"
    return "plain"


def emit_tables(tables: Any, output_format: str, document: Callable[[], dict[str, Any]]) -> None:
    """Write tables (or the JSON document) to stdout in the chosen format."""
    from convcost import render

    if output_format == "json":
        click.echo(render.render_json(document()), nl=False)
    elif output_format == "rich":
        from rich.console import Console

        width = min(Console().width, 100)
        render.render_rich(tables, Console(width=width, highlight=False))
    else:
        click.echo(render.render_text(tables, output_format), nl=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "-V", "--version", prog_name="convcost")
def main() -> None:
    """What does this convolution, or this whole network, cost?

    Exact parameter and multiply-accumulate (MAC) counts for regular, spatially
    separable and depthwise separable convolutions, from shapes alone.

    \b
    Examples:
      convcost compare                      # seed 001's halve/double pyramid
      convcost compare --stages 5 --format markdown
      convcost layer 3x15x15 --out 10 -k 3 --explain
    """


PYRAMID_DEFAULT_INPUT: Final = "64x128x128"


@main.command()
@click.option(
    "--input", "input_shape", type=ShapeType(), default=PYRAMID_DEFAULT_INPUT, show_default=True,
    help="Input shape, C×H×W (or hwc:H×W×C).",
)  # fmt: skip
@click.option("--channels-last", is_flag=True, is_eager=True, help="Read --input as H×W×C.")
@size_option(
    "--base-channels", help="Channels of the first stage (doubled each stage).", default=128
)
@size_option("--stages", help="Number of stages (resolution halves after each).", default=4)
@size_option("--convs-per-stage", help="Convolutions per stage.", default=1)
@size_option("-k", "--kernel", help="Kernel size k (k×k).", default=3)
@click.option(
    "--downsample", type=click.Choice(["pool", "stride"]), default="pool", show_default=True,
    help="Halve resolution by 2×2 max pooling after each stage, or by stride 2.",
)  # fmt: skip
@click.option("--batch-norm", is_flag=True, help="Batch norm after each convolution.")
@click.option(
    "--head", type=click.Choice(["none", "global", "flatten"]), default="none", show_default=True,
    help="Classifier head: global average pooling or flatten, then dense.",
)  # fmt: skip
@size_option("--classes", help="Classes of the dense head.", default=1000)
@click.option(
    "--families", type=FamiliesType(), default="regular,spatial,depthwise", show_default=True,
    help="Families to compare (regular is always shown).",
)  # fmt: skip
@click.option(
    "--bias", type=click.Choice(["none", "pointwise", "both"]), default="none", show_default=True,
    help="Biases: none; pointwise (one per separable layer, Keras SeparableConv2D); "
    "both (one per part, two biased PyTorch convs). Regular convs are biased unless none.",
)  # fmt: skip
@click.option("--keep-first", is_flag=True, help="Keep the first convolution regular (MobileNet).")
@click.option("--layers", "by_layer", is_flag=True, help="One row per layer instead of per stage.")
@common_count_options
@reports_errors
def compare(
    input_shape: Any,
    channels_last: bool,
    base_channels: int,
    stages: int,
    convs_per_stage: int,
    kernel: int,
    downsample: str,
    batch_norm: bool,
    head: str,
    classes: int,
    families: tuple[Family, ...],
    bias: BiasConvention,
    keep_first: bool,
    by_layer: bool,
    exact: bool,
    flops: bool,
    flops_bias: bool,
    output_format: str | None,
) -> None:
    """Compare convolution families across a network, per stage and in total.

    With no arguments: seed 001's setting, a 64×128×128 input and four stages of one 3×3
    convolution each, halving resolution and doubling channels (64→128→256→512→1024).

    \b
    Examples:
      convcost compare
      convcost compare --input 3x224x224 --base-channels 32 --stages 5
      convcost compare --convs-per-stage 2 --downsample stride --layers --exact
      convcost compare --families depthwise --format latex
      convcost compare --format json | jq '.ratios_to_regular'
    """
    from convcost.builders import pyramid
    from convcost.network import compare as compare_families
    from convcost.report import comparison_document, comparison_tables

    network = pyramid(
        input_shape=input_shape,
        base_channels=base_channels,
        stages=stages,
        convs_per_stage=convs_per_stage,
        kernel_size=kernel,
        downsample=downsample,  # type: ignore[arg-type]
        bias=bias != "none",
        batch_norm=batch_norm,
        head=head,  # type: ignore[arg-type]
        classes=classes,
    )
    comparison = compare_families(network, families, bias=bias, keep_first=keep_first)
    output_format = resolve_format(output_format)
    metrics: tuple[Any, ...] = ("params", "macs", "flops") if flops else ("params", "macs")
    tables = comparison_tables(
        comparison,
        metrics=metrics,
        by_group=not by_layer,
        exact=exact or output_format == "csv",
        count_bias=flops_bias,
        bias=bias,
    )
    emit_tables(
        tables,
        output_format,
        lambda: comparison_document(comparison, count_bias=flops_bias, bias=bias),
    )


@main.command()
@click.argument("input_shape", metavar="INPUT", type=ShapeType())
@click.option("--channels-last", is_flag=True, is_eager=True, help="Read INPUT as H×W×C.")
@size_option("-o", "--out", "out_channels", help="Output channels N.", default=1)
@click.option("-k", "--kernel", default="3", show_default=True, help="Kernel size: k or kh,kw.")
@click.option("-s", "--stride", default="1", show_default=True, help="Stride: s or sh,sw.")
@click.option(
    "-p", "--padding", default="0", show_default=True,
    help="Padding: valid, same, same-pytorch, p, or ph,pw.",
)  # fmt: skip
@click.option("-d", "--dilation", default="1", show_default=True, help="Dilation: d or dh,dw.")
@size_option("-g", "--groups", help="Groups of the regular convolution.", default=1)
@size_option("--depth-multiplier", help="Depth multiplier of the depthwise part.", default=1)
@click.option("--mid-channels", type=click.IntRange(min=1), default=None,
              help="Channels between the k×1 and 1×k parts [default: N].")  # fmt: skip
@click.option(
    "--bias", type=click.Choice(["none", "pointwise", "both"]), default="none", show_default=True,
    help="none; pointwise (Keras SeparableConv2D); both (a bias on every part).",
)  # fmt: skip
@click.option("--explain", is_flag=True, help="Print every formula with the numbers substituted.")
@common_count_options
@reports_errors
def layer(
    input_shape: Any,
    channels_last: bool,
    out_channels: int,
    kernel: str,
    stride: str,
    padding: str,
    dilation: str,
    groups: int,
    depth_multiplier: int,
    mid_channels: int | None,
    bias: str,
    explain: bool,
    exact: bool,
    flops: bool,
    flops_bias: bool,
    output_format: str | None,
) -> None:
    """One convolution in the three families, side by side.

    \b
    Examples:
      convcost layer 3x15x15 --out 10 -k 3 --explain        # seed 002: 45,630 vs 9,633
      convcost layer 16x128x128 -o 32 -k 3 -p same           # seed 001: 75.50M vs 10.75M
      convcost layer hwc:32x32x3 -o 64 -k 3 --bias both      # seed 000: 1,792 vs 286
    """
    from convcost.costs import layer_cost
    from convcost.layers import Conv, DepthwiseSeparableConv, Layer, SpatiallySeparableConv
    from convcost.report import explain as explain_cost
    from convcost.report import layer_document, layer_table

    sizes = {
        "kernel": int_or_pair("--kernel", kernel),
        "stride": int_or_pair("--stride", stride),
        "dilation": int_or_pair("--dilation", dilation),
    }
    pad = (
        padding
        if padding in ("valid", "same", "same-pytorch")
        else int_or_pair("--padding", padding, minimum=0)
    )
    window: dict[str, Any] = {
        "kernel_size": sizes["kernel"],
        "stride": sizes["stride"],
        "dilation": sizes["dilation"],
        "padding": pad,
        "out_channels": out_channels,
    }
    layers: dict[str, Layer] = {
        "regular": Conv(**window, groups=groups, bias=bias != "none"),
        "spatially_separable": SpatiallySeparableConv(
            **window,
            mid_channels=mid_channels,
            bias=bias,  # type: ignore[arg-type]
        ),
        "depthwise_separable": DepthwiseSeparableConv(
            **window,
            depth_multiplier=depth_multiplier,
            bias=bias,  # type: ignore[arg-type]
        ),
    }
    costs: dict[Any, Any] = {}
    for family, spec in layers.items():
        try:
            costs[family] = layer_cost(spec, input_shape)
        except ConvCostError as error:
            if family == "spatially_separable" and input_shape.ndim < 2:
                continue  # a 1-D convolution has no spatial factorisation
            raise ConvCostError(f"{family.replace('_', ' ')}: {error}") from error
    output_format = resolve_format(output_format)
    table = layer_table(costs, exact=exact or output_format == "csv", count_bias=flops_bias)
    emit_tables((table,), output_format, lambda: layer_document(costs, count_bias=flops_bias))
    if explain and output_format != "json":
        click.echo()
        for cost in costs.values():
            click.echo("\n".join(explain_cost(cost)))
            click.echo()


def int_or_pair(option: str, text: str, *, minimum: int = 1) -> int | tuple[int, ...]:
    """``"3"`` → 3; ``"3,1"`` → (3, 1); anything else is a usage error naming the option."""
    pieces = [piece.strip() for piece in text.split(",")]
    try:
        values = tuple(int(piece) for piece in pieces)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an integer or a comma-separated list", param_hint=option
        ) from None
    if any(value < minimum for value in values):
        raise click.BadParameter(f"{text!r}: values must be >= {minimum}", param_hint=option)
    return values[0] if len(values) == 1 else values


if __name__ == "__main__":  # pragma: no cover
    main()
