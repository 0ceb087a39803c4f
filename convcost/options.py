"""The command line's parameter types and shared options, each defined once.

Part of the command line (the one layer that imports click): the types parse option text
into the library's values with one-line errors and did-you-mean hints; the shared options
(`counting_options`, `rewriting_options`, `network_options`, ...) are declared once and
decorate every command that takes them; the `*_from` functions turn their values into the
library's option objects.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Final, TypeVar

import click

from convcost.errors import ConvCostError
from convcost.files import DATA_FORMATS
from convcost.render import FORMATS

if TYPE_CHECKING:
    from convcost.devices import Device
    from convcost.network import Network
    from convcost.report import Counting, Rewriting
    from convcost.shapes import Shape

__all__ = [
    "PYRAMID_OPTIONS",
    "SPEC_FORMATS",
    "ChoiceType",
    "CountType",
    "FamiliesType",
    "PaddingType",
    "ShapeType",
    "WindowType",
    "counting_from",
    "counting_options",
    "device_from",
    "device_options",
    "document_options",
    "exact_option",
    "network_argument",
    "network_from",
    "network_options",
    "output_option",
    "plot_options",
    "pyramid_options",
    "rewriting_from",
    "rewriting_options",
    "strict_option",
]

F = TypeVar("F", bound=Callable[..., Any])
SPEC_FORMATS: Final = DATA_FORMATS


class ChoiceType(click.ParamType):  # type: ignore[type-arg]
    """One of a few names, with a did-you-mean hint and shell completion."""

    def __init__(self, choices: tuple[str, ...], metavar: str = "") -> None:
        self.choices = choices
        self.name = metavar or "|".join(choices)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from convcost.checks import check_choice

        try:
            return check_choice(param.name if param and param.name else "value", value,
                                self.choices)  # fmt: skip
        except ConvCostError as error:
            self.fail(str(error), param, ctx)

    def get_metavar(self, param: click.Parameter, ctx: click.Context | None = None) -> str:
        return "[" + "|".join(self.choices) + "]"

    def shell_complete(
        self, ctx: click.Context, param: click.Parameter, incomplete: str
    ) -> list[Any]:
        from click.shell_completion import CompletionItem

        return [CompletionItem(choice) for choice in self.choices if choice.startswith(incomplete)]


class ShapeType(click.ParamType):  # type: ignore[type-arg]
    """A feature-map shape such as ``16x128x128`` (C×H×W) or ``hwc:128x128x16``; a shape
    that looks channels-last gets a hint on stderr (it is still read as written)."""

    name = "SHAPE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from convcost.shapes import Shape, channels_last_hint, parse_shape

        if isinstance(value, Shape):
            return value
        channels_last = bool(ctx and ctx.params.get("channels_last"))
        try:
            shape = parse_shape(value, channels_last=channels_last)
            hint = None if channels_last else channels_last_hint(value)
        except ConvCostError as error:
            self.fail(str(error), param, ctx)
        if hint:
            click.echo(f"Hint: {hint}", err=True)
        return shape


class FamiliesType(click.ParamType):  # type: ignore[type-arg]
    """A comma-separated list of families: regular, spatial, depthwise."""

    name = "FAMILIES"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from convcost.network import parse_family

        if isinstance(value, tuple):
            return value
        names = [name for name in str(value).split(",") if name.strip()]
        if not names:
            self.fail("name one or more of regular, spatial, depthwise", param, ctx)
        try:
            return tuple(dict.fromkeys(parse_family(name) for name in names))
        except ConvCostError as error:
            self.fail(str(error), param, ctx)


class CountType(click.ParamType):  # type: ignore[type-arg]
    """A whole number written in ASCII digits (no ``3_3``, no ``1e3``), within bounds."""

    name = "N"

    def __init__(self, minimum: int = 1, maximum: int | None = None) -> None:
        self.minimum = minimum
        self.maximum = maximum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from convcost.checks import check_int, is_int
        from convcost.limits import MAX_SIZE

        if is_int(value):
            return value
        text = str(value).strip()
        if not text.isascii() or not text.isdigit() or len(text) > 19:
            self.fail(f"{value!r} is not a whole number", param, ctx)
        try:
            return check_int("value", int(text), minimum=self.minimum,
                             maximum=self.maximum or MAX_SIZE)  # fmt: skip
        except ConvCostError as error:
            self.fail(str(error).removeprefix("value "), param, ctx)


class WindowType(click.ParamType):  # type: ignore[type-arg]
    """A window size: ``3`` or one per axis, ``3,1``."""

    name = "K"

    def __init__(self, minimum: int = 1) -> None:
        self.minimum = minimum

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        counts = CountType(self.minimum)
        values = tuple(counts.convert(piece, param, ctx) for piece in value.split(","))
        return values[0] if len(values) == 1 else values


class PaddingType(click.ParamType):  # type: ignore[type-arg]
    """``valid``, ``same``, ``same-pytorch``, ``1``, ``1,2`` (per axis) or ``0:1,0:1``
    (before:after per axis)."""

    name = "PADDING"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        if value in ("valid", "same", "same-pytorch"):
            return value
        if ":" not in value:
            return WindowType(minimum=0).convert(value, param, ctx)
        counts = CountType(minimum=0)
        sides = []
        for axis in value.split(","):
            before, colon, after = axis.partition(":")
            if not colon:
                self.fail(f"{value!r}: write before:after for every axis, e.g. 0:1,0:1", param, ctx)
            sides.append((counts.convert(before, param, ctx), counts.convert(after, param, ctx)))
        return tuple(sides)


# --- completion --------------------------------------------------------------------------


def complete_networks(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    """Preset names, then files."""
    from click.shell_completion import CompletionItem

    from convcost.sources import preset_names

    names = [CompletionItem(name) for name in preset_names() if name.startswith(incomplete)]
    return [*names, CompletionItem(incomplete, type="file")]


def complete_conventions(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
    from click.shell_completion import CompletionItem

    from convcost.conventions import PROFILES

    names = [CompletionItem(name) for name in PROFILES if name.startswith(incomplete)]
    return [*names, CompletionItem(incomplete, type="file")]


# --- shared options, defined once --------------------------------------------------------


def options(*decorators: Callable[[F], F]) -> Callable[[F], F]:
    """Several click options as one decorator, in the order given."""

    def apply(command: F) -> F:
        for decorator in reversed(decorators):
            command = decorator(command)
        return command

    return apply


format_option = click.option(
    "--format", "output_format", type=ChoiceType(FORMATS, "FORMAT"), default=None,
    help="Output format [default: rich in a terminal, plain otherwise or with NO_COLOR].",
)  # fmt: skip
output_option = click.option(
    "--output", "output_path", metavar="FILE", default=None,
    help="Write to FILE (replaced only once complete; never the file being read).",
)  # fmt: skip
exact_option = click.option(
    "--exact", is_flag=True, help="MACs and FLOPs as full integers too (parameters always are)."
)
document_options = options(format_option, output_option)
plot_options = options(
    click.option("--plot", "plot_path", default=None, metavar="FILE",
                 help="Also draw a chart to FILE (.png, .svg or .pdf; needs convcost[plot])."),
    click.option("--log", "log_scale", is_flag=True, help="A logarithmic count axis on --plot."),
)  # fmt: skip
counting_options = options(
    click.option(
        "--convention", default="paper", show_default=True, metavar="NAME|FILE",
        shell_complete=complete_conventions,
        help="Count MACs as this tool does (see `convcost conventions`), or by a profile file.",
    ),
    click.option("--flops", is_flag=True, help="Show FLOPs (2 × MACs) beside MACs."),
    click.option("--flops-only", is_flag=True, help="Show FLOPs instead of MACs."),
    click.option(
        "--flops-bias", is_flag=True, help="Count one FLOP per bias addition too (with --flops)."
    ),
)  # fmt: skip
rewriting_options = options(
    click.option(
        "--bias", type=ChoiceType(("none", "pointwise", "both")), default="pointwise",
        show_default=True,
        help="Biases of a separable layer that replaces a biased convolution: none; pointwise "
        "(one, on the last part: Keras SeparableConv2D); both (one per part). A convolution "
        "without bias is replaced without.",
    ),
    click.option(
        "--keep-first", is_flag=True, help="Keep the first convolution regular (MobileNet)."
    ),
    click.option(
        "--mid-channels", default="min", show_default=True, metavar="min|out|in|N",
        help="Channels between the k×1 and 1×k parts: min(C_in, C_out) (never more parameters "
        "than the convolution replaced; Inception-v3's when C_in = C_out), C_out, C_in, or N.",
    ),
)  # fmt: skip
network_options = options(
    click.option("--input", "input_shape", type=ShapeType(), default=None,
                 help="Replace the network's input shape, C×H×W (or hwc:H×W×C)."),
    click.option("--channels-last", is_flag=True, is_eager=True, help="Read --input as H×W×C."),
    click.option("--width", metavar="α", default=None,
                 help="Width multiplier of a preset (e.g. mobilenet-v1 --width 0.5)."),
    click.option("--resolution", metavar="R|HxW", default=None,
                 help="Input resolution of a preset (224, or 224x448)."),
    click.option("--classes", metavar="N", default=None, help="Classes of a preset."),
    click.option("--param", "raw_parameters", multiple=True, metavar="NAME=VALUE",
                 help="Any other preset parameter (repeatable), e.g. --param shallow=true."),
)  # fmt: skip
strict_option = click.option(
    "--strict", is_flag=True,
    help="An operator of a model file convcost does not count is an error, not a row flagged "
    '"not counted".',
)  # fmt: skip


device_options = options(
    click.option(
        "--device", "device_text", default=None, metavar="NAME|FILE|KEY=VALUE,...",
        shell_complete=lambda ctx, param, incomplete: complete_devices(incomplete),
        help="Bound the time on a device: a built-in one (see `convcost devices`), a profile "
        "file, or peak=19.5T,bandwidth=1.5T.",
    ),
    click.option(
        "--dtype", type=ChoiceType(("float32", "float16", "bfloat16", "int8")),
        default="float32", show_default=True, help="Data type of bytes and memory.",
    ),
    click.option(
        "--batch-size", type=CountType(maximum=10**9), default=1, show_default=True,
        help="Batch of bytes, memory and times.",
    ),
)  # fmt: skip


def complete_devices(incomplete: str) -> list[Any]:
    from click.shell_completion import CompletionItem

    from convcost.devices import DEVICES

    names = [CompletionItem(name) for name in DEVICES if name.startswith(incomplete)]
    return [*names, CompletionItem(incomplete, type="file")]


def device_from(text: str | None) -> Device | None:
    """The device `--device` names, or None."""
    if text is None:
        return None
    from convcost.devices import load_device

    return load_device(text)


def network_argument(*, required: bool) -> Callable[[F], F]:
    return click.argument(
        "network_source", metavar="NETWORK" if required else "[NETWORK]", required=required,
        shell_complete=complete_networks,
    )  # fmt: skip


class PyramidOption(click.Option):
    """An option that sets a parameter of the built-in pyramid; its help (and default)
    comes from the preset itself, read only when help is shown."""

    def __init__(self, *args: Any, parameter: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.parameter = parameter

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        from convcost.presets import get_preset

        wanted = get_preset("pyramid").parameter(self.parameter)
        default = wanted.default
        shown = str(default).lower() if isinstance(default, bool) else str(default)
        self.help = f"Pyramid: {wanted.help} [default: {shown}]"
        return super().get_help_record(ctx)


def _pyramid_option(*names: str, parameter: str, flag: bool = False) -> Callable[[F], F]:
    return click.option(
        *names, cls=PyramidOption, parameter=parameter, default=None, is_flag=flag,
        flag_value="true" if flag else None, metavar="" if flag else "VALUE",
    )  # fmt: skip


# The pyramid's parameters as options of their own: the option's names, the parameter,
# whether it is a flag. Commands that build the pyramid take them all.
_PYRAMID: Final = (
    (("--base-channels",), "base_channels", False),
    (("--stages",), "stages", False),
    (("--convs-per-stage",), "convs_per_stage", False),
    (("-k", "--kernel"), "kernel_size", False),
    (("--downsample",), "downsample", False),
    (("--batch-norm",), "batch_norm", True),
    (("--head",), "head", False),
)
pyramid_options = options(
    *(_pyramid_option(*names, parameter=name, flag=flag) for names, name, flag in _PYRAMID)
)
PYRAMID_OPTIONS: Final = {  # click's keyword for each option -> the pyramid's parameter
    names[-1].removeprefix("--").replace("-", "_"): parameter for names, parameter, _ in _PYRAMID
}


# --- from options to library objects -----------------------------------------------------


def counting_from(convention: str, flops: bool, flops_only: bool, flops_bias: bool) -> Counting:
    from convcost.conventions import load_profile
    from convcost.report import Counting

    if flops and flops_only:
        raise click.UsageError("--flops shows FLOPs beside MACs, --flops-only instead: pick one")
    shown = "only" if flops_only else "beside" if flops else "none"
    profile = load_profile(convention)
    return Counting(convention=profile, flops=shown, flops_bias=flops_bias)  # type: ignore[arg-type]


def rewriting_from(bias: str, keep_first: bool, mid_channels: str) -> Rewriting:
    from convcost.report import Rewriting

    mid: str | int = mid_channels
    if mid_channels not in ("min", "out", "in"):
        mid = (
            CountType().convert(mid_channels, None, None)
            if mid_channels.isdigit()
            else mid_channels
        )
    return Rewriting(bias=bias, keep_first=keep_first, mid_channels=mid)  # type: ignore[arg-type]


def network_from(
    source: str,
    *,
    input_shape: Shape | None,
    width: str | None,
    resolution: str | None,
    classes: str | None,
    raw_parameters: tuple[str, ...],
    strict: bool = False,
    extra: dict[str, str] | None = None,
) -> Network:
    from convcost.sources import load_network, parse_assignments

    given = {"width": width, "resolution": resolution, "classes": classes, **(extra or {})}
    named = {name: value for name, value in given.items() if value is not None}
    parameters = parse_assignments(raw_parameters, given=named)
    return load_network(source, parameters=parameters, input_shape=input_shape, strict=strict)
