"""The command line: thin verbs over the library. `comment-audit --help` lists them."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from pipeline import io
from pipeline.config import ConfigError
from pipeline.locking import exclusive
from pipeline.progress import STDERR, estimate_rows, row_progress

app = typer.Typer(
    help="Find bot and spam comments in comment exports and measure how much engagement is fake.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="markdown",
)

DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "models" / "default"

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
        " `torch-bf16` (bfloat16; CPUs with AMX or AVX-512 BF16 only) or `onnx` (int8 ONNX"
        " Runtime, exported to MODEL/onnx/ on first use). Default: the fastest here, torch-bf16"
        " on AMX CPUs, else onnx when onnxruntime is installed, else torch."
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


def user_errors(func: Callable) -> Callable:
    """Known bad input becomes one clear line on stderr and exit code 2, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (io.InputError, ConfigError, FileExistsError, *_model_errors()) as e:
            # escape: the message quotes untrusted input; soft_wrap: one greppable line.
            STDERR.print("[red]error:[/red]", escape(str(e)), highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None

    return wrapper


def _pseudonymizer(enabled: bool, key_file: Path | None):
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
    stem = output.name.split(".")[0]
    return given or output.with_name(f"{stem}.rejects.jsonl")


def report_rejects(sink: io.RejectSink, path: Path, redact: bool = False) -> None:
    if redact:  # a raw record holds real handles; file, line and reason still find it
        sink.rejects = [replace(r, raw="(withheld: --pseudonymize)") for r in sink.rejects]
    sink.write(path)
    if sink.count:
        STDERR.print(f"{sink.count:,} row(s) rejected, reasons in {path}", highlight=False)


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

    sink = io.RejectSink()
    chunks = io.read_chunks(input, mapping=io.parse_mapping(map), rejects=sink)
    with row_progress("cleaning", estimate_rows(input), progress) as advance:
        n = io.write_table((_counted(clean_frame(c), advance) for c in chunks), output)
    report_rejects(sink, rejects_path(output, rejects))
    STDERR.print(f"{n:,} rows cleaned -> {output}", highlight=False)


def _counted(frame, advance):
    advance(len(frame))
    return frame


@app.command()
@user_errors
def score(
    input: Annotated[
        Path, typer.Argument(help="Export file (CSV/TSV/JSON/JSONL/Parquet, .gz ok).")
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
    """Score every comment of an export: p_spam, label, reasons and coordination signals.

    Example: `comment-audit score examples/instagram_export.jsonl -o out/scored.parquet`
    """
    from pipeline.backends import load_classifier
    from pipeline.score import ScoreConfig, score_file

    _check_engine(engine, resume)
    transform = _pseudonymizer(pseudonymize, pseudonym_key_file)
    if transform is not None and engine != "local":
        raise ConfigError("--pseudonymize works with --engine local only")
    classifier = load_classifier(model, backend) if engine == "local" else None
    sink = io.RejectSink()
    config = ScoreConfig(chunk_size=chunk_size, batch_size=batch_size)
    mapping = io.parse_mapping(map)
    with exclusive(output), row_progress("scoring", estimate_rows(input), progress) as advance:
        if classifier is None:
            from pipeline.engine_ray import score_ray

            summary = score_ray(
                input, output, model, backend=backend, config=config, mapping=mapping,
                rejects=sink, address=address, on_rows=advance,
            )  # fmt: skip
        else:
            summary = score_file(
                input, output, classifier, config=config, mapping=mapping, rejects=sink,
                resume=resume, on_rows=advance, transform=transform,
            )  # fmt: skip
    report_rejects(sink, rejects_path(output, rejects), redact=transform is not None)
    STDERR.print(
        f"{summary.rows_scored:,} rows scored ({summary.texts_scored:,} distinct texts through the "
        f"model), {summary.rows_rejected:,} rejected -> {output}",
        highlight=False,
    )


def _check_engine(engine: str, resume: bool) -> None:
    if engine not in ("local", "ray"):
        raise ConfigError(f"--engine {engine}: choose local or ray")
    if engine == "ray" and resume:
        raise ConfigError("--resume works with --engine local only; rerun the Ray job instead")


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


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
@user_errors
def train(
    ctx: typer.Context,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="New model directory (never overwritten).")
    ],
    config: Annotated[Path, typer.Option(help="Training config (TOML).")] = Path(
        "configs/train.toml"
    ),
    data: Annotated[
        list[Path] | None, typer.Option(help="Labelled file(s); default: the config's.")
    ] = None,
    from_model: Annotated[
        Path | None, typer.Option("--from", help="Continue from this model.")
    ] = None,
    reference: Annotated[
        list[Path] | None, typer.Option(help="Extra held-out labelled file(s).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Promote even if worse than --from.")] = False,
) -> None:
    """Fine-tune a classifier; with `--from`, continue from a model on new labelled samples.

    Dotted overrides change the config: `--train.lr=3e-5 --train.epochs=2`.

    Example:
    `comment-audit train --config configs/finetune.toml --data new.csv
    --from models/default -o models/mine`
    """
    from pipeline.config import split_overrides
    from training.config import load_train_config
    from training.train import PromotionRefused, run_training

    cfg = load_train_config(config, split_overrides(ctx.args))
    try:
        model = run_training(cfg, data or (), output, from_model, force, reference or ())
    except PromotionRefused as e:
        STDERR.print(f"[red]not promoted:[/red] {e}", highlight=False)
        raise typer.Exit(1) from None
    STDERR.print(f"model written to {output} (threshold {model.threshold:.3f})", highlight=False)


@app.command()
@user_errors
def evaluate(
    data: Annotated[list[Path], typer.Option(help="Labelled file(s) to evaluate on.")],
    model: ModelOpt = DEFAULT_MODEL,
    map: MapOpt = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write JSON (+ .svg plot).")
    ] = None,
) -> None:
    """Precision, recall, F1, MCC, ROC-AUC, PR-AUC, calibration and per-group metrics.

    Example: `comment-audit evaluate --model models/default --data labelled.csv -o eval/result.json`
    """
    from training.evaluate import evaluate as run_evaluate
    from training.evaluate import to_markdown

    result = run_evaluate(model, data, io.parse_mapping(map), output)
    typer.echo(to_markdown(result))


ByOpt = Annotated[
    list[str] | None,
    typer.Option("--by", help="Group by post, owner and/or author (repeat the option)."),
]


def _read_scored(path: Path):
    import pandas as pd

    if path.is_dir() or path.suffix == ".parquet":  # a directory: `score --engine ray` parts
        return pd.read_parquet(path)
    frames = list(io.read_chunks(path))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _groupings(by: list[str] | None) -> tuple[str, ...]:
    chosen = tuple(by or ("post", "owner", "author"))
    if bad := [b for b in chosen if b not in ("post", "owner", "author")]:
        raise ConfigError(f"--by {', '.join(bad)}: choose from post, owner, author")
    return chosen


@app.command()
@user_errors
def report(
    scored: Annotated[
        Path,
        typer.Argument(help="Output of `comment-audit score` (a file, or the Ray directory)."),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="Report directory.")],
    by: ByOpt = None,
    model: ModelOpt = DEFAULT_MODEL,
    title: Annotated[str, typer.Option(help="Report title.")] = "Comment audit",
    pseudonymize: PseudonymizeOpt = False,
    pseudonym_key_file: KeyFileOpt = None,
) -> None:
    """Fake share per post, creator or commenter with 95% intervals, as HTML, JSON and CSV.

    The model's measured error rates (from its manifest) correct the flagged share.

    Example: `comment-audit report out/scored.parquet --by owner -o out/report`
    """
    from pipeline.artifact import read_manifest
    from pipeline.report import build_report

    transform = _pseudonymizer(pseudonymize, pseudonym_key_file)
    frame = _read_scored(scored)
    frame = transform(frame) if transform is not None else frame
    with exclusive(output):
        paths = build_report(frame, output, _groupings(by), read_manifest(model), title)
    STDERR.print(f"report written to {paths.html}", highlight=False)


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
@user_errors
def audit(
    ctx: typer.Context,
    input: Annotated[Path, typer.Argument(help="Export with the campaign posts and others.")],
    campaign: Annotated[Path, typer.Option(help="Campaign file (TOML): creators and their posts.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Audit directory.")],
    config: Annotated[Path, typer.Option(help="Verdict bands (TOML).")] = Path(
        "configs/audit.toml"
    ),
    model: ModelOpt = DEFAULT_MODEL,
    map: MapOpt = None,
    resume: Annotated[bool, typer.Option(help="Continue a killed scoring run.")] = False,
    progress: ProgressOpt = True,
    backend: BackendOpt = None,
    pseudonymize: PseudonymizeOpt = False,
    pseudonym_key_file: KeyFileOpt = None,
) -> None:
    """Brand audit: score the export, compare campaign posts with each creator's other posts,
    and give a verdict band per creator with the evidence.

    Dotted overrides change the audit config: `--min_comments=50`.

    Example: `comment-audit audit examples/instagram_export.jsonl
    --campaign examples/campaign.toml -o out/demo`
    """
    from pipeline.audit import load_audit_config, load_campaign, run_audit
    from pipeline.config import split_overrides
    from pipeline.report import build_report
    from pipeline.report.summary import error_rates

    plan = load_campaign(campaign)
    settings = load_audit_config(config if config.exists() else None, split_overrides(ctx.args))
    scored_path = output / "scored.parquet"
    output.mkdir(parents=True, exist_ok=True)
    ctx.with_resource(exclusive(output))  # held until the audit ends, scoring and report
    ctx.invoke(
        score,
        input=input,
        output=scored_path,
        model=model,
        map=map,
        rejects=output / "rejects.jsonl",
        resume=resume,
        progress=progress,
        backend=backend,
        pseudonymize=pseudonymize,
        pseudonym_key_file=pseudonym_key_file,
    )
    from pipeline.artifact import read_manifest

    manifest = read_manifest(model)
    scored = _read_scored(scored_path)
    result = run_audit(scored, plan, settings, error_rates(manifest))
    paths = build_report(scored, output, manifest=manifest, title=plan.campaign.name, audit=result)
    for verdict in result.creators:
        STDERR.print(f"{verdict.handle}: {verdict.verdict}", highlight=False, markup=False)
    STDERR.print(f"audit report written to {paths.html}", highlight=False)


def main() -> None:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    app()
