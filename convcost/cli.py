"""The `convcost` command line: parse → call the library → render. The only module that exits.

Exit codes, written down once: 0 success; 2 any bad input (a usage error, a bad value, a
bad file); 1 a failure that is not the user's (a full disk, a closed output); 130 Ctrl-C.
Every command is one call into `convcost.report` (or `convcost.sources`), so a script
gets exactly what the terminal shows.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, NoReturn, TypeVar

import click

from convcost import __version__
from convcost.errors import ConvCostError, printable
from convcost.options import (
    PYRAMID_OPTIONS,
    SPEC_FORMATS,
    ChoiceType,
    CountType,
    FamiliesType,
    PaddingType,
    ShapeType,
    WindowType,
    counting_from,
    counting_options,
    device_from,
    device_options,
    document_options,
    exact_option,
    network_argument,
    network_from,
    network_options,
    output_option,
    plot_options,
    pyramid_options,
    rewriting_from,
    rewriting_options,
    strict_option,
)

if TYPE_CHECKING:
    from convcost.network import Family, Network
    from convcost.report import Counting, Report
    from convcost.shapes import Shape

EXIT_OK: Final = 0
EXIT_FAILURE: Final = 1
EXIT_BAD_INPUT: Final = 2
EXIT_INTERRUPTED: Final = 130

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print one line on stderr and exit (2: the user's input was wrong)."""
    click.echo(f"Error: {printable(message)}", err=True)  # one line, whatever values hold
    sys.exit(code)


def reports_errors(command: F) -> F:
    """Turn a `ConvCostError` into one line on stderr and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args: object, **kwargs: object) -> object:
        try:
            return command(*args, **kwargs)
        except ConvCostError as error:
            fail(str(error))

    return wrapper  # type: ignore[return-value]


def resolve_format(output_format: str | None, output_path: str | None = None) -> str:
    if output_format:
        return output_format
    if output_path is None and sys.stdout.isatty() and not os.environ.get("NO_COLOR"):
        return "rich"
    return "plain"


def emit(
    report: Report,
    output_format: str | None,
    *,
    exact: bool = False,
    output_path: str | None = None,
    reads: tuple[str, ...] = (),
) -> None:
    """Write `report` to stdout, or to `output_path` once complete."""
    from convcost import render

    chosen = resolve_format(output_format, output_path)
    if output_path is not None:
        from convcost.files import check_output, write_atomic

        target = check_output(output_path, inputs=reads)
        write_atomic(target, render.render_text(report, chosen, exact=exact))
    elif chosen == "rich":
        from rich.console import Console

        console = Console(highlight=False, emoji=False, markup=False)
        render.render_rich(report, console, exact=exact)
    else:
        # color=True: click would strip what looks like ANSI colour from a pipe, changing
        # names in data formats; the text formats show control characters escaped anyway.
        click.echo(render.render_text(report, chosen, exact=exact), nl=False, color=True)


def files_read(*names: str | None) -> tuple[str, ...]:
    """The names among `names` that are files being read (to protect from --output)."""
    return tuple(name for name in names if name and Path(name).is_file())


def _silence_stdout() -> None:
    """Point stdout at the null device, so that the interpreter's last flush of output it
    could not write does not print a second error on the way out."""
    try:
        descriptor = sys.stdout.fileno()
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, descriptor)
        os.close(null)
    except (OSError, ValueError, AttributeError):  # closed, or not a file (a test runner)
        pass


# --- the group -----------------------------------------------------------------------------

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
            fail(f"{error.format_message()}{hint}", error.exit_code)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except OSError as error:  # writing the output: a full disk, a closed stdout
            _silence_stdout()
            fail(f"cannot write the output: {error.strerror or error}", EXIT_FAILURE)
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
      convcost compare                      # the halve-resolution, double-channels pyramid
      convcost compare --stages 5 --format markdown
      convcost summary resnet18
      convcost layer 3x15x15 --out 10 -k 3 --explain
    """


@main.command()
@network_argument(required=False)
@network_options
@strict_option
@pyramid_options
@click.option(
    "--families", type=FamiliesType(), default="regular,spatial,depthwise", show_default=True,
    help="Families to compare (regular is always shown).",
)  # fmt: skip
@rewriting_options
@click.option("--layers", "by_layer", is_flag=True, help="One row per layer instead of per stage.")
@click.option("--by-type", is_flag=True, help="MACs and params per layer type, per family.")
@counting_options
@device_options
@plot_options
@exact_option
@document_options
@reports_errors
def compare(
    network_source: str | None,
    families: tuple[Family, ...],
    by_layer: bool,
    by_type: bool,
    plot_path: str | None,
    log_scale: bool,
    exact: bool,
    output_format: str | None,
    output_path: str | None,
    **given: Any,
) -> None:
    """Compare convolution families across a network, per stage and in total.

    NETWORK is a preset (see `convcost presets`), a spec file (.toml, .json, .yaml), a
    model file (.onnx, .keras, Keras's model.to_json() .json) or a PyTorch model factory,
    FILE.py:FUNCTION (your code, imported and called; needs --input). Every regular k×k
    convolution is rewritten into each family. Without NETWORK: the built-in
    pyramid (Matani & Singh 2023): a 64×128×128 input and four stages of one 3×3
    convolution each, halving resolution and doubling channels (64→128→256→512→1024).

    \b
    Examples:
      convcost compare
      convcost compare --input 3x224x224 --base-channels 32 --stages 5
      convcost compare --convs-per-stage 2 --downsample stride --layers --exact
      convcost compare --families depthwise --format latex
      convcost compare mobilenet-v1 --width 0.5 --param regular=true
      convcost compare resnet18 --convention thop --format csv
      convcost compare --device rtx-4090 --dtype float16
      convcost compare mobilenet-v1 --plot families.svg --log
    """
    from convcost.report import compare_families

    source = network_source or "pyramid"
    pyramid = _pyramid_parameters(source, given)
    _check_plot(plot_path)
    report = compare_families(
        _network(source, given, extra=pyramid),
        families=families,
        rewriting=rewriting_from(given["bias"], given["keep_first"], given["mid_channels"]),
        counting=_counting(given),
        by_layer=by_layer,
        by_type=by_type,
        device=device_from(given["device_text"]),
        dtype=given["dtype"],
        batch_size=given["batch_size"],
    )
    reads = files_read(network_source, given["convention"], given["device_text"])
    emit(report, output_format, exact=exact, output_path=output_path, reads=reads)
    if plot_path is not None:
        from convcost.plot import plot_comparison

        plot_comparison(report, plot_path, log=log_scale)


def _pyramid_parameters(source: str, given: dict[str, Any]) -> dict[str, str]:
    """The pyramid options given (taken out of `given`), as preset parameters."""
    pyramid = {PYRAMID_OPTIONS[name]: given.pop(name) for name in PYRAMID_OPTIONS}
    pyramid = {name: value for name, value in pyramid.items() if value is not None}
    if pyramid and source != "pyramid":
        names = ", ".join(f"--{name.replace('_', '-')}" for name in pyramid)
        raise ConvCostError(f"{names}: options of the built-in pyramid, not of {source}")
    return pyramid


def _check_plot(path: str | None) -> None:
    """Refuse a bad --plot (or a missing matplotlib) before any work."""
    if path is not None:
        from convcost.plot import check_plot_path, load_matplotlib

        check_plot_path(path)
        load_matplotlib()


def _network(source: str, given: dict[str, Any], *, extra: dict[str, str] | None = None) -> Network:
    return network_from(
        source,
        input_shape=given["input_shape"],
        width=given["width"],
        resolution=given["resolution"],
        classes=given["classes"],
        raw_parameters=given["raw_parameters"],
        strict=given["strict"],
        extra=extra,
    )


def _counting(given: dict[str, Any]) -> Counting:
    return counting_from(given["convention"], given["flops"], given["flops_only"],
                         given["flops_bias"])  # fmt: skip


@main.command()
@network_argument(required=True)
@network_options
@strict_option
@click.option(
    "--family", type=ChoiceType(("regular", "spatial", "depthwise")), default="regular",
    show_default=True, help="Rewrite the regular k×k convolutions into this family first.",
)  # fmt: skip
@rewriting_options
@click.option("--by-type", is_flag=True, help="Also MACs and params per layer type.")
@click.option("--memory", "memory_column", is_flag=True,
              help="A column of each layer's activation bytes.")  # fmt: skip
@device_options
@click.option(
    "--optimizer", type=ChoiceType(("sgd", "momentum", "adam")), default=None,
    help="Also what training costs with this optimizer: memory kept, multiply-adds.",
)  # fmt: skip
@counting_options
@plot_options
@exact_option
@document_options
@reports_errors
def summary(
    network_source: str,
    family: str,
    by_type: bool,
    memory_column: bool,
    device_text: str | None,
    dtype: str,
    batch_size: int,
    optimizer: str | None,
    plot_path: str | None,
    log_scale: bool,
    exact: bool,
    output_format: str | None,
    output_path: str | None,
    **given: Any,
) -> None:
    """One network layer by layer, as torchinfo and Keras summaries show it.

    NETWORK is a preset (see `convcost presets`), a spec file (.toml, .json, .yaml), a
    model file (.onnx, .keras, Keras's model.to_json() .json) or a PyTorch model factory,
    FILE.py:FUNCTION (your code, imported and called; needs --input).

    \b
    Examples:
      convcost summary resnet18
      convcost summary mobilenet-v1 --width 0.75 --resolution 192 --by-type
      convcost summary vgg-cifar --family depthwise
      convcost summary vgg16 --convention thop --format json
      convcost summary resnet50 --batch-size 32 --dtype float16 --memory
      convcost summary mobilenet-v2 --device jetson-orin-nano-8gb --dtype float16
      convcost summary resnet18 --optimizer adam --batch-size 64
      convcost summary mobilenet-v2 --device a100-sxm4-80gb --plot roofline.png
      convcost summary model.onnx --input 3x320x320
      convcost summary model.keras --strict
      convcost summary model.py:build --input 3x224x224
    """
    from convcost.network import parse_family
    from convcost.report import summary as summarize

    _check_plot(plot_path)
    report = summarize(
        _network(network_source, given),
        family=parse_family(family),
        rewriting=rewriting_from(given["bias"], given["keep_first"], given["mid_channels"]),
        counting=_counting(given),
        by_type=by_type,
        dtype=dtype,  # type: ignore[arg-type]
        batch_size=batch_size,
        memory_column=memory_column,
        device=device_from(device_text),
        optimizer=optimizer,  # type: ignore[arg-type]
    )
    reads = files_read(network_source, given["convention"], device_text)
    emit(report, output_format, exact=exact, output_path=output_path, reads=reads)
    if plot_path is not None:
        from convcost.plot import plot_summary

        plot_summary(report, plot_path, roofline=report.roofline, log=log_scale)


@main.command()
@network_argument(required=False)
@network_options
@pyramid_options
@click.option(
    "--families", type=FamiliesType(), default="regular,spatial,depthwise", show_default=True,
    help="Families to cost at each point (regular is always shown).",
)  # fmt: skip
@rewriting_options
@counting_options
@device_options
@plot_options
@click.option(
    "--plot-x",
    default=None,
    metavar="NAME",
    help="The swept parameter along the chart's x axis (the first by default).",
)
@exact_option
@document_options
@reports_errors
def sweep(
    network_source: str | None,
    families: tuple[Family, ...],
    plot_path: str | None,
    log_scale: bool,
    plot_x: str | None,
    exact: bool,
    output_format: str | None,
    output_path: str | None,
    **given: Any,
) -> None:
    """Cost a preset at every point of a grid of its parameters: one row per point.

    Any preset parameter given several values is swept: a list (0.25,0.5,1), an
    inclusive range (128:224:32, step 1 by default), or both (96:128:32,224). Several
    swept parameters give every combination. Without NETWORK: the built-in pyramid.

    \b
    Examples:
      convcost sweep mobilenet-v1 --width 0.25,0.5,0.75,1     # MobileNet's Table 6
      convcost sweep mobilenet-v1 --resolution 128:224:32     # MobileNet's Table 7
      convcost sweep --base-channels 32,64,128,256 --kernel 3,5,7 --families depthwise
      convcost sweep resnet50 --width 0.5:2:0.5 --resolution 160:224:32 --format csv
      convcost sweep mobilenet-v2 --width 0.5,1 --device jetson-orin-nano-8gb --plot t.png
    """
    from convcost.sources import parse_assignments
    from convcost.sweep import split_grid
    from convcost.sweep import sweep as run_sweep

    source = network_source or "pyramid"
    named = {"width": given["width"], "resolution": given["resolution"],
             "classes": given["classes"], **_pyramid_parameters(source, given)}  # fmt: skip
    parameters = parse_assignments(
        given["raw_parameters"], given={k: v for k, v in named.items() if v is not None}
    )
    grid, fixed = split_grid(parameters)
    _check_plot(plot_path)
    progress = _Progress()
    try:
        report = run_sweep(
            source,
            grid,
            families=families,
            rewriting=rewriting_from(given["bias"], given["keep_first"], given["mid_channels"]),
            counting=_counting(given),
            input_shape=given["input_shape"],
            base_parameters=fixed,
            device=device_from(given["device_text"]),
            dtype=given["dtype"],
            batch_size=given["batch_size"],
            progress=progress,
        )
    finally:
        progress.close()
    reads = files_read(given["convention"], given["device_text"])
    emit(report, output_format, exact=exact, output_path=output_path, reads=reads)
    if plot_path is not None:
        from convcost.plot import plot_sweep

        plot_sweep(report, plot_path, x=plot_x, log=log_scale)


class _Progress:
    """A progress bar on stderr for a sweep that runs past half a second; none when
    stderr is not a terminal (a pipe, a file, a test)."""

    DELAY: Final = 0.5

    def __init__(self) -> None:
        import time

        self.clock = time.monotonic
        self.start = self.clock()
        self.shown = sys.stderr is not None and sys.stderr.isatty()
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if not self.shown or self.clock() - self.start < self.DELAY:
                return
            from rich.console import Console
            from rich.progress import Progress

            self.bar = Progress(console=Console(stderr=True), transient=True)
            self.bar.start()
            self.task = self.bar.add_task("sweeping", total=total)
        self.bar.update(self.task, completed=done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


@main.command()
@click.argument("input_shape", metavar="INPUT", type=ShapeType())
@click.option("--channels-last", is_flag=True, is_eager=True, help="Read INPUT as H×W×C.")
@click.option("-o", "--out", "out_channels", type=CountType(), required=True,
              help="Output channels N.")  # fmt: skip
@click.option("-k", "--kernel", type=WindowType(), default="3", show_default=True,
              help="Kernel size: k or kh,kw.")  # fmt: skip
@click.option("-s", "--stride", type=WindowType(), default="1", show_default=True,
              help="Stride: s or sh,sw.")  # fmt: skip
@click.option(
    "-p", "--padding", type=PaddingType(), default="0", show_default=True,
    help="Padding: valid, same, same-pytorch, p, ph,pw, or per side 0:1,0:1.",
)  # fmt: skip
@click.option("-d", "--dilation", type=WindowType(), default="1", show_default=True,
              help="Dilation: d or dh,dw.")  # fmt: skip
@click.option("-g", "--groups", type=CountType(), default=1, show_default=True,
              help="Groups of the regular convolution.")  # fmt: skip
@click.option("--depth-multiplier", type=CountType(), default=1, show_default=True,
              help="Depth multiplier of the depthwise part.")  # fmt: skip
@click.option(
    "--no-bias", is_flag=True,
    help="A convolution without bias (PyTorch bias=False, Keras use_bias=False).",
)  # fmt: skip
@rewriting_options
@click.option("--explain", is_flag=True, help="Print every formula with the numbers substituted.")
@counting_options
@exact_option
@document_options
@reports_errors
def layer(
    input_shape: Shape,
    channels_last: bool,
    out_channels: int,
    kernel: Any,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: int,
    depth_multiplier: int,
    no_bias: bool,
    explain: bool,
    exact: bool,
    output_format: str | None,
    output_path: str | None,
    **given: Any,
) -> None:
    """One convolution in the three families, side by side.

    The convolution is biased, as PyTorch's and Keras's are by default (--no-bias drops
    it); its separable forms get the --bias convention.

    \b
    Examples:
      convcost layer 3x15x15 --out 10 -k 3 --no-bias --explain  # 45,630 vs 9,633 MACs
      convcost layer 16x128x128 -o 32 -k 3 -p same --no-bias     # 75.50M vs 10.75M MACs
      convcost layer hwc:32x32x3 -o 64 -k 3 --bias both           # 1,792 vs 286 params
    """
    from convcost.report import compare_layer

    if given["keep_first"]:
        raise click.UsageError("--keep-first keeps a network's first convolution; a layer has one")
    report = compare_layer(
        input_shape,
        out_channels=out_channels,
        kernel_size=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
        bias=not no_bias,
        depth_multiplier=depth_multiplier,
        rewriting=rewriting_from(given["bias"], False, given["mid_channels"]),
        counting=_counting(given),
        explain=explain,
    )
    reads = files_read(given["convention"])
    emit(report, output_format, exact=exact, output_path=output_path, reads=reads)


@main.command()
@document_options
@reports_errors
def presets(output_format: str | None, output_path: str | None) -> None:
    """List the built-in networks with their parameters and sources.

    \b
    Examples:
      convcost presets
      convcost compare mobilenet-v1 --width 0.5
      convcost export resnet18 --output resnet18.toml
    """
    from convcost.report import presets_report

    emit(presets_report(), output_format, output_path=output_path)


@main.command()
@network_argument(required=True)
@network_options
@strict_option
@click.option(
    "--format", "spec_format", type=ChoiceType(SPEC_FORMATS, "FORMAT"), default="toml",
    show_default=True, help="Spec file format.",
)  # fmt: skip
@output_option
@reports_errors
def export(network_source: str, spec_format: str, output_path: str | None, **given: Any) -> None:
    """Write a network (a preset, a spec or model file, a PyTorch factory) as a spec file,
    to start editing from.

    \b
    Examples:
      convcost export resnet18 --output resnet18.toml
      convcost export mobilenet-v1 --width 0.5 --format json
      convcost export model.onnx --format yaml
    """
    from convcost.specs import dump_spec

    text = dump_spec(_network(network_source, given), spec_format)  # type: ignore[arg-type]
    if output_path is None:
        click.echo(text, nl=False)
        return
    from convcost.files import check_output, write_atomic

    write_atomic(check_output(output_path, inputs=files_read(network_source)), text)


@main.command()
@network_argument(required=False)
@network_options
@strict_option
@click.option(
    "--convention", "extra_profiles", multiple=True, metavar="FILE",
    help="A further profile: a .json, .toml or .yaml file of your own (repeatable).",
)  # fmt: skip
@document_options
@reports_errors
def conventions(
    network_source: str | None,
    extra_profiles: tuple[str, ...],
    output_format: str | None,
    output_path: str | None,
    **given: Any,
) -> None:
    """The counting conventions of the peer tools, and how they count NETWORK.

    Without NETWORK: the profiles, one line each. With NETWORK (as for `summary`): one
    row per profile with its exact total and, per operation type, where it differs
    from `paper` — why the tools disagree on that network.

    \b
    Examples:
      convcost conventions
      convcost conventions resnet18
      convcost conventions mobilenet-v2 --format markdown
      convcost conventions my-net.toml --convention my-profile.json
    """
    from convcost.conventions import load_profile
    from convcost.report import conventions_report, profiles_report

    extra = tuple(map(load_profile, extra_profiles))
    if network_source is None:
        if any(given[name] for name in ("input_shape", "width", "resolution", "classes",
                                        "raw_parameters", "strict")):  # fmt: skip
            raise ConvCostError("network options need a NETWORK")
        report = profiles_report(extra)
    else:
        report = conventions_report(_network(network_source, given), extra)
    reads = files_read(network_source, *extra_profiles)
    emit(report, output_format, output_path=output_path, reads=reads)


@main.command()
@document_options
@reports_errors
def devices(output_format: str | None, output_path: str | None) -> None:
    """List the device profiles that --device names: peak operations per second per data
    type, memory bandwidth and ridge point, each from its vendor's figures.

    \b
    Examples:
      convcost devices
      convcost devices --format json
      convcost compare --device a100-sxm4-80gb
    """
    from convcost.report import devices_report

    emit(devices_report(), output_format, output_path=output_path)


def run() -> NoReturn:
    """Run the command line (the `convcost` script)."""
    main()
    sys.exit(EXIT_OK)  # pragma: no cover - main() always exits
