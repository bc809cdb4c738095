"""The command line: thin verbs over the library. `comment-audit --help` lists them.

Commands live by what they work on (scoring, modelling, reports); importing them here
registers them on the one Typer app.
"""

from __future__ import annotations

import os

# Import order is the order of `--help`: reading an export first, then models, then findings.
from pipeline.cli import scoring  # noqa: F401

# isort: split
from pipeline.cli import modelling  # noqa: F401

# isort: split
from pipeline.cli import reports  # noqa: F401
from pipeline.cli.common import app

__all__ = ["app", "main"]


def main() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    app()
