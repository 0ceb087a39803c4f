"""The `convcost` command (and `python -m convcost`).

This module imports nothing but `sys` before it has installed its Ctrl-C handling, so
that an interrupt at any moment, start-up included, is one line on stderr and exit code
130, as shells expect, never a traceback.

A standard output the shell closed (``convcost compare >&-``) is None to Python, and
click would silently drop what is written to it; it is replaced by a stream whose every
write fails, so that the command reports the failure (one line, exit code 1) instead of
succeeding with its output lost. An output whose encoding cannot write the text (rich's
table lines to ``PYTHONIOENCODING=ascii``) is one line and exit code 1 too.
"""

import sys


class _ClosedStream:
    """Stands for a closed standard stream: writing to it raises `OSError` (EBADF)."""

    encoding = "utf-8"
    errors = "strict"
    closed = False

    def __init__(self, name: str) -> None:
        self.name = name

    def write(self, text: str) -> int:
        raise OSError(9, f"{self.name} is closed")  # 9: EBADF, without importing errno

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True


def main() -> None:
    try:
        if sys.stdout is None:
            sys.stdout = _ClosedStream("standard output")
        from convcost.cli import run

        run()
    except KeyboardInterrupt:
        _say("Aborted.")
        sys.exit(130)
    except UnicodeEncodeError as error:  # an output encoding without "×" or a name's letters
        character = error.object[error.start : error.end]
        _say(
            f"Error: cannot write the output: its encoding ({error.encoding}) cannot show "
            f"{character!a}; set PYTHONIOENCODING=utf-8"
        )
        sys.exit(1)


def _say(line: str) -> None:
    if sys.stderr is not None:
        sys.stderr.write(line + "\n")


if __name__ == "__main__":
    main()
