"""Every file convcost reads or writes goes through here, with the same guards.

A file the user names is untrusted: it may be a FIFO that never ends, a link to
``/dev/zero``, a directory, a multi-gigabyte file, text nested a million levels deep, or a
name that is not valid text. `read_text` and `map_file` open it without blocking, check it
is a regular file of bounded size before reading a byte, and report every problem as one
line naming the file (a `FileError`, or the subclass the caller asks for). `parse_data`
reads JSON, TOML or YAML text under the same rules. `write_atomic` replaces an output file
only once the whole text is written, so a failing run leaves an existing file untouched.
"""

from __future__ import annotations

import errno
import json
import mmap
import os
import re
import stat
import sys
from collections.abc import Iterable, Mapping
from contextlib import suppress
from pathlib import Path
from types import MappingProxyType, ModuleType
from typing import Final, Literal, TypeAlias, get_args

from convcost.errors import FileError
from convcost.limits import MAX_MODEL_BYTES, MAX_TEXT_BYTES

__all__ = [
    "DATA_FORMATS",
    "SUFFIX_FORMATS",
    "DataFormat",
    "check_output",
    "is_existing_file",
    "map_file",
    "parse_data",
    "read_text",
    "source_name",
    "write_atomic",
]

DataFormat: TypeAlias = Literal["toml", "json", "yaml"]
DATA_FORMATS: Final[tuple[DataFormat, ...]] = get_args(DataFormat)
SUFFIX_FORMATS: Final[Mapping[str, DataFormat]] = MappingProxyType(
    {".toml": "toml", ".json": "json", ".yaml": "yaml", ".yml": "yaml"}
)
"""The data format each file suffix names (spec and profile files)."""
MAX_NAME_CHARS: Final = 4096  # PATH_MAX on Linux; longer names are refused before use


def source_name(path: str | os.PathLike[str]) -> str:
    """A file name as messages show it: one line, cut if very long."""
    text = os.fspath(path)
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    text = text.replace("\n", "\\n").replace("\r", "\\r")
    return text if len(text) <= 80 else f"{text[:38]}...{text[-38:]}"


def _open(path: str | os.PathLike[str], error: type[FileError]) -> tuple[int, os.stat_result]:
    """Open `path` for reading without blocking (a FIFO does not hang) and check that it
    is a regular file; the caller closes the descriptor."""
    source = source_name(path) if isinstance(path, (str, os.PathLike)) else "<file>"
    if not isinstance(path, (str, os.PathLike)) or isinstance(path, bytes):
        raise error(source, f"a file name must be text, got {type(path).__name__}")
    name = os.fspath(path)
    if not name:
        raise error("<file>", "the file name is empty")
    encoded = _encoded_name(name, source, error)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        descriptor = os.open(encoded, flags | getattr(os, "O_CLOEXEC", 0))
    except OSError as problem:
        raise error(source, _reason(problem)) from None
    try:
        info = os.fstat(descriptor)
        if stat.S_ISDIR(info.st_mode):
            raise error(source, "is a directory, not a file")
        if not stat.S_ISREG(info.st_mode):
            raise error(source, "is not a regular file (a pipe, device or socket is not read)")
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor, info


def _encoded_name(name: str, source: str, error: type[FileError]) -> bytes:
    """A file name (not empty) as the bytes the system is given, once it is known to be
    usable: not too long, text, without a NUL."""
    if len(name) > MAX_NAME_CHARS:
        raise error(source, f"the file name is longer than {MAX_NAME_CHARS:,} characters")
    try:
        encoded = os.fsencode(name)
    except UnicodeError:
        raise error(source, "the file name is not valid text") from None
    if b"\0" in encoded:
        raise error(source, "the file name holds a NUL character")
    return encoded


def _reason(problem: OSError) -> str:
    if problem.errno == errno.ENOENT:
        return "no such file"
    if problem.errno == errno.ENAMETOOLONG:
        return "the file name is too long"
    return f"cannot read the file: {problem.strerror or problem}"


def is_existing_file(name: str) -> bool:
    """Whether `name` names something that exists, for deciding what a name means; a name
    the system cannot even look up (too long, a NUL, not text) names nothing."""
    try:
        return Path(name).exists()
    except (OSError, ValueError, TypeError):
        return False


def _too_big(size: int, limit: int) -> str:
    return f"is {size:,} bytes; at most {limit:,} bytes are read"


def read_text(
    path: str | os.PathLike[str],
    *,
    error: type[FileError] = FileError,
    max_bytes: int = MAX_TEXT_BYTES,
) -> str:
    """The UTF-8 text of a regular file of at most `max_bytes` (a byte-order mark dropped)."""
    descriptor, info = _open(path, error)
    source = source_name(path)
    with os.fdopen(descriptor, "rb") as file:
        if info.st_size > max_bytes:
            raise error(source, _too_big(info.st_size, max_bytes))
        try:
            data = file.read(max_bytes + 1)  # the file may have grown since fstat()
        except OSError as problem:
            raise error(source, _reason(problem)) from None
    if len(data) > max_bytes:
        raise error(source, _too_big(len(data), max_bytes))
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as problem:
        line = data.count(b"\n", 0, problem.start) + 1
        byte = data[problem.start]
        raise error(source, f"not UTF-8 text (byte 0x{byte:02x})", line=line) from None


def map_file(
    path: str | os.PathLike[str],
    *,
    error: type[FileError] = FileError,
    max_bytes: int = MAX_MODEL_BYTES,
) -> mmap.mmap:
    """A read-only memory map of a regular, non-empty file of at most `max_bytes`: a reader
    walks its structure and skips what it does not need without loading it (the map is
    advised for random access, so skipped pages are never read). The caller closes it."""
    descriptor, info = _open(path, error)
    source = source_name(path)
    try:
        if info.st_size == 0:
            raise error(source, "is empty")
        if info.st_size > max_bytes:
            raise error(source, _too_big(info.st_size, max_bytes))
        try:
            mapping = mmap.mmap(descriptor, 0, access=mmap.ACCESS_READ)  # keeps its own fd
        except (OSError, ValueError) as problem:  # ValueError: emptied since fstat()
            raise error(source, f"cannot read the file: {problem}") from None
    finally:
        os.close(descriptor)
    if _RANDOM_ACCESS is not None:
        # Fault in only the pages touched: the kernel's read-ahead around each skipped
        # part would read it after all (a 500 MB ONNX file from a cold cache: 0.4 s, not
        # 0.01 s). A hint only: a kernel that refuses it changes nothing but speed.
        with suppress(OSError):
            mapping.madvise(_RANDOM_ACCESS)
    return mapping


_RANDOM_ACCESS: Final = getattr(mmap, "MADV_RANDOM", None)  # not on Windows


# --- structured text -----------------------------------------------------------------


def parse_data(
    text: str, format: DataFormat, *, source: str, error: type[FileError] = FileError
) -> object:
    """JSON, TOML or YAML text as plain data; a syntax error names the line."""
    if len(text) > MAX_TEXT_BYTES:  # text handed in directly, not read by read_text
        raise error(source, _too_big(len(text.encode("utf-8", "surrogatepass")), MAX_TEXT_BYTES))
    try:
        if format == "json":
            data = _parse_json(text, source, error)
        elif format == "toml":
            data = _parse_toml(text, source, error)
        else:
            data = _parse_yaml(text, source, error)
        _check_text(data, format, source, error)
        return data
    except FileError:
        raise
    except (RecursionError, MemoryError):
        raise error(source, f"invalid {format.upper()}: nested too deeply to read") from None
    except ValueError as problem:  # e.g. an integer of more than 4,300 digits
        raise error(source, f"invalid {format.upper()}: {' '.join(str(problem).split())}") from None


_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def _check_text(data: object, format: DataFormat, source: str, error: type[FileError]) -> None:
    """Refuse a lone surrogate (JSON's ``"\\ud800"``, YAML's ``"\\uD800"``): it is no
    character, and no output could be written with it. Each object is visited once, so
    that YAML aliases (one object reached many times) cost nothing more."""
    seen: set[int] = set()
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if match := _SURROGATE.search(item):
                code = f"\\u{ord(match.group()):04x}"
                raise error(
                    source,
                    f"invalid {format.upper()}: {code} is half of a surrogate pair, "
                    "not a character",
                )
        elif isinstance(item, (dict, list)):
            if id(item) in seen:
                continue
            seen.add(id(item))
            pending.extend(item.items() if isinstance(item, dict) else item)
        elif isinstance(item, tuple):  # a dict's (key, value) pair
            pending.extend(item)


def _parse_json(text: str, source: str, error: type[FileError]) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as problem:
        raise error(source, f"invalid JSON: {problem.msg}", line=problem.lineno) from None


def _parse_toml(text: str, source: str, error: type[FileError]) -> object:
    if sys.version_info >= (3, 11):  # imported here: most commands read no TOML
        import tomllib
    else:  # pragma: no cover - exercised on Python 3.10 only
        import tomli as tomllib
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as problem:
        message, line = str(problem), None
        if match := re.search(r" \(at line (\d+), column \d+\)$", message):
            message, line = message[: match.start()], int(match.group(1))
        elif message.endswith(" (at end of document)"):
            message, line = message.removesuffix(" (at end of document)"), text.count("\n") + 1
        raise error(source, f"invalid TOML: {message}", line=line) from None


def _parse_yaml(text: str, source: str, error: type[FileError]) -> object:
    yaml = yaml_module(source, error)
    fast = getattr(yaml, "CSafeLoader", None)  # libyaml, ten times faster, when built
    if fast is not None:
        try:
            return yaml.load(text, Loader=fast)
        except yaml.YAMLError as problem:
            if "maximum nesting depth" in str(problem):  # libyaml stops at 1,000 levels
                raise error(source, "invalid YAML: nested too deeply to read") from None
        except ValueError:
            pass
        # The pure-Python parser words the error as it always has (and says the line).
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as problem:
        message = "; ".join(str(part) for part in (problem.context, problem.problem) if part)
        line = problem.problem_mark.line + 1 if problem.problem_mark else None
        raise error(source, f"invalid YAML: {message}", line=line) from None
    except yaml.YAMLError as problem:
        raise error(source, f"invalid YAML: {' '.join(str(problem).split())}") from None


def yaml_module(source: str, error: type[FileError] = FileError) -> ModuleType:
    """PyYAML, imported when a YAML file is read or written (an optional dependency)."""
    try:
        import yaml
    except ImportError:
        raise error(
            source, "YAML needs PyYAML, which is not installed: pip install convcost[yaml]"
        ) from None
    return yaml


# --- writing -------------------------------------------------------------------------


def check_output(path: str | os.PathLike[str], *, inputs: Iterable[str] = ()) -> Path:
    """Check, before writing, that `path` can be written as an output file: its folder
    exists and may be written, it is not a folder, a pipe or a device (which a rename
    would replace), and it is none of the `inputs` being read. A link is followed: the
    file it names is the one replaced, and the link stays."""
    source = source_name(path)
    name = os.fspath(path)
    if not name:
        raise FileError("<output>", "the output file name is empty")
    _encoded_name(name, source, FileError)
    try:
        target = _resolved(name)
        info = _stat(target)
        if info is not None and stat.S_ISDIR(info.st_mode):
            raise FileError(source, "is a directory; name a file to write")
        if info is not None and not stat.S_ISREG(info.st_mode):
            raise FileError(
                source,
                "is not a regular file (a pipe, device or socket is not replaced); "
                "leave out --output to write to standard output",
            )
        if not target.parent.is_dir():
            raise FileError(source, f"no such directory: {source_name(target.parent)}")
        if not os.access(target.parent, os.W_OK | os.X_OK):
            raise FileError(source, f"the directory {source_name(target.parent)} is not writable")
        for given in inputs:
            if info is not None and is_existing_file(given) and target.samefile(given):
                raise FileError(source, "is the file being read; write the output elsewhere")
    except OSError as problem:
        raise FileError(source, _reason(problem)) from None
    return target


def _resolved(name: str | os.PathLike[str]) -> Path:
    """The file a name leads to, through any links (a dangling link: the file it names)."""
    return Path(os.path.realpath(name))


def _stat(target: Path) -> os.stat_result | None:
    try:
        return target.stat()
    except FileNotFoundError:
        return None


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write `text` to `path` through a temporary file beside it, renamed over `path` only
    once complete: a failure (a full disk) leaves an existing `path` as it was. A link is
    followed (the file it names is replaced); a new file gets the permissions the umask
    gives, an existing one keeps its own.

    An `OSError` from the writing itself propagates: it is not the user's input.
    """
    import tempfile  # imported here: only --output writes a file

    target = _resolved(path)
    descriptor, temporary = tempfile.mkstemp(
        dir=target.parent, prefix=f".{target.name[:64]}.", suffix=".tmp"
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        info = _stat(target)
        mode = stat.S_IMODE(info.st_mode) if info is not None else 0o666 & ~_umask()
        Path(temporary).chmod(mode)
        Path(temporary).replace(target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    """The process's umask (read by setting it, then putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
