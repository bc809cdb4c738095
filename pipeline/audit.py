"""Brand campaign audit: a verdict per creator on how much of the campaign engagement is fake.

A campaign file (TOML) names the creators and their campaign posts by id, shortcode or URL.
`run_audit` finds those posts in a scored export, measures the (corrected) fake share of each
creator's campaign comments, maps it to a verdict band from configs/audit.toml, and compares
every campaign post with the same creator's other posts in the export (the baseline).
Posts the export does not hold become warnings in the report, not errors.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline import aggregate, breakdown, duplicates, shares
from pipeline.campaign import (
    CampaignConfig,
    load_campaign,
    matched_posts,
    missing_warnings,
    normalise_handle,
    owner_warnings,
    post_index,
    table_entry,
)
from pipeline.config import ConfigError, load_config
from pipeline.shares import ErrorRates

__all__ = ["AuditConfig", "AuditResult", "Band", "CampaignConfig", "load_audit_config",
           "load_campaign", "run_audit"]  # fmt: skip

NOT_ENOUGH = "not enough comments"
NO_POSTS = "no campaign posts found"
ALL_POSTS = "all campaign posts"


@dataclass(frozen=True)
class Band:
    name: str
    min_share: float  # the band runs from here up to the next band's min_share
    meaning: str

    def __post_init__(self) -> None:
        if not self.name.strip() or not self.meaning.strip():
            raise ConfigError("every [[bands]] entry needs a non-empty name and meaning")
        if not 0.0 <= self.min_share < 1.0:
            raise ConfigError(
                f"band {self.name!r}: min_share must be in [0, 1), got {self.min_share}"
            )


# The same bands as configs/audit.toml, so AuditConfig() alone gives the documented verdicts.
DEFAULT_BANDS = (
    Band("clean", 0.0, "About the background level of spam any public account attracts; "
         "nothing to act on."),
    Band("some inauthentic engagement", 0.05, "A noticeable minority of comments look bought "
         "or automated. Worth raising with the creator; not by itself a reason to withhold "
         "payment."),
    Band("substantial", 0.15, "The comment count overstates real engagement materially. Ask "
         "the creator for an explanation before paying engagement-based fees."),
    Band("severe", 0.30, "Much of the engagement looks fake. Treat the reported engagement of "
         "these posts as unreliable."),
)  # fmt: skip


@dataclass(frozen=True)
class AuditConfig:
    min_comments: int = 30  # campaign comments a creator needs for a verdict
    # Below this a post (or a baseline) shows no share, like the report's group tables.
    min_post_comments: int = aggregate.DEFAULTS.min_n
    z: float = 1.96
    bands: tuple[Band, ...] = DEFAULT_BANDS

    def __post_init__(self) -> None:
        bands = tuple(table_entry(Band, b, f"bands[{i}]") for i, b in enumerate(self.bands))
        object.__setattr__(self, "bands", bands)
        if min(self.min_comments, self.min_post_comments) < 1:
            raise ConfigError("min_comments and min_post_comments must be >= 1")
        if not 0 < self.z < 10:
            raise ConfigError(f"z must be a normal quantile such as 1.96, got {self.z}")
        starts = [b.min_share for b in bands]
        if not bands or starts[0] != 0.0 or starts != sorted(set(starts)):
            raise ConfigError(
                "bands need min_share 0 first and strictly increasing min_share after"
            )
        if len({b.name for b in bands}) != len(bands):
            raise ConfigError("band names must be unique")

    def band(self, share: float) -> int:
        """Index of the band holding `share` as the report shows it (in 0.1% steps), so that
        "5.0%" is never called "clean" next to a band starting at 5%."""
        shown = float(f"{share * 100:.1f}") / 100
        return max(i for i, b in enumerate(self.bands) if b.min_share <= shown + 1e-12)


@dataclass(frozen=True)
class Comparison:
    """One campaign post (or all of a creator's) against the creator's other posts."""

    post: str
    n: int
    n_flagged: int | None
    flagged_share: float | None
    wilson_lo: float | None
    wilson_hi: float | None
    corrected_share: float | None
    corrected_lo: float | None
    corrected_hi: float | None
    baseline_n: int
    baseline_share: float | None
    diff: float | None
    diff_lo: float | None
    diff_hi: float | None
    note: str


@dataclass(frozen=True)
class CreatorVerdict:
    handle: str
    verdict: str
    meaning: str
    level: int  # band index, -1 without a verdict
    measure: str  # "corrected" or "flagged": which share the verdict rests on
    share: float | None
    lo: float | None
    hi: float | None
    campaign: Comparison
    posts: tuple[Comparison, ...]
    post_ids: tuple[str, ...]
    notes: tuple[str, ...]


@dataclass(frozen=True)
class AuditResult:
    campaign: str
    brand: str
    creators: tuple[CreatorVerdict, ...]
    warnings: tuple[str, ...]
    bands: tuple[Band, ...]
    min_comments: int
    # What n_flagged, flagged_share and corrected_share count: "fake" (spam + coordinated
    # generic) when the scored rows carry verdicts, else the classifier's "spam" flag.
    counts: str = "spam"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def load_audit_config(path: str | Path | None = None, overrides: list[str] = ()) -> AuditConfig:
    return load_config(AuditConfig, path, overrides)


def run_audit(
    scored: pd.DataFrame,
    campaign: CampaignConfig,
    config: AuditConfig = AuditConfig(),
    rates: ErrorRates | None = None,
) -> AuditResult:
    """Verdicts for every creator of `campaign` over a scored export (pure)."""
    if "post_id" not in scored.columns:
        raise ValueError("an audit needs the post_id column to find the campaign posts")
    # Ids are text (the index and the campaign file are); pd.read_csv makes numeric ones ints.
    scored, n_duplicates = duplicates.counted(scored)
    scored = scored.assign(post_id=scored["post_id"].astype("string"))
    index = post_index(scored)
    matched = {c.handle: matched_posts(c, index) for c in campaign.creators}
    every = set().union(*(set(ids) for ids, _ in matched.values()))
    warnings = [w for c in campaign.creators for w in missing_warnings(c, matched[c.handle][1])]
    warnings += owner_warnings(scored, campaign.creators, matched)
    warnings += duplicates.warnings(n_duplicates)
    creators = tuple(
        _verdict(scored, c, matched[c.handle][0], every, config, rates) for c in campaign.creators
    )
    name, brand = campaign.campaign.name, campaign.campaign.brand
    counts = "fake" if breakdown.has_verdicts(scored) else "spam"
    return AuditResult(name, brand, creators, tuple(warnings), config.bands, config.min_comments,
                       counts)  # fmt: skip


def diff_interval(k1: int, n1: int, k2: int, n2: int, z: float = 1.96) -> tuple[float, ...]:
    """p1 - p2 with Newcombe's hybrid score interval (built from the two Wilson intervals)."""
    p1, p2 = k1 / n1, k2 / n2
    (l1, u1), (l2, u2) = shares.wilson_interval(k1, n1, z), shares.wilson_interval(k2, n2, z)
    d = p1 - p2
    return d, d - math.hypot(p1 - l1, u2 - p2), d + math.hypot(u1 - p1, p2 - l2)


def _verdict(scored, creator, post_ids, every, config, rates) -> CreatorVerdict:
    rows = scored[scored["post_id"].isin(post_ids)]
    baseline, notes = _baseline(scored, creator.handle, every)
    # The pooled share is what a verdict rests on: shown from min_comments on even when that
    # is below min_post_comments (else a verdict allowed by min_comments had no share).
    pooled_min = min(config.min_comments, config.min_post_comments)
    pooled = _compare(ALL_POSTS, rows, baseline, config, rates, pooled_min)
    posts = tuple(
        _compare(p, rows[rows["post_id"] == p], baseline, config, rates, config.min_post_comments)
        for p in post_ids
    )
    measure, share, lo, hi, why = _measure(pooled, rates, breakdown.has_verdicts(scored))
    if share is None or pooled.n < config.min_comments:
        verdict, meaning = _no_verdict(post_ids, pooled.n, config.min_comments)
        return CreatorVerdict(creator.handle, verdict, meaning, -1, measure, None, None, None,
                              pooled, posts, post_ids, notes)  # fmt: skip
    level = config.band(share)
    band = config.bands[level]
    notes += why + _spread(config, lo, hi, level)
    return CreatorVerdict(creator.handle, band.name, band.meaning, level, measure, share, lo, hi,
                          pooled, posts, post_ids, notes)  # fmt: skip


def _measure(pooled: Comparison, rates: ErrorRates | None, fake: bool) -> tuple:
    """(measure, share, lo, hi, notes): the corrected share when the model's error rates allow.
    `fake`: the shares count spam and coordinated generic (the rows have verdicts)."""
    if rates is not None and pooled.corrected_share is not None:
        return "corrected", pooled.corrected_share, pooled.corrected_lo, pooled.corrected_hi, ()
    raw = "raw fake share (spam + coordinated generic)" if fake else "raw flagged share"
    why = (f"the model has no usable error rates, so the verdict uses the {raw}",)
    return "flagged", pooled.flagged_share, pooled.wilson_lo, pooled.wilson_hi, why


def _no_verdict(post_ids: tuple[str, ...], n: int, min_comments: int) -> tuple[str, str]:
    if not post_ids:
        return NO_POSTS, "None of this creator's campaign posts is in the export."
    return NOT_ENOUGH, f"{n} comments on the campaign posts; a verdict needs {min_comments}."


def _spread(config: AuditConfig, lo: float | None, hi: float | None, level: int) -> tuple[str, ...]:
    if lo is None or hi is None or config.band(lo) == config.band(hi) == level:
        return ()
    low, high = config.bands[config.band(lo)].name, config.bands[config.band(hi)].name
    return (f"the 95% interval runs from {low!r} to {high!r}",)


def _baseline(scored: pd.DataFrame, handle: str, every: set[str]):
    if "post_owner" not in scored:
        note = "the export has no post owner column, so there is no baseline of other posts"
        return scored.iloc[:0], (note,)
    own = scored["post_owner"].map(normalise_handle, na_action="ignore") == normalise_handle(handle)
    # A comment that lost its post id may be from a campaign post: never part of the baseline.
    other = scored["post_id"].notna() & ~scored["post_id"].isin(every)
    rows = scored[own.fillna(False).to_numpy() & other.to_numpy()]
    if rows.empty:
        return rows, (f"the export holds no other posts by {handle}, so there is no baseline",)
    return rows, ()


def _compare(post: str, rows, baseline, config: AuditConfig, rates, min_n: int) -> Comparison:
    own, base = _counts(rows, rates, config.z), _counts(baseline, None, config.z)
    small = own["n"] < min_n
    diff = (None, None, None)
    note = NOT_ENOUGH if small else ""
    if not small and base["n"] >= config.min_post_comments:
        diff = diff_interval(own["n_flagged"], own["n"], base["n_flagged"], base["n"], config.z)
    elif not small:
        note = (
            "no baseline"
            if base["n"] == 0
            else f"baseline has under {config.min_post_comments} comments"
        )
    shown = {k: None if small else v for k, v in own.items() if k != "n"}
    base_share = base["flagged_share"] if base["n"] >= config.min_post_comments else None
    return Comparison(post, own["n"], **shown, baseline_n=base["n"], baseline_share=base_share,
                      diff=diff[0], diff_lo=diff[1], diff_hi=diff[2], note=note)  # fmt: skip


_COUNT_FIELDS = ("n_flagged", "flagged_share", "wilson_lo", "wilson_hi", "corrected_share",
                 "corrected_lo", "corrected_hi")  # fmt: skip


# With verdicts, the audit counts what the report's fake share counts: spam + coordinated generic.
_FAKE_FIELDS = dict(zip(_COUNT_FIELDS, breakdown.FAKE_COLUMNS, strict=True))


def _counts(rows: pd.DataFrame, rates: ErrorRates | None, z: float) -> dict[str, Any]:
    if rows.empty:
        return {"n": 0, **dict.fromkeys(_COUNT_FIELDS)}
    if breakdown.has_verdicts(rows):
        row = breakdown.fake_columns(rows.assign(_all="all"), "_all", rates, 1, z).iloc[0]
        values = {k: _clean(row[v]) for k, v in _FAKE_FIELDS.items()}
        return {"n": len(rows), **values, "n_flagged": int(row["n_fake"])}
    stats = aggregate.group_stats(rows.assign(_all="all"), by="_all", rates=rates, min_n=1, z=z)
    row = stats.iloc[0]
    values = {k: _clean(row[k]) for k in _COUNT_FIELDS}
    values["n_flagged"] = None if values["n_flagged"] is None else int(values["n_flagged"])
    return {"n": int(row["n"]), **values}


def _clean(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)
