"""The evidence shown under each creator's verdict: what the flagged campaign comments look like.

A verdict is a number; a brand manager needs to see why. For each creator this collects, on
that creator's campaign posts only, flagged examples with their reasons and the copy-paste
clusters (the comment-time histograms are chart geometry, built in render.charts).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from pipeline.audit import AuditResult
from pipeline.report import summary
from pipeline.report.summary import ReportOptions

TONES = ("good", "warn", "high", "bad")
EXAMPLES_PER_CREATOR = 5
CLUSTERS_PER_CREATOR = 5


def audit_block(
    scored: pd.DataFrame, audit: AuditResult | None, options: ReportOptions
) -> dict[str, Any] | None:
    """The audit as plain data for the page: verdicts, colour tones, labels and evidence."""
    if audit is None:
        return None
    raw, n = audit.to_dict(), len(audit.bands)
    labels = summary.post_labels(scored)
    creators = [
        {**c, "tone": tone(c["level"], n), "evidence": e, "posts": _labelled(c["posts"], labels),
         "post_labels": {p: labels.get(p, p) for p in c["post_ids"]}}
        for c, e in zip(raw["creators"], audit_evidence(scored, audit, options), strict=True)
    ]  # fmt: skip
    bands = [{**b, "tone": tone(i, n)} for i, b in enumerate(raw["bands"])]
    return {**raw, "creators": creators, "bands": bands}


def _labelled(posts: list[dict[str, Any]], labels: dict[str, str]) -> list[dict[str, Any]]:
    return [{**p, "label": labels.get(p["post"], p["post"])} for p in posts]


def audit_evidence(
    scored: pd.DataFrame, audit: AuditResult, options: ReportOptions
) -> list[dict[str, Any]]:
    """One evidence block per creator, in the audit's order."""
    return [creator_evidence(scored, c.post_ids, options) for c in audit.creators]


def creator_evidence(
    scored: pd.DataFrame, post_ids: tuple[str, ...], options: ReportOptions
) -> dict[str, Any]:
    rows = scored[scored["post_id"].isin(post_ids)] if "post_id" in scored else scored.iloc[:0]
    k_examples = min(EXAMPLES_PER_CREATOR, options.n_examples)
    k_clusters = min(CLUSTERS_PER_CREATOR, options.n_clusters)
    return {
        "n_comments": len(rows),
        "examples": summary.examples(rows, k_examples, options.text_chars, fake=True),
        "clusters": _repeated(summary.clusters(rows, k_clusters, options.text_chars)),
        "has_times": summary.has_times(rows),
    }


def _repeated(clusters: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Clusters seen at least twice on these posts; a single copy is evidence elsewhere."""
    return [c for c in clusters if (c.get("size") or 0) >= 2]


def tone(level: int, n_bands: int) -> str:
    """A colour class for a band index that works for any number of bands (-1: no verdict)."""
    if level < 0:
        return "none"
    if n_bands <= 1:
        return TONES[0]
    return TONES[round(level * (len(TONES) - 1) / (n_bands - 1))]
