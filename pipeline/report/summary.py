"""The numbers behind the report: overall shares, group tables, clusters, authors, examples.

Everything here is a pure function of the scored frame and the model manifest. The page, the
summary.json and the CSVs are all rendered from what `summarize` returns, so they cannot
disagree. Optional columns (author, created_at, signals) may be absent: their parts are empty.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from pipeline import aggregate, breakdown, verdict
from pipeline.campaign import normalise_handle
from pipeline.config import ConfigError
from pipeline.shares import ErrorRates
from pipeline.values import parse_flags

SHORTCODE_COLUMNS = ("post_shortcode", "shortcode")
FLAGGED_COLUMNS = (
    "comment_id", "post_id", "post_owner", "author", "created_at", "p_spam", "pred_label",
    "reasons", "text", "cluster_id", "cluster_size", "cluster_posts", "copy_paste", "in_burst",
    "p_generic", "verdict", "verdict_reason",
)  # fmt: skip


@dataclass(frozen=True)
class ReportOptions:
    min_n: int = aggregate.DEFAULTS.min_n  # smaller groups show "not enough comments"
    max_rows: int = 50  # rows per table on the page and in summary.json; CSVs hold every row
    max_bars: int = 25
    n_examples: int = 20
    n_clusters: int = 10
    n_authors: int = 15
    text_chars: int = 280  # a comment is untrusted and unbounded; the page shows a prefix

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            if getattr(self, field.name) < 1:
                raise ConfigError(
                    f"report.{field.name} must be >= 1, got {getattr(self, field.name)}"
                )


def flags(scored: pd.DataFrame) -> pd.Series:
    """True where the classifier flagged the comment as spam."""
    if "pred_label" not in scored.columns:
        raise ValueError("scored rows need a pred_label column; run `comment-audit score` first")
    return scored["pred_label"].astype("string").str.casefold().eq("spam").fillna(False)


def other_threshold(scored: pd.DataFrame, manifest: Mapping[str, Any] | None) -> int:
    """Rows whose pred_label disagrees with p_spam >= the manifest's threshold: a file scored
    with another model (or threshold) than the one whose error rates would correct it."""
    threshold = _float((manifest or {}).get("threshold"))
    if threshold is None or "p_spam" not in scored or "pred_label" not in scored:
        return 0
    p = pd.to_numeric(scored["p_spam"], errors="coerce")
    known = p.notna() & scored["pred_label"].notna()
    return int((flags(scored) != (p >= threshold))[known].sum())


def error_rates(manifest: Mapping[str, Any] | None) -> ErrorRates | None:
    """The manifest's measured error rates, or None when absent or unusable."""
    try:
        return ErrorRates.from_manifest(manifest or {})
    except ValueError:
        return None


def model_info(manifest: Mapping[str, Any] | None) -> dict[str, Any]:
    manifest = manifest or {}
    rates = error_rates(manifest)
    base = manifest.get("base_model")
    return {
        "base_model": base.get("id") if isinstance(base, Mapping) else None,
        "created_at": manifest.get("created_at"),
        "threshold": _float(manifest.get("threshold")),
        "cleaning_version": manifest.get("cleaning_version"),
        "error_rates": dataclasses.asdict(rates) if rates else None,
    }


def overall(scored: pd.DataFrame, rates: ErrorRates | None) -> dict[str, Any]:
    """Export-wide counts and shares: one group holding every comment."""
    stats = aggregate.group_stats(scored.assign(_all="all"), by="_all", rates=rates, min_n=1)
    row = stats.iloc[0].to_dict() if len(stats) else {"n": 0}
    fields = ("n", "n_flagged", "flagged_share", "wilson_lo", "wilson_hi", "corrected_share",
              "corrected_lo", "corrected_hi", "copy_paste_share", "n_clusters", "note")  # fmt: skip
    out = {k: row.get(k) for k in fields}
    out["note"] = out["note"] or ""
    if out["copy_paste_share"] is None or pd.isna(out["copy_paste_share"]):
        out["n_clusters"] = None  # no signals columns: unknown, not zero
    for name, column in (
        ("n_posts", "post_id"),
        ("n_owners", "post_owner"),
        ("n_authors", "author"),
    ):
        out[name] = int(scored[column].nunique()) if column in scored else None
    out["burst_share"] = _mean_flag(scored, "in_burst")
    out.update(_overall_fake(scored, rates))
    out["has_times"] = has_times(scored)
    return out


def _overall_fake(scored: pd.DataFrame, rates: ErrorRates | None) -> dict[str, Any]:
    """The fake share (spam + coordinated generic) of the whole export; {} without verdicts."""
    if not breakdown.has_verdicts(scored):
        return {}
    row = breakdown.fake_columns(scored.assign(_all="all"), "_all", rates, min_n=1).iloc[0]
    segments = (f"n_{s}" for s in breakdown.SEGMENTS)
    keys = (*breakdown.FAKE_COLUMNS, "n_coordinated_added", *segments)
    return {k: int(row[k]) if k.startswith("n_") else row.get(k) for k in keys}


def group_table(
    scored: pd.DataFrame, by: str, rates: ErrorRates | None, min_n: int
) -> pd.DataFrame:
    """group_stats for `by`, worst first, with a display label; posts also get their owner."""
    table = aggregate.group_stats(scored, by=by, rates=rates, min_n=min_n)
    table = table.rename(columns={table.columns[0]: "group"})
    table = breakdown.add_fake(table, scored, by, rates, min_n)
    labels = post_labels(scored) if by == "post" else {}
    table.insert(1, "label", table["group"].map(lambda g: labels.get(g, g)).astype("string"))
    if by == "post" and "post_owner" in scored:
        owners = scored.dropna(subset=["post_id"]).groupby("post_id")["post_owner"].agg(_mode)
        table.insert(2, "owner", table["group"].map(owners).astype("string"))
    worst = "fake_share" if "fake_share" in table else "flagged_share"  # spam + coordinated
    order = table.assign(_ok=table["status"].eq("ok"), _share=table[worst].fillna(-1))
    order = order.sort_values(
        ["_ok", "_share", "n", "group"], ascending=[False, False, False, True]
    )
    return order.drop(columns=["_ok", "_share"]).reset_index(drop=True)


def post_labels(scored: pd.DataFrame) -> dict[str, str]:
    """post_id -> shortcode where the export has one: "DU1ttB3ZlUf" reads better than a media id."""
    column = next((c for c in SHORTCODE_COLUMNS if c in scored), None)
    if column is None or "post_id" not in scored:
        return {}
    pairs = scored[["post_id", column]].dropna().astype(str)
    return pairs.groupby("post_id")[column].agg(_mode).to_dict()


def text_ids(scored: pd.DataFrame) -> pd.DataFrame:
    """Post ids as text, as the audit and the campaign file hold them: pd.read_csv makes
    numeric ones ints, which would match no audited post."""
    if "post_id" not in scored:
        return scored
    return scored.assign(post_id=scored["post_id"].astype("string"))


def unify_owners(scored: pd.DataFrame) -> pd.DataFrame:
    """One spelling per creator, its most common: "@Coach.Lena.Fit" and "coach.lena.fit" are
    one account (handles ignore case; the audit matches them so), not two report rows."""
    if "post_owner" not in scored or scored["post_owner"].isna().all():
        return scored
    owner = scored["post_owner"].astype("string")
    keys = {u: normalise_handle(u) for u in owner.dropna().unique()}
    key = owner.map(keys, na_action="ignore")
    spelling = owner.groupby(key).agg(_mode)
    return scored.assign(post_owner=key.map(spelling).astype("string"))


def clusters(scored: pd.DataFrame, k: int, chars: int) -> list[dict[str, Any]]:
    if "copy_paste" not in scored or "cluster_id" not in scored or scored.empty:
        return []
    table = aggregate.top_clusters(_with_author(scored), k=k)
    if "text" in scored:
        # What people actually wrote, not the model's cleaned text (emoji spelled out etc.).
        # A blank text (redacted before sharing) falls back to the cleaned one.
        text = scored["text"].astype("string").replace(r"^\s*$", pd.NA, regex=True)
        written = text.groupby(scored["cluster_id"].astype("string")).agg(_mode)
        shown = table["cluster_id"].map(written.astype("string"))
        table["example"] = shown.fillna(table["example"].astype("string"))
    table["example"] = table["example"].map(lambda t: _clip(t, chars))
    return records(table)


def worst_authors(scored: pd.DataFrame, k: int) -> list[dict[str, Any]]:
    if "author" not in scored or scored["author"].isna().all():
        return []
    table = aggregate.worst_authors(scored, k=k)
    return records(table[table["flagged"] > 0])


def flagged_rows(
    scored: pd.DataFrame, keep: tuple[str, ...] = (), fake: bool = False
) -> pd.DataFrame:
    """Every flagged comment with its reasons, most confident first; with `fake`, then the
    coordinated generic comments the fake share also counts, most generic first (flagged.csv:
    a brand asking for the fake comments wants the bot praise too)."""
    columns = [c for c in (*FLAGGED_COLUMNS, *keep) if c in scored.columns]
    spam = _most(scored[flags(scored).to_numpy()][columns], "p_spam")
    if not (fake and breakdown.has_verdicts(scored)):
        return spam
    coordinated = scored["verdict"].astype("string").eq(verdict.COORDINATED).fillna(False)
    praise = _most(scored[coordinated.to_numpy()][columns], "p_generic")
    return pd.concat([spam, praise], ignore_index=True) if len(praise) else spam


def _most(rows: pd.DataFrame, column: str) -> pd.DataFrame:
    if column in rows:
        rows = rows.sort_values(column, ascending=False, kind="stable")
    return rows.reset_index(drop=True)


def examples(scored: pd.DataFrame, k: int, chars: int, fake: bool = False) -> list[dict[str, Any]]:
    """Up to k flagged comments (with `fake`, coordinated generic ones too: `_balanced`), one
    per distinct text, so one bot script cannot fill the list."""
    rows = flagged_rows(scored.assign(_key=_key(scored)), keep=("_key",), fake=fake)
    rows = rows.drop_duplicates("_key").drop(columns="_key")
    praise = rows.get("verdict", pd.Series(dtype="string")).astype("string")
    praise = praise.eq(verdict.COORDINATED).fillna(False).to_numpy()
    rows = _balanced(rows, praise, k) if praise.any() else rows.head(k)
    labels = post_labels(scored)
    if labels:
        rows.insert(2, "post_label", rows["post_id"].map(lambda p: labels.get(p, p)))
    if "text" in rows:
        rows["text"] = rows["text"].map(lambda t: _clip(t, chars))
    return records(rows)


def _balanced(rows: pd.DataFrame, praise: np.ndarray, k: int) -> pd.DataFrame:
    """Up to k rows, spam first; at least half coordinated generic where there are enough,
    so bot praise is shown where it makes most of the fake share. Their verdict reason
    ("generic text ...; copy-paste: ...") is their reasons."""
    spam, generic = rows[~praise], rows[praise]
    n = min(len(generic), max(k - len(spam), (k + 1) // 2))
    generic = generic.head(n).assign(reasons=generic["verdict_reason"].head(n))
    return pd.concat([spam.head(k - n), generic], ignore_index=True)


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [jsonable(r) for r in frame.to_dict("records")]


def jsonable(value: Any) -> Any:
    """Plain JSON types: NaN/NA -> None, numpy scalars -> Python, dataclasses -> dicts."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [jsonable(v) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) or math.isinf(value) else float(value)
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return value if isinstance(value, str) else str(value)


def _key(scored: pd.DataFrame) -> pd.Series:
    for column in ("dedup_key", "clean_text", "text"):
        if column in scored:
            return scored[column].astype("string").fillna("")
    return pd.Series(np.arange(len(scored)).astype(str), index=scored.index)


def _with_author(scored: pd.DataFrame) -> pd.DataFrame:
    return scored if "author" in scored else scored.assign(author=pd.NA)


def _clip(text: Any, chars: int) -> str:
    text = "" if text is None or text is pd.NA else str(text)
    return text if len(text) <= chars else text[: chars - 1] + "\u2026"


def _mode(values: pd.Series) -> Any:
    return aggregate.most_common(values, empty=pd.NA)


def _mean_flag(scored: pd.DataFrame, column: str) -> float | None:
    if column not in scored or scored.empty:
        return None
    return float(parse_flags(scored[column]).fillna(False).astype(float).mean())


def has_times(scored: pd.DataFrame) -> bool:
    if "created_at" not in scored:
        return False
    parsed = pd.to_datetime(scored["created_at"].astype("string"), utc=True, errors="coerce",
                            format="ISO8601")  # fmt: skip
    return bool(parsed.notna().any())


def _float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None
