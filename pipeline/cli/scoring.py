"""Commands that read an export: `clean`, `score`, and `export` (the ONNX model)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline import io
from pipeline.cli.common import (
    DEFAULT_MODEL,
    STDERR,
    BackendOpt,
    KeyFileOpt,
    MapOpt,
    ModelOpt,
    ProgressOpt,
    PseudonymizeOpt,
    RejectsOpt,
    app,
    check_paths,
    pseudonymizer,
    rejects_path,
    report_rejects,
    say,
    user_errors,
)
from pipeline.config import ConfigError
from pipeline.locking import exclusive
from pipeline.progress import estimate_rows, row_progress


@app.command()
@user_errors
def clean(
    input: Annotated[
        Path, typer.Argument(help="Export file (CSV/TSV/JSON/JSONL/Parquet, .gz ok, - for stdin).")
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Cleaned rows (.parquet/.csv/.jsonl).")
    ],
    map: MapOpt = None,
    rejects: RejectsOpt = None,
    progress: ProgressOpt = True,
) -> None:
    """Show what the model will see: cleaned text, dedup key and features per comment.

    Example: `comment-audit clean examples/instagram_export.jsonl -o out/clean.csv`
    """
    from pipeline.score import clean_frame

    check_paths(input, [output, rejects_path(output, rejects)])
    sink = io.RejectSink()
    chunks = io.read_chunks(input, mapping=io.parse_mapping(map), rejects=sink)
    with row_progress("cleaning", estimate_rows(input), progress) as advance:
        n = io.write_table((_counted(clean_frame(c), advance) for c in chunks), output)
    report_rejects(sink, rejects_path(output, rejects))
    say(f"{n:,} rows cleaned -> {output}")


def _counted(frame, advance):
    advance(len(frame))
    return frame


@app.command()
@user_errors
def score(
    input: Annotated[
        Path,
        typer.Argument(
            help="Export file (CSV/TSV/JSON/JSONL/Parquet, .gz ok; - for stdin, not resumable)."
        ),
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Scored rows (.parquet/.csv/.jsonl).")
    ],
    model: ModelOpt = DEFAULT_MODEL,
    map: MapOpt = None,
    rejects: RejectsOpt = None,
    resume: Annotated[
        bool, typer.Option(help="Continue a killed run from its last checkpoint.")
    ] = False,
    batch_size: Annotated[
        int | None,
        typer.Option(help="Comments per forward pass (default: the backend's best, 64 or 16)."),
    ] = None,
    chunk_size: Annotated[
        int, typer.Option(help="Rows read, scored and checkpointed at a time.")
    ] = 20_000,
    progress: ProgressOpt = True,
    backend: BackendOpt = None,
    engine: Annotated[
        str,
        typer.Option(
            help="`local`, or `ray`: a Ray Data actor pool; OUTPUT is then a directory of"
            " Parquet parts."
        ),
    ] = "local",
    address: Annotated[
        str | None,
        typer.Option(help="Ray cluster to use with `--engine ray` (default: Ray on this machine)."),
    ] = None,
    pseudonymize: PseudonymizeOpt = False,
    pseudonym_key_file: KeyFileOpt = None,
) -> None:
    """Score every comment of an export: p_spam, pred_label, reasons and coordination signals.

    Example: `comment-audit score examples/instagram_export.jsonl -o out/scored.parquet`
    """
    from pipeline.backends import load_classifier
    from pipeline.score import ScoreConfig, score_file

    _check_engine(engine, resume, pseudonymize)
    local = [output] if engine == "local" else []  # Ray writes a directory of parts
    check_paths(input, [*local, rejects_path(output, rejects)])
    transform = pseudonymizer(pseudonymize, pseudonym_key_file)
    classifier = load_classifier(model, backend) if engine == "local" else None
    sink = io.RejectSink()
    run = dict(
        config=ScoreConfig(chunk_size=chunk_size, batch_size=batch_size),
        mapping=io.parse_mapping(map), rejects=sink,
    )  # fmt: skip
    with exclusive(output), row_progress("scoring", estimate_rows(input), progress) as advance:
        if classifier is None:
            summary = _score_ray(input, output, model, backend, address, on_rows=advance, **run)
        else:
            summary = score_file(
                input, output, classifier, resume=resume, transform=transform, on_rows=advance,
                **run,
            )  # fmt: skip
    report_rejects(sink, rejects_path(output, rejects), redact=transform is not None)
    say(_summary_line(summary, output))


def _summary_line(summary, output: Path) -> str:
    n = summary.duplicate_records
    again = f"{n:,} duplicate records, counted once by report and audit; " if n else ""
    return (
        f"{summary.rows_scored:,} rows scored ({again}{summary.texts_scored:,} distinct texts "
        f"through the model), {summary.rows_rejected:,} rejected -> {output}"
    )


def _score_ray(
    input: Path, output: Path, model: Path, backend: str | None, address: str | None, **run
):
    from pipeline.engine_ray import score_ray

    return score_ray(input, output, model, backend=backend, address=address, **run)


def _check_engine(engine: str, resume: bool, pseudonymize: bool) -> None:
    if engine not in ("local", "ray"):
        raise ConfigError(f"--engine {engine}: choose local or ray")
    if engine == "ray" and resume:
        raise ConfigError("--resume works with --engine local only; rerun the Ray job instead")
    if engine == "ray" and pseudonymize:
        raise ConfigError("--pseudonymize works with --engine local only")


@app.command()
@user_errors
def export(
    model: ModelOpt = DEFAULT_MODEL,
    force: Annotated[bool, typer.Option(help="Rebuild even when the export is current.")] = False,
) -> None:
    """Export a model to ONNX (fp32 and int8) in MODEL/onnx/; `score` does this on first use.

    Example: `comment-audit export --model models/default`
    """
    from pipeline.onnx_export import export_model

    for path in export_model(model, force=force):
        size = path.stat().st_size / 1e6
        STDERR.print(f"{path} ({size:.1f} MB)", highlight=False, markup=False)
