"""The `convcost` command line: parse → compute → render. The only module that exits.

Exit codes, written down once: 0 success; 2 any bad input (a usage error, a bad value, a
bad spec file); 1 only for a failure that is not the user's.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, TypeVar

import click

from convcost import __version__
from convcost.errors import ConvCostError
from convcost.render import FORMATS  # the module imports rich and tabulate only when drawing

if TYPE_CHECKING:
    from convcost.layers import BiasConvention
    from convcost.network import Family, Network

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

F = TypeVar("F", bound=Callable[..., Any])


def one_line(message: str) -> str:
    """A message as one line: line breaks inside user-given values are shown escaped."""
    return message.replace("\r", "\\r").replace("\n", "\\n")


def fail(message: str) -> None:
    """Print one line on stderr and exit 2: the user's input was wrong."""
    click.echo(f"Error: {one_line(message)}", err=True)
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
        type=click.Choice(FORMATS),
        default=None,
        help="Output format [default: rich in a terminal, plain otherwise or with NO_COLOR].",
    )(command)


def common_count_options(command: F) -> F:
    """Options shared by the commands that print counts."""
    for option in reversed(
        [
            click.option("--exact", is_flag=True, help="Full integers instead of K/M/G units."),
            click.option("--flops", is_flag=True, help="Show FLOPs (2 × MACs) beside MACs."),
            click.option("--flops-only", is_flag=True, help="Show FLOPs instead of MACs."),
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


def count_metrics(flops: bool, flops_only: bool) -> tuple[Any, ...]:
    """Parameters and MACs; with --flops FLOPs beside, with --flops-only instead of MACs."""
    if flops_only:
        return ("params", "flops")
    return ("params", "macs", "flops") if flops else ("params", "macs")


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

        console = Console(highlight=False)
        if not console.is_terminal or console.width > 100:
            console = Console(highlight=False, width=100)  # fits 100 columns, also in a pipe
        render.render_rich(tables, console)
    else:
        click.echo(render.render_text(tables, output_format), nl=False)


# click 8.2+ raises this for a bare `convcost`; older versions print the help themselves.
NO_ARGS_IS_HELP: Final = getattr(click.exceptions, "NoArgsIsHelpError", ())


class Commands(click.Group):
    """convcost's group: a usage error is one line on stderr, as every bad input is."""

    def main(
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, False, **extra)
        except click.ClickException as error:
            context = getattr(error, "ctx", None)
            if isinstance(error, NO_ARGS_IS_HELP) and context is not None:
                click.echo(context.get_help())  # `convcost` alone: the help, not an error
                sys.exit(EXIT_OK)
            hint = f" (see '{context.command_path} --help')" if context else ""
            click.echo(f"Error: {one_line(error.format_message())}{hint}", err=True)
            sys.exit(error.exit_code)
        except click.Abort:
            click.echo("Aborted!", err=True)
            sys.exit(EXIT_BUG)
        sys.exit(result if isinstance(result, int) else EXIT_OK)


@click.group(
    cls=Commands,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
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
PYRAMID_OPTIONS: Final = (
    "input_shape", "channels_last", "base_channels", "stages", "convs_per_stage", "kernel",
    "downsample", "batch_norm", "head",
)  # fmt: skip
SPEC_SUFFIXES: Final = (".toml", ".json", ".yaml", ".yml")


def parse_parameter(text: str) -> tuple[str, str]:
    name, separator, value = text.partition("=")
    if not separator or not name.strip():
        raise click.BadParameter(f"{text!r}: write NAME=VALUE", param_hint="'--param'")
    return name.strip().replace("-", "_"), value.strip()


def preset_value(kind: type, text: str) -> object:
    """Read a ``--param`` value as the preset parameter's type."""
    if kind is bool:
        lowered = text.lower()
        if lowered in ("true", "yes", "on", "1"):
            return True
        if lowered in ("false", "no", "off", "0"):
            return False
        raise ConvCostError(f"expected true or false, got {text!r}")
    if kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            raise ConvCostError(
                f"expected {'an integer' if kind is int else 'a number'}, got {text!r}"
            ) from None
    return text


def load_network(
    source: str,
    *,
    width: float | None,
    resolution: int | None,
    classes: int | None,
    raw: tuple[str, ...],
) -> Network:
    """A spec file (by suffix or existing path) or a preset with its parameters: the common
    ones by option (None when not given), any other as ``--param NAME=VALUE``."""
    given: dict[str, object] = {"width": width, "resolution": resolution, "classes": classes}
    parameters = {name: value for name, value in given.items() if value is not None}
    from pathlib import Path

    from convcost.presets import PRESETS, build_preset, get_preset

    path = Path(source)
    if path.suffix.lower() in SPEC_SUFFIXES or (source not in PRESETS and path.exists()):
        if parameters or raw:
            raise ConvCostError(f"preset parameters do not apply to the spec file {source}")
        from convcost.specs import load_spec

        return load_spec(path)

    try:
        preset = get_preset(source)
    except ConvCostError as error:
        raise ConvCostError(f"{error}; or give a spec file ({', '.join(SPEC_SUFFIXES)})") from error
    values = dict(parameters)
    for text in raw:
        name, value = parse_parameter(text)
        kind = preset.parameter(name).type  # an unknown name raises, naming the valid ones
        try:
            values[name] = preset_value(kind, value)
        except ConvCostError as error:
            raise ConvCostError(f"--param {name}: {error}") from error
    return build_preset(source, **values)


def network_options(command: F) -> F:
    """NETWORK (a preset or spec file) and the preset parameters every preset may take."""
    for option in reversed(
        [
            click.option(
                "--width", type=float, default=None,
                help="Width multiplier α of a preset (e.g. mobilenet-v1 --width 0.5).",
            ),
            click.option(
                "--resolution", type=click.IntRange(min=1), default=None,
                help="Input resolution of a preset.",
            ),
            click.option(
                "--param", "raw_parameters", multiple=True, metavar="NAME=VALUE",
                help="Any other preset parameter (repeatable), e.g. --param shallow=true.",
            ),
        ]
    ):  # fmt: skip
        command = option(command)
    return command


def explicitly_given(ctx: click.Context, names: tuple[str, ...]) -> list[str]:
    from click.core import ParameterSource

    return [name for name in names if ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE]


def option_name(ctx: click.Context, name: str) -> str:
    """The longest flag of parameter `name`, as the user types it (``--input``)."""
    for param in ctx.command.params:
        if param.name == name:
            return max(param.opts, key=len)
    return name


def convention_option(command: F) -> F:
    return click.option(
        "--convention",
        default="paper",
        show_default=True,
        help="Counting profile for the MACs column (see `convcost conventions`).",
    )(command)


@main.command()
@click.argument("network_source", metavar="[NETWORK]", required=False)
@click.option(
    "--input", "input_shape", type=ShapeType(), default=PYRAMID_DEFAULT_INPUT, show_default=True,
    help="Pyramid input shape, C×H×W (or hwc:H×W×C).",
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
@click.option(
    "--classes", type=click.IntRange(min=1), default=None,
    help="Classes of the dense head (pyramid: 1000) or of a preset.",
)  # fmt: skip
@network_options
@click.option(
    "--families", type=FamiliesType(), default="regular,spatial,depthwise", show_default=True,
    help="Families to compare (regular is always shown).",
)  # fmt: skip
@click.option(
    "--bias", type=click.Choice(["none", "pointwise", "both"]), default=None,
    help="Biases: none; pointwise (one per separable layer, Keras SeparableConv2D); both (one "
    "per part, two biased PyTorch convs). [default: none for the pyramid, pointwise otherwise]",
)  # fmt: skip
@click.option("--keep-first", is_flag=True, help="Keep the first convolution regular (MobileNet).")
@click.option("--layers", "by_layer", is_flag=True, help="One row per layer instead of per stage.")
@click.option("--by-type", is_flag=True, help="MACs and params per layer type, per family.")
@convention_option
@common_count_options
@click.pass_context
@reports_errors
def compare(
    ctx: click.Context,
    network_source: str | None,
    input_shape: Any,
    channels_last: bool,
    base_channels: int,
    stages: int,
    convs_per_stage: int,
    kernel: int,
    downsample: str,
    batch_norm: bool,
    head: str,
    classes: int | None,
    width: float | None,
    resolution: int | None,
    raw_parameters: tuple[str, ...],
    families: tuple[Family, ...],
    bias: BiasConvention | None,
    keep_first: bool,
    by_layer: bool,
    by_type: bool,
    convention: str,
    exact: bool,
    flops: bool,
    flops_only: bool,
    flops_bias: bool,
    output_format: str | None,
) -> None:
    """Compare convolution families across a network, per stage and in total.

    NETWORK is a preset (see `convcost presets`) or a spec file (.toml, .json, .yaml); every
    regular k×k convolution is rewritten into each family. Without NETWORK: the built-in
    pyramid, by default seed 001's setting: a 64×128×128 input and four stages of one 3×3
    convolution each, halving resolution and doubling channels (64→128→256→512→1024).

    \b
    Examples:
      convcost compare
      convcost compare --input 3x224x224 --base-channels 32 --stages 5
      convcost compare --convs-per-stage 2 --downsample stride --layers --exact
      convcost compare --families depthwise --format latex
      convcost compare mobilenet-v1 --width 0.5 --keep-first
      convcost compare my-net.toml --format json
    """
    from convcost.builders import pyramid
    from convcost.network import compare as compare_families
    from convcost.report import by_kind_table, comparison_document, comparison_tables

    if network_source is None:
        if width is not None or resolution is not None or raw_parameters:
            raise ConvCostError("--width, --resolution and --param need a NETWORK preset")
        if classes is not None and head == "none":
            raise ConvCostError(f"--classes {classes} needs a classifier: add --head global")
        bias = bias or "none"
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
            classes=classes or 1000,
        )
    else:
        pyramid_only = explicitly_given(ctx, PYRAMID_OPTIONS)
        if pyramid_only:
            names = " and ".join(option_name(ctx, name) for name in pyramid_only)
            verb = "shapes" if len(pyramid_only) == 1 else "shape"
            raise ConvCostError(f"{names} {verb} the built-in pyramid, not a NETWORK")
        bias = bias or "pointwise"
        network = load_network(
            network_source, width=width, resolution=resolution, classes=classes, raw=raw_parameters
        )
    from dataclasses import replace

    if network.input_shape.ndim < 2 and not explicitly_given(ctx, ("families",)):
        # 1-D inputs have no spatial factorisation; leave that family out unless asked.
        families = tuple(family for family in families if family != "spatially_separable")
    comparison = compare_families(network, families, bias=bias, keep_first=keep_first)

    def counted_by_convention() -> tuple[Any, dict[str, Any]]:
        from convcost.conventions import count

        profile = resolve_profile(convention)
        return profile, {
            family: count(cost, profile)
            for family, cost in zip(comparison.families, comparison.costs)
        }

    output_format = resolve_format(output_format)
    metrics = count_metrics(flops, flops_only)
    exact = exact or output_format == "csv"
    tables = comparison_tables(
        comparison,
        metrics=metrics,
        by_group=not by_layer,
        exact=exact,
        count_bias=flops_bias,
        bias=bias,
    )
    if convention != "paper":  # the notes already define paper's MACs; others get a line
        profile, counted = counted_by_convention()
        line = (
            f"The tables count MACs as papers do; counted with {profile_title(profile)}, "
            "the totals are: "
            + ", ".join(
                f"{family.replace('_', ' ')} {result.total:,}" for family, result in counted.items()
            )
        )
        tables = tuple(replace(table, notes=(*table.notes, line)) for table in tables)
    if by_type:
        tables += tuple(
            by_kind_table(
                cost, exact=exact, title=f"{family.replace('_', ' ').capitalize()}: by layer type"
            )
            for family, cost in zip(comparison.families, comparison.costs)
        )

    def document() -> dict[str, Any]:
        data = comparison_document(comparison, count_bias=flops_bias, bias=bias)
        profile, counted = counted_by_convention()
        data["convention"] = {
            family: profile_document(profile, result) for family, result in counted.items()
        }
        return data

    emit_tables(tables, output_format, document)


@main.command()
@click.argument("input_shape", metavar="INPUT", type=ShapeType())
@click.option("--channels-last", is_flag=True, is_eager=True, help="Read INPUT as H×W×C.")
@click.option(
    "-o", "--out", "out_channels", type=click.IntRange(min=1), required=True,
    help="Output channels N.",
)  # fmt: skip
@click.option("-k", "--kernel", default="3", show_default=True, help="Kernel size: k or kh,kw.")
@click.option("-s", "--stride", default="1", show_default=True, help="Stride: s or sh,sw.")
@click.option(
    "-p", "--padding", default="0", show_default=True,
    help="Padding: valid, same, same-pytorch, p, ph,pw, or per side 0:1,0:1.",
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
    flops_only: bool,
    flops_bias: bool,
    output_format: str | None,
) -> None:
    """One convolution in the three families, side by side.

    \b
    Examples:
      convcost layer 3x15x15 --out 10 -k 3 --explain        # seed 002: 45,630 vs 9,633
      convcost layer 16x128x128 -o 32 -k 3 -p same           # seed 001: 75.50M vs 10.75M
      convcost layer hwc:32x32x3 -o 64 -k 3 --bias both --exact  # seed 000: 1,792 vs 286
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
    pad = padding if padding in ("valid", "same", "same-pytorch") else padding_option(padding)
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
    table = layer_table(
        costs,
        exact=exact or output_format == "csv",
        count_bias=flops_bias,
        tree=output_format in ("rich", "plain"),
        bias=bias,
        metrics=count_metrics(flops, flops_only),
    )
    emit_tables(
        (table,), output_format, lambda: layer_document(costs, count_bias=flops_bias, bias=bias)
    )
    if explain and output_format not in ("json", "csv"):
        lines = [line for cost in costs.values() for line in (*explain_cost(cost), "")]
        click.echo(explanation_block(lines, output_format), nl=False)


@main.command()
@click.argument("network_source", metavar="NETWORK")
@network_options
@click.option("--classes", type=click.IntRange(min=1), default=None, help="Classes of a preset.")
@click.option(
    "--family", type=click.Choice(["regular", "spatial", "depthwise"]), default="regular",
    show_default=True, help="Rewrite the regular k×k convolutions into this family first.",
)  # fmt: skip
@click.option(
    "--bias", type=click.Choice(["none", "pointwise", "both"]), default="pointwise",
    show_default=True, help="Bias convention of rewritten separable layers.",
)  # fmt: skip
@click.option("--keep-first", is_flag=True, help="Keep the first convolution regular.")
@click.option("--by-type", is_flag=True, help="Also MACs and params per layer type.")
@convention_option
@common_count_options
@reports_errors
def summary(
    network_source: str,
    width: float | None,
    resolution: int | None,
    raw_parameters: tuple[str, ...],
    classes: int | None,
    family: str,
    bias: BiasConvention,
    keep_first: bool,
    by_type: bool,
    convention: str,
    exact: bool,
    flops: bool,
    flops_only: bool,
    flops_bias: bool,
    output_format: str | None,
) -> None:
    """One network layer by layer, as torchinfo and Keras summaries show it.

    NETWORK is a preset (see `convcost presets`) or a spec file (.toml, .json, .yaml).

    \b
    Examples:
      convcost summary resnet18
      convcost summary mobilenet-v1 --width 0.75 --resolution 192 --by-type
      convcost summary vgg-cifar --family depthwise
      convcost summary vgg16 --convention thop --format json
      convcost summary my-net.toml --exact
    """
    from convcost.conventions import count
    from convcost.costs import flops as flops_of
    from convcost.memory import memory_estimate
    from convcost.network import network_cost, rewrite
    from convcost.report import by_kind_table, summary_document, summary_table

    network = load_network(
        network_source, width=width, resolution=resolution, classes=classes, raw=raw_parameters
    )
    profile = resolve_profile(convention)
    if family != "regular":
        network = rewrite(network, FAMILY_NAMES[family], bias=bias, keep_first=keep_first)  # type: ignore[arg-type]
    cost = network_cost(network)
    counted = count(cost, profile)
    if flops_only and profile.name != "paper":
        raise ConvCostError(
            "--flops-only doubles the MACs papers count; it does not combine with "
            f"--convention {convention} (calflops is the profile that counts FLOPs)"
        )
    row_flops = tuple(
        flops_of(row.cost.macs, row.cost.bias_adds, count_bias=flops_bias) for row in cost.rows
    )
    memory = memory_estimate(cost)
    output_format = resolve_format(output_format)
    exact = exact or output_format == "csv"
    rewritten = (
        (f"Every regular k×k convolution rewritten as {FAMILY_NAMES[family].replace('_', ' ')}"
         f" (separable bias: {bias})",)
        if family != "regular" else ()
    )  # fmt: skip
    notes = (
        *rewritten,
        f"Counted with {profile_title(profile)}: {counted.total:,} in total",
        *(
            (f"FLOPs = 2 × MACs{' + bias additions' if flops_bias else ''}: "
             f"{2 * cost.totals.macs + (cost.totals.bias_adds if flops_bias else 0):,}",)
            if flops else ()
        ),
        memory_note(memory),
    )  # fmt: skip
    tables: tuple[Any, ...] = (
        summary_table(
            cost,
            exact=exact,
            counts=row_flops if flops_only else counted.rows,
            count_title="FLOPs" if flops_only else "MACs" if profile.name == "paper" else "Ops",
            notes=notes,
        ),
    )
    if by_type:
        tables += (by_kind_table(cost, exact=exact),)

    def document() -> dict[str, Any]:
        data = summary_document(
            cost, count_bias=flops_bias, bias=bias if family != "regular" else "as specified"
        )
        data["family"] = FAMILY_NAMES[family]
        data["convention"] = profile_document(profile, counted)
        data["memory"] = {
            "input_bytes": memory.input_bytes,
            "forward_backward_bytes": memory.forward_backward_bytes,
            "params_bytes": memory.params_bytes,
            "total_bytes": memory.total_bytes,
        }
        return data

    emit_tables(tables, output_format, document)


def memory_note(memory: Any) -> str:
    lines = (
        ("input", memory.input_bytes),
        ("forward/backward", memory.forward_backward_bytes),
        ("params", memory.params_bytes),
        ("total", memory.total_bytes),
    )
    sizes = ", ".join(f"{name} {count / 1e6:.2f} MB" for name, count in lines)
    return f"Memory (float32, batch 1, as torchinfo reports it): {sizes}"


def profile_title(profile: Any) -> str:
    return f"the {profile.name!r} convention ({profile.description})"


def profile_document(profile: Any, counted: Any) -> dict[str, Any]:
    from convcost.conventions import profile_to_mapping

    return {
        "profile": profile_to_mapping(profile),
        "total": counted.total,
        "breakdown": dict(counted.breakdown),
        "differences_from_paper": dict(counted.differences),
    }


@main.command()
@click.option("--format", "output_format", type=click.Choice(FORMATS), default=None,
              help="Output format [default: rich in a terminal, plain otherwise].")  # fmt: skip
def presets(output_format: str | None) -> None:
    """List the built-in networks with their parameters and sources.

    \b
    Examples:
      convcost presets
      convcost compare mobilenet-v1 --width 0.5
      convcost export resnet18 --format toml > resnet18.toml
    """
    from convcost.presets import PRESETS
    from convcost.report import Column, Table

    rows = tuple(
        (
            preset.name,
            preset.description,
            ", ".join(f"{p.name}={p.default}" for p in preset.parameters) or "-",
            preset.source,
        )
        for preset in PRESETS.values()
    )
    table = Table(
        title="Presets",
        columns=(
            Column("Name", "left"),
            Column("Description", "left", wrap=True),
            Column("Parameters", "left", wrap=True),
            Column("Source", "left", wrap=True),
        ),
        sections=(rows,),
    )
    output_format = resolve_format(output_format)
    emit_tables(
        (table,),
        output_format,
        lambda: {
            "schema": "convcost.presets",
            "version": 1,
            "presets": [
                {
                    "name": preset.name,
                    "description": preset.description,
                    "source": preset.source,
                    "parameters": [
                        {
                            "name": p.name,
                            "type": p.type.__name__,
                            "default": p.default,
                            "help": p.help,
                        }
                        for p in preset.parameters
                    ],
                }
                for preset in PRESETS.values()
            ],
        },
    )


@main.command()
@click.argument("network_source", metavar="NETWORK")
@network_options
@click.option("--classes", type=click.IntRange(min=1), default=None, help="Classes of a preset.")
@click.option(
    "--format", "spec_format", type=click.Choice(["toml", "json", "yaml"]), default="toml",
    show_default=True, help="Spec file format.",
)  # fmt: skip
@reports_errors
def export(
    network_source: str,
    width: float | None,
    resolution: int | None,
    raw_parameters: tuple[str, ...],
    classes: int | None,
    spec_format: str,
) -> None:
    """Write a preset (or a spec file) as a spec file, to start editing from.

    \b
    Examples:
      convcost export resnet18 > resnet18.toml
      convcost export mobilenet-v1 --width 0.5 --format json
    """
    from convcost.specs import dump_spec

    network = load_network(
        network_source, width=width, resolution=resolution, classes=classes, raw=raw_parameters
    )
    click.echo(dump_spec(network, spec_format), nl=False)  # type: ignore[arg-type]


PROFILE_SUFFIXES: Final = (".json", ".toml")


def resolve_profile(value: str) -> Any:
    """A built-in profile by name, or a user profile from a .json or .toml file."""
    from pathlib import Path

    from convcost.conventions import get_profile, profile_from_mapping

    path = Path(value)
    if path.suffix.lower() not in PROFILE_SUFFIXES:
        if path.suffix or path.exists():
            raise ConvCostError(
                f"--convention {value}: a profile of your own is a .json or .toml file"
            )
        return get_profile(value)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConvCostError(f"--convention {value}: cannot read the profile ({error})") from None
    try:
        if path.suffix.lower() == ".json":
            import json

            data = json.loads(text)
        else:
            if sys.version_info >= (3, 11):
                import tomllib
            else:  # pragma: no cover
                import tomli as tomllib
            data = tomllib.loads(text)
    except ValueError as error:
        raise ConvCostError(f"--convention {value}: not valid {path.suffix[1:]}: {error}") from None
    try:
        return profile_from_mapping(data)
    except ConvCostError as error:
        raise ConvCostError(f"--convention {value}: {error}") from error


@main.command()
@click.argument("network_source", metavar="[NETWORK]", required=False)
@network_options
@click.option("--classes", type=click.IntRange(min=1), default=None, help="Classes of a preset.")
@click.option(
    "--convention", "extra_profiles", multiple=True,
    help="A further profile: a .json or .toml file of your own (repeatable).",
)  # fmt: skip
@click.option("--exact", is_flag=True, help="Full integers instead of K/M/G units.")
@format_option
@reports_errors
def conventions(
    network_source: str | None,
    width: float | None,
    resolution: int | None,
    raw_parameters: tuple[str, ...],
    classes: int | None,
    extra_profiles: tuple[str, ...],
    exact: bool,
    output_format: str | None,
) -> None:
    """The counting conventions of the peer tools, and how they count NETWORK.

    Without NETWORK: the profiles, one line each. With NETWORK (a preset or a spec file):
    one row per profile with its total and, per operation type, where it differs from
    `paper` — why the tools disagree on that network.

    \b
    Examples:
      convcost conventions
      convcost conventions resnet18
      convcost conventions mobilenet-v2 --exact --format markdown
      convcost conventions my-net.toml --convention my-profile.json
    """
    from convcost.conventions import PROFILES, compare_profiles, profile_to_mapping
    from convcost.network import network_cost
    from convcost.report import Column, Table

    profiles = (*PROFILES.values(), *map(resolve_profile, extra_profiles))
    output_format = resolve_format(output_format)
    exact = exact or output_format in ("csv", "json")
    if network_source is None:
        table = Table(
            title="Counting conventions",
            columns=(
                Column("Profile", "left"),
                Column("Counts", "left", wrap=True),
                Column("Peer", "left", wrap=True),
            ),
            sections=(tuple((p.name, p.description, p.peer) for p in profiles),),
        )
        emit_tables(
            (table,),
            output_format,
            lambda: {
                "schema": "convcost.conventions",
                "version": 1,
                "profiles": [profile_to_mapping(p) for p in profiles],
            },
        )
        return
    network = load_network(
        network_source, width=width, resolution=resolution, classes=classes, raw=raw_parameters
    )
    cost = network_cost(network)
    counts = compare_profiles(cost, profiles)
    table = conventions_table(network.name or network_source, counts, exact=exact)
    emit_tables(
        (table,),
        output_format,
        lambda: {
            "schema": "convcost.conventions",
            "version": 1,
            "network": {
                "name": network.name,
                "input_shape": [network.input_shape.channels, *network.input_shape.spatial],
            },
            "params": cost.totals.params,
            "counts": [
                {
                    "profile": counted.profile.name,
                    "peer": counted.profile.peer,
                    "total": counted.total,
                    "breakdown": dict(counted.breakdown),
                    "differences_from_paper": dict(counted.differences),
                }
                for counted in counts
            ],
        },
    )


def conventions_table(title: str, counts: Any, *, exact: bool) -> Any:
    """One row per profile: its total and where it differs from `paper`, per type."""
    from convcost.report import Column, Table
    from convcost.units import format_count

    def differences(counted: Any) -> str:
        parts = [
            f"{kind} {'+' if value > 0 else '−'}{format_count(abs(value), exact=exact)}"
            for kind, value in counted.differences.items()
        ]
        return ", ".join(parts) or "—"

    return Table(
        title=f"{title}: counted by each tool's convention",
        columns=(
            Column("Profile", "left"),
            Column("Total"),
            Column("Differs from paper by", "left", wrap=True),
        ),
        sections=(
            tuple(
                (
                    counted.profile.name,
                    format_count(counted.total, exact=exact),
                    differences(counted),
                )
                for counted in counts
            ),
        ),
        notes=("paper: multiply-adds of convolutions and dense layers only, as papers quote",),
    )


def explanation_block(lines: list[str], output_format: str) -> str:
    """`--explain`'s formulas, fenced as the output format wants verbatim text."""
    text = "\n".join(lines).rstrip("\n") + "\n"
    if output_format in ("markdown", "github"):
        return f"\n```text\n{text}```\n"
    if output_format == "latex":
        return "\n" + "".join(f"% {line}\n" if line else "%\n" for line in text.splitlines())
    if output_format == "html":
        import html

        return f"<pre>\n{html.escape(text)}</pre>\n"
    if output_format == "rst":
        return "\n::\n\n" + "".join(f"    {line}\n" if line else "\n" for line in text.splitlines())
    return "\n" + text


def padding_option(text: str) -> Any:
    """``"1"``, ``"1,2"`` (per axis) or ``"0:1,0:1"`` (before:after per axis)."""
    if ":" not in text:
        return int_or_pair("--padding", text, minimum=0)
    sides = []
    for axis in text.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*:\s*(\d+)\s*", axis)
        if match is None:
            raise click.BadParameter(
                f"{text!r}: write before:after for every axis, e.g. 0:1,0:1",
                param_hint="'--padding'",
            )
        sides.append((int(match.group(1)), int(match.group(2))))
    return tuple(sides)


def int_or_pair(option: str, text: str, *, minimum: int = 1) -> int | tuple[int, ...]:
    """``"3"`` → 3; ``"3,1"`` → (3, 1); anything else is a usage error naming the option."""
    pieces = [piece.strip() for piece in text.split(",")]
    try:
        values = tuple(int(piece) for piece in pieces)
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is not an integer or a comma-separated list", param_hint=f"'{option}'"
        ) from None
    if any(value < minimum for value in values):
        raise click.BadParameter(f"{text!r}: values must be >= {minimum}", param_hint=f"'{option}'")
    return values[0] if len(values) == 1 else values


if __name__ == "__main__":  # pragma: no cover
    main()
