"""build_report: one self-contained HTML page, summary.json and CSVs for a scored export.

The page is rendered by jinja2 with autoescaping on for everything: comments, handles, post
ids and campaign names come from the export or the campaign file and are never marked safe.
A Content-Security-Policy meta tag (no scripts, no loads except data: images) is a second
line of defence should an escaping bug ever slip through. Every file is written to a temp
file and moved into place, so a reader never sees half a report.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2
import pandas as pd

from pipeline import duplicates, io
from pipeline.aggregate import GROUP_KEYS
from pipeline.audit import AuditResult
from pipeline.report import plots, summary
from pipeline.report.evidence import audit_block
from pipeline.report.summary import ReportOptions

TEMPLATES = Path(__file__).resolve().parent / "templates"
SCHEMA_VERSION = 1
DEFAULT_OPTIONS = ReportOptions()
GROUP_TITLES = {"post": "post", "owner": "creator", "author": "commenter"}
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class ReportPaths:
    out_dir: Path
    html: Path
    summary: Path
    flagged: Path
    groups: Mapping[str, Path]  # "post" -> out_dir/groups_post.csv, ...
    duplicate_records: int = 0  # rows left out as repeats of a comment (pipeline.duplicates)


def build_report(
    scored: pd.DataFrame,
    out_dir: str | Path,
    by: tuple[str, ...] = ("post", "owner", "author"),
    manifest: Mapping[str, Any] | None = None,
    title: str = "Comment audit",
    audit: AuditResult | None = None,
    *,
    options: ReportOptions = DEFAULT_OPTIONS,
    generated_at: str | None = None,
) -> ReportPaths:
    """Write report.html, summary.json, groups_<by>.csv and flagged.csv into `out_dir`."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    scored, n_duplicates = duplicates.counted(scored)
    scored = summary.unify_owners(summary.text_ids(scored))
    rates = summary.error_rates(manifest)
    tables = {b: summary.group_table(scored, b, rates, options.min_n) for b in usable(scored, by)}
    data = summarize(scored, tables, manifest, title, audit, options, generated_at)
    data["skipped_groupings"] = {b: skip_reason(b) for b in by if b not in tables}
    data["overall"]["n_duplicate_records"] = n_duplicates
    groups = {name: out / f"groups_{name}.csv" for name in tables}
    files = (out / "report.html", out / "summary.json", out / "flagged.csv")
    paths = ReportPaths(out, *files, groups, n_duplicates)
    for name, table in tables.items():
        io.write_table([table], groups[name])
    for name in set(GROUP_KEYS) - set(tables):  # an earlier run's, now not current
        (out / f"groups_{name}.csv").unlink(missing_ok=True)
    io.write_table([summary.flagged_rows(scored, fake=True)], paths.flagged)
    write_text(paths.summary, json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False))
    write_text(paths.html, render_html(data, charts(scored, data, options)))
    return paths


def summarize(
    scored: pd.DataFrame,
    tables: Mapping[str, pd.DataFrame],
    manifest: Mapping[str, Any] | None,
    title: str,
    audit: AuditResult | None,
    options: ReportOptions,
    generated_at: str | None = None,
) -> dict[str, Any]:
    """Everything the page shows, as plain JSON data (NaN -> null)."""
    rates = summary.error_rates(manifest)
    chars = options.text_chars
    data = {
        "schema_version": SCHEMA_VERSION,
        "title": title,
        "generated_at": generated_at or datetime.now(UTC).isoformat(timespec="seconds"),
        "overall": summary.overall(scored, rates),
        "model": summary.model_info(manifest),
        "min_n": options.min_n,
        "groups": {b: _group_block(b, t, options) for b, t in tables.items()},
        "top_clusters": summary.clusters(scored, options.n_clusters, chars),
        "worst_authors": summary.worst_authors(scored, options.n_authors),
        "flagged_examples": summary.examples(scored, options.n_examples, chars),
        "files": {"flagged": "flagged.csv", **{b: f"groups_{b}.csv" for b in tables}},
        "audit": audit_block(scored, audit, options),
    }
    return summary.jsonable(data)


def usable(scored: pd.DataFrame, by: tuple[str, ...]) -> list[str]:
    """The groupings whose key column exists and holds at least one value."""
    keys = ((b, GROUP_KEYS.get(b, b)) for b in by)
    return [b for b, key in keys if key in scored and scored[key].notna().any()]


def skip_reason(by: str) -> str:
    return f"the export has no {GROUP_KEYS.get(by, by)} values, so there is no table per {by}"


def _group_block(by: str, table: pd.DataFrame, options: ReportOptions) -> dict[str, Any]:
    notes = sorted({n for n in table.get("note", pd.Series(dtype=str)).dropna() if n})
    return {
        "title": GROUP_TITLES.get(by, by),
        "n_groups": len(table),
        "n_ok": int((table["status"] == "ok").sum()),
        "notes": notes,
        "rows": summary.records(table.head(options.max_rows).drop(columns="note", errors="ignore")),
    }


def charts(scored: pd.DataFrame, data: Mapping[str, Any], options: ReportOptions) -> dict:
    """SVG geometry for every chart on the page (not part of summary.json)."""
    flagged = summary.flags(scored)
    bars = {
        b: plots.share_bars(block["rows"][: options.max_bars], "label")
        for b, block in data["groups"].items()
        if b != "author" and block["rows"]
    }
    stacks = {
        b: plots.verdict_stacks(block["rows"][: options.max_bars], "label")
        for b, block in data["groups"].items()
        if b != "author" and block["rows"] and "spam_share" in block["rows"][0]
    }
    threshold = data["model"]["threshold"]
    p = scored["p_spam"] if "p_spam" in scored else pd.Series(dtype=float)
    times = plots.time_histogram(scored["created_at"], flagged) if "created_at" in scored else None
    timelines = _timelines(scored, flagged, data.get("audit"))
    return {"bars": bars, "stacks": stacks, "p_spam": plots.p_spam_histogram(p, flagged, threshold),
            "time": times, "timelines": timelines}  # fmt: skip


def _timelines(scored: pd.DataFrame, flagged: pd.Series, audit: Mapping | None) -> dict:
    """Per campaign post, its comment-time histogram (None where it has no timestamps)."""
    if not audit or "created_at" not in scored:
        return {}
    posts = {p for c in audit["creators"] for p in c["post_ids"]}
    on = scored["post_id"].isin(posts).to_numpy()
    rows, flags = scored[on], flagged[on]
    groups = rows.groupby("post_id", sort=True).indices
    return {
        post: plots.time_histogram(
            rows["created_at"].iloc[i], flags.iloc[i], width=plots.COMPACT_WIDTH
        )
        for post, i in groups.items()
    }


def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,  # every template, whatever its file name
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=visible_controls,  # every {{ value }}, before escaping
    )
    env.filters.update(pct=pct, interval=interval, num=num, pp=pp, px=px, fixed=fixed, when=when)
    return env


def visible_controls(value: Any) -> Any:
    """Bidi embedding, override and isolate characters shown as [U+202E]: untrusted text could
    otherwise reorder what the page shows ("invoice<U+202E>gpj.exe" reads "invoiceexe.jpg")."""
    if not isinstance(value, str) or not BIDI_CONTROLS.search(value):
        return value
    # type(value): output of a macro is already-escaped markup and must stay marked so;
    # "[U+202E]" holds nothing HTML-special, so the result is as safe as the input.
    return type(value)(BIDI_CONTROLS.sub(_code_point, value))


def _code_point(match: re.Match) -> str:
    return f"[U+{ord(match.group()):04X}]"


def render_html(data: Mapping[str, Any], chart_data: Mapping[str, Any]) -> str:
    template = environment().get_template("report.html.j2")
    return template.render(d=data, charts=chart_data, titles=GROUP_TITLES)


def write_text(path: Path, text: str) -> None:
    """Atomic: a temp file in the same directory, fsynced, then os.replace onto `path`."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write(text if text.endswith("\n") else text + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def pct(value: Any, digits: int = 1) -> str:
    return "\u2013" if _missing(value) else f"{float(value) * 100:.{digits}f}%"


def interval(lo: Any, hi: Any, digits: int = 1) -> str:
    if _missing(lo) or _missing(hi):
        return "\u2013"
    return f"{float(lo) * 100:.{digits}f}\u2013{float(hi) * 100:.{digits}f}%"


def pp(value: Any, digits: int = 1) -> str:
    """A difference of two shares in percentage points, always signed."""
    return (
        "\u2013"
        if _missing(value)
        else f"{float(value) * 100:+.{digits}f} pp".replace("-", "\u2212")
    )


def num(value: Any) -> str:
    return "\u2013" if _missing(value) else f"{int(value):,}"


def px(value: Any) -> str:
    return "0" if _missing(value) else f"{float(value):.1f}"


def fixed(value: Any, digits: int = 2) -> str:
    return "\u2013" if _missing(value) else f"{float(value):.{digits}f}"


def when(value: Any) -> str:
    """An ISO timestamp as minutes in UTC; anything unparseable is shown as it is."""
    if _missing(value):
        return ""
    moment = pd.to_datetime(str(value), utc=True, errors="coerce", format="ISO8601")
    return str(value) if pd.isna(moment) else moment.strftime("%Y-%m-%d %H:%M UTC")


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)
