"""What every command shares: the Typer app, option types, error handling and rejects."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.markup import escape

from pipeline import io
from pipeline.config import ConfigError
from pipeline.progress import STDERR

app = typer.Typer(
    help="Find bot and spam comments in comment exports and measure how much engagement is fake.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)

DEFAULT_MODEL = Path(__file__).resolve().parents[2] / "models" / "default"

MapOpt = Annotated[
    str | None,
    typer.Option(
        "--map", help="Column mapping for unknown schemas: `text=CONTENT,post_id=videoId`."
    ),
]
RejectsOpt = Annotated[
    Path | None,
    typer.Option(
        help="Where unreadable rows go, with their reason (default: OUTPUT.rejects.jsonl)."
    ),
]
ModelOpt = Annotated[
    Path,
    typer.Option("--model", "-m", help="Model directory.", envvar="COMMENT_AUDIT_MODEL"),
]
ProgressOpt = Annotated[bool, typer.Option("--progress/--no-progress", help="Show a progress bar.")]
BackendOpt = Annotated[
    str | None,
    typer.Option(
        help="Inference backend: `torch` (fp32, exactly the training-time scores),"
        " `torch-bf16` (bfloat16; CPUs with AMX or AVX-512 BF16 only), `onnx` (int8 ONNX"
        " Runtime) or `openvino` (the fp32 ONNX graph on OpenVINO, bf16 where the CPU has it);"
        " both ONNX backends export to MODEL/onnx/ on first use. Default: the fastest here:"
        " on AMX CPUs openvino when installed, else torch-bf16; elsewhere onnx when"
        " onnxruntime is installed, else torch."
    ),
]
PseudonymizeOpt = Annotated[
    bool,
    typer.Option(
        "--pseudonymize",
        help="Replace commenters' handles (author column, @mentions) with keyed pseudonyms"
        " in every output; the key comes from $COMMENT_AUDIT_PSEUDONYM_KEY or"
        " --pseudonym-key-file.",
    ),
]
KeyFileOpt = Annotated[
    Path | None, typer.Option(help="File holding the secret pseudonym key (see --pseudonymize).")
]


# What the filesystem says of a path the user gave (an output that is a directory, a folder
# they may not write to): their message names the path.
_FILE_ERRORS = (FileExistsError, IsADirectoryError, NotADirectoryError, PermissionError)


def user_errors(func: Callable) -> Callable:
    """Known bad input becomes one clear line on stderr and exit code 2, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (io.InputError, ConfigError, *_FILE_ERRORS, *_model_errors()) as e:
            fail(str(e))

    return wrapper


def fail(message: str) -> NoReturn:
    """One line on stderr, exit code 2: how every command reports bad input."""
    # escape: the message quotes untrusted input; soft_wrap: one greppable line.
    STDERR.print(
        "[red]error:[/red]", escape(terminal_safe(message)), highlight=False, soft_wrap=True
    )
    raise typer.Exit(2) from None


def say(text: str) -> None:
    """A line on stderr, shown as it is: paths and messages may hold "[" (rich markup) and
    control characters."""
    STDERR.print(terminal_safe(text), highlight=False, markup=False)


def terminal_safe(text: str) -> str:
    """`text` on one line, with control characters (ESC sequences that recolour or clear a
    terminal, say) shown as escapes: messages quote untrusted file contents, and some
    parsers' messages span lines."""
    text = " | ".join(line.strip() for line in text.splitlines() if line.strip())
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def pseudonymizer(enabled: bool, key_file: Path | None):
    """The per-chunk transform for --pseudonymize (None without it); refuses a missing key."""
    if not enabled:
        return None
    from pipeline.privacy import Pseudonymizer, load_key

    return Pseudonymizer(load_key(key_file))


def _model_errors() -> tuple[type[Exception], ...]:
    try:
        from pipeline.model import ModelError
    except ImportError:
        return ()
    return (ModelError,)


def rejects_path(output: Path, given: Path | None) -> Path:
    """`--rejects`, else next to the output with its format ending (and .gz) swapped: other
    dots stay, so audit.2026-11.csv and audit.2026-12.csv never share one rejects file."""
    if given is not None:
        return given
    from pipeline.writers import FORMATS

    ending = output.suffixes[-2:] if output.suffix.lower() == ".gz" else output.suffixes[-1:]
    stem = output.name
    if ending and ending[0].lower() in (*FORMATS, ".json", ".md"):  # evaluate writes .json/.md
        stem = stem[: -len("".join(ending))]
    return output.with_name(f"{stem}.rejects.jsonl")


def report_rejects(sink: io.RejectSink, path: Path, redact: bool = False) -> None:
    if redact:  # a raw record holds real handles; file, line and reason still find it
        sink.rejects = [replace(r, raw="(withheld: --pseudonymize)") for r in sink.rejects]
    sink.write(path)
    if sink.count:
        say(f"{sink.count:,} row(s) rejected, reasons in {path}")


def check_paths(
    inputs: Path | Sequence[Path], outputs: Sequence[Path], files: Sequence[Path] = ()
) -> None:
    """Refuse before any work what would fail or destroy data after it: an output format no
    writer has (found only once hours of scoring are done), an output that is an input or
    another output, or one that can not be a file. `files`: outputs not in a table format
    (evaluate's JSON and plot), checked for all but the format."""
    from pipeline.writers import output_format

    for path in outputs:
        output_format(path)
    sources = {p.resolve() for p in ([inputs] if isinstance(inputs, Path) else inputs)
               if str(p) != "-"}  # fmt: skip
    seen: dict[Path, Path] = {}
    for path in (*outputs, *files):
        where = path.resolve()
        if where in sources:
            raise ConfigError(f"{path} is an input file; write the output elsewhere")
        if where in seen:
            raise ConfigError(f"{path} is named for two outputs; give each its own path")
        seen[where] = path
        _can_be_file(path)


def _can_be_file(path: Path) -> None:
    if path.is_dir():
        raise ConfigError(f"{path} is a directory; give a file path for the output")
    for parent in path.parents:
        if parent.exists() and not parent.is_dir():
            raise ConfigError(f"{path}: {parent} is a file, not a directory")
