"""What a person sees while `make demo` and `make local` run: one line per stage, no raw logs.

The functions log structured JSON (Powertools) and emit EMF metrics as Lambda would. On a terminal
that buries what the local run says, so both commands keep them off unless `--verbose` is given.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TextIO


def configure_function_output(verbose: bool) -> None:
    """Before the stack starts (the functions' Logger reads its level when first imported)."""
    if verbose:
        os.environ["POWERTOOLS_LOG_LEVEL"] = "INFO"
        os.environ["POWERTOOLS_METRICS_DISABLED"] = "false"
        return
    # CRITICAL: nothing in the functions logs at that level, so no JSON line reaches the terminal,
    # whatever the shell's own POWERTOOLS_LOG_LEVEL says. AWS_LAMBDA_LOG_LEVEL would override it.
    os.environ["POWERTOOLS_LOG_LEVEL"] = "CRITICAL"
    os.environ.pop("AWS_LAMBDA_LOG_LEVEL", None)
    os.environ["POWERTOOLS_METRICS_DISABLED"] = "true"


class Progress:
    """`→ writing 8 sample orders to the Orders table … done (0.4 s)`, printed as the stage runs.

    With verbose output the functions' log lines would land in the middle of a line, so the label
    and its outcome are then printed on lines of their own.
    """

    def __init__(self, stream: TextIO | None = None, *, inline: bool = True) -> None:
        self._stream = stream or sys.stdout
        self._inline = inline

    @contextmanager
    def step(self, label: str) -> Iterator[None]:
        started = time.perf_counter()
        self._stream.write(f"→ {label} …" + ("" if self._inline else "\n"))
        self._stream.flush()
        try:
            yield
        except BaseException:
            self._stream.write(" failed\n" if self._inline else f"  {label}: failed\n")
            self._stream.flush()
            raise
        elapsed = time.perf_counter() - started
        self._stream.write(f" done ({elapsed:.1f} s)\n" if self._inline else f"  done ({elapsed:.1f} s)\n")
        self._stream.flush()
