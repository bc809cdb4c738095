"""Commands that make and measure models: `train` and `evaluate`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from pipeline import io
from pipeline.cli.common import (
    DEFAULT_MODEL,
    STDERR,
    MapOpt,
    ModelOpt,
    RejectsOpt,
    app,
    check_paths,
    fail,
    rejects_path,
    report_rejects,
    say,
    terminal_safe,
    user_errors,
)


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
    rejects: RejectsOpt = None,
) -> None:
    """Fine-tune a classifier; with `--from`, continue from a model on new labelled samples.

    Dotted overrides change the config: `--train.lr=3e-5 --train.epochs=2`.

    Example:
    `comment-audit train --config configs/finetune.toml --data new.csv
    --from models/default -o models/mine`
    """
    from pipeline.config import split_overrides
    from training.config import load_train_config
    from training.data import TrainingDataError
    from training.finetune import PromotionRefused
    from training.train import run_training

    cfg = load_train_config(config, split_overrides(ctx.args))
    inputs = [Path(p) for p in (*(data or cfg.data.paths), *(reference or ()))]
    check_paths(inputs, [rejects_path(output, rejects)])
    sink, model = io.RejectSink(), None
    try:
        model = run_training(cfg, data or (), output, from_model, force, reference or (), sink)
    except PromotionRefused as e:
        STDERR.print("[red]not promoted:[/red]", escape(terminal_safe(str(e))), highlight=False)
        raise typer.Exit(1) from None
    except TrainingDataError as e:
        fail(str(e))
    finally:  # also when training stops on its data (the rejects often say why), but not
        # when it refused before reading any: an earlier run's rejects file stays as it was
        if sink.count or model is not None:
            report_rejects(sink, rejects_path(output, rejects))
    say(f"model written to {output} (threshold {model.threshold:.3f})")


@app.command()
@user_errors
def evaluate(
    data: Annotated[list[Path], typer.Option(help="Labelled file(s) to evaluate on.")],
    model: ModelOpt = DEFAULT_MODEL,
    map: MapOpt = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write JSON (+ .svg plot).")
    ] = None,
    rejects: Annotated[
        Path | None,
        typer.Option(
            help="Where unreadable rows go, with their reason (default: OUTPUT.rejects.jsonl"
            " with -o, else evaluate.rejects.jsonl, written when a row was rejected)."
        ),
    ] = None,
) -> None:
    """Precision, recall, F1, MCC, ROC-AUC, PR-AUC, calibration and per-group metrics.

    Example: `comment-audit evaluate --model models/default --data labelled.csv -o eval/result.json`
    """
    from training.data import TrainingDataError
    from training.evaluate import evaluate as run_evaluate
    from training.evaluate import to_markdown

    if output is not None and output.suffix.lower() != ".json":
        # The plot goes next to it with the .svg ending: `-o x.svg` would overwrite the JSON.
        fail(f"--output {output}: give a .json path (the plot is written beside it as .svg)")
    written = [output, output.with_suffix(".svg")] if output is not None else []
    check_paths(data, [rejects_path(output or Path("evaluate"), rejects)], written)
    sink = io.RejectSink()
    try:
        result = run_evaluate(model, data, io.parse_mapping(map), output, sink)
    except TrainingDataError as e:
        fail(str(e))
    finally:
        if sink.count or output is not None or rejects is not None:
            report_rejects(sink, rejects_path(output or Path("evaluate"), rejects))
    typer.echo(to_markdown(result))
