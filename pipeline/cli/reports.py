"""Commands that turn scores into findings: `report` and `audit`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline import duplicates, io
from pipeline.cli.common import (
    DEFAULT_MODEL,
    BackendOpt,
    KeyFileOpt,
    MapOpt,
    ModelOpt,
    ProgressOpt,
    PseudonymizeOpt,
    app,
    pseudonymizer,
    say,
    user_errors,
)
from pipeline.cli.scoring import score
from pipeline.config import ConfigError
from pipeline.locking import exclusive

DEFAULT_AUDIT = Path("configs/audit.toml")  # relative: the repository's, when run from it

ByOpt = Annotated[
    list[str] | None,
    typer.Option("--by", help="Group by post, owner and/or author (repeat the option)."),
]


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
    from pipeline.report.summary import other_threshold

    transform = pseudonymizer(pseudonymize, pseudonym_key_file)
    frame = io.read_scored(scored)
    frame = transform(frame) if transform is not None else frame
    manifest = read_manifest(model)
    if mismatched := other_threshold(frame, manifest):
        say(
            f"warning: {mismatched:,} rows' pred_label disagree with p_spam >= "
            f"{manifest['threshold']:.4g}, the threshold of {model}: the file was scored with "
            "another model; pass it with --model, or its error rates correct the wrong flags"
        )
    with exclusive(output):
        paths = build_report(frame, output, _groupings(by), manifest, title)
    for line in duplicates.warnings(paths.duplicate_records):
        say(f"warning: {line}")
    say(f"report written to {paths.html}")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
@user_errors
def audit(
    ctx: typer.Context,
    input: Annotated[Path, typer.Argument(help="Export with the campaign posts and others.")],
    campaign: Annotated[Path, typer.Option(help="Campaign file (TOML): creators and their posts.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Audit directory.")],
    config: Annotated[
        Path | None,
        typer.Option(
            help="Verdict bands (TOML; default: configs/audit.toml if present, else"
            " the built-in bands, which are the same)."
        ),
    ] = None,
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
    from pipeline.audit import load_audit_config, load_campaign
    from pipeline.config import split_overrides

    plan = load_campaign(campaign)
    settings = load_audit_config(_audit_config(config), split_overrides(ctx.args))
    output.mkdir(parents=True, exist_ok=True)
    ctx.with_resource(exclusive(output))  # held until the audit ends, scoring and report
    ctx.invoke(
        score,
        input=input,
        output=output / "scored.parquet",
        model=model,
        map=map,
        rejects=output / "rejects.jsonl",
        resume=resume,
        progress=progress,
        backend=backend,
        pseudonymize=pseudonymize,
        pseudonym_key_file=pseudonym_key_file,
    )
    _judge(input, output, model, plan, settings)


def _audit_config(given: Path | None) -> Path | None:
    """A file named on the command line must exist (load_audit_config checks); only the
    default may be absent (when run outside the repository), and then the built-in bands
    apply."""
    return given or (DEFAULT_AUDIT if DEFAULT_AUDIT.is_file() else None)


def _judge(input: Path, output: Path, model: Path, plan, settings) -> None:
    """Verdicts per creator from the audit's scored rows, the report, and a line each."""
    from pipeline.artifact import read_manifest
    from pipeline.audit import run_audit
    from pipeline.report import build_report
    from pipeline.report.summary import error_rates

    manifest = read_manifest(model)
    scored = io.read_scored(output / "scored.parquet", required=())
    if scored.empty:
        rejected = output / "rejects.jsonl"
        raise io.InputError(input, f"no comments to audit (rejected records, if any: {rejected})")
    result = run_audit(scored, plan, settings, error_rates(manifest))
    paths = build_report(scored, output, manifest=manifest, title=plan.campaign.name, audit=result)
    # Posts missing from the export or owned by someone else change what a verdict rests on.
    lines = [f"warning: {w}" for w in result.warnings]
    lines += [f"{verdict.handle}: {verdict.verdict}" for verdict in result.creators]
    for line in lines:
        say(line)
    say(f"audit report written to {paths.html}")
