"""Run the CLI and kill -9 itself at an exact point: the Nth call of a function.

    python -m tests.killer MODULE:ATTR:N[:NAME] -- <comment-audit arguments>

MODULE.ATTR (ATTR may be dotted, e.g. TableWriter.write) is wrapped so that its Nth call
(counting only calls with an argument, or an argument's `.path`, ending in NAME) sends
SIGKILL to this process before the call runs. No cleanup handler, finally block or atexit
runs: exactly what a power cut or the OOM killer leaves behind. Used by
tests/unit/test_crash_safety.py.
"""

from __future__ import annotations

import functools
import importlib
import os
import signal
import sys
from collections.abc import Callable


def arm(spec: str) -> None:
    module_name, attr, count, *name = spec.split(":")
    owner = importlib.import_module(module_name)
    *parents, leaf = attr.split(".")
    for part in parents:
        owner = getattr(owner, part)
    setattr(owner, leaf, _killing(getattr(owner, leaf), int(count), name[0] if name else ""))


def _killing(func: Callable, count: int, name: str) -> Callable:
    calls = 0

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        nonlocal calls
        if any(str(getattr(a, "path", a)).endswith(name) for a in (*args, "")):
            calls += 1
            if calls == count:
                os.kill(os.getpid(), signal.SIGKILL)
        return func(*args, **kwargs)

    return wrapper


def main() -> None:
    spec, separator, *cli = sys.argv[1:]
    assert separator == "--", "usage: python -m tests.killer MODULE:ATTR:N[:NAME] -- ARGS"
    arm(spec)
    from pipeline.cli import app

    app(cli, prog_name="comment-audit")


if __name__ == "__main__":
    main()
