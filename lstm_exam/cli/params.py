"""The options several commands share."""

from __future__ import annotations

from pathlib import Path

import click

#: An input file: checked (and reported in one line) when it is read.
FILE = click.Path(path_type=Path, dir_okay=False)
#: An output (a folder, or a file): checked by the guard of every output (one line).
OUT = click.Path(path_type=Path)
TEMPLATES = click.option(
    "--templates",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="A folder of custom templates (copies of the built-in ones, changed).",
)
NO_DUPLEX = click.option(
    "--no-duplex",
    is_flag=True,
    help="Class PDFs without the blank pages that start each student on a right-hand page.",
)
TEX_TIMEOUT = click.option(
    "--tex-timeout",
    type=click.FloatRange(min=1),
    metavar="SECONDS",
    help="CPU time the templates and pdflatex may each take (default: 60 s and 1 s a student).",
)
