"""Acceptance on examples/instagram_export.jsonl: the planted generic-praise campaign comes out
as `coordinated generic`, and no genuine comment by a one-off fan does."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline import signals, verdict
from pipeline.io import read_chunks
from pipeline.score import clean_frame

REPO = Path(__file__).resolve().parents[2]
EXPORT = REPO / "examples" / "instagram_export.jsonl"
MODELS = ("default", "student")  # the shipped models; COMMENT_AUDIT_TEST_MODEL replaces default


@pytest.fixture(scope="module")
def cleaned() -> pd.DataFrame:
    return clean_frame(pd.concat(read_chunks(EXPORT), ignore_index=True))


def lexicon_p_generic(frame: pd.DataFrame) -> np.ndarray:
    """The labelling rules as a stand-in p_generic: 1 for generic, 0 otherwise."""
    from training import generic_labels as G

    rules = G.load_rules()
    decide = (G.label_row(r.text, r.clean_text, r.emoji_only, False, False, rules)[0]
              for r in frame.itertuples())  # fmt: skip
    return np.array([float(g == 1) for g in decide])


def judge(frame: pd.DataFrame, p_spam: np.ndarray, p_generic: np.ndarray, threshold: float):
    scored = frame.assign(p_spam=p_spam, p_generic=p_generic)
    scored["pred_label"] = np.where(p_spam >= threshold, "spam", "genuine")
    return verdict.add_verdict(signals.add_signals(scored))


def check(judged: pd.DataFrame) -> None:
    campaign = judged[judged["planted"] == "generic_campaign"]
    assert len(campaign) == 101
    assert (campaign["verdict"] == verdict.COORDINATED).all(), campaign["verdict"].value_counts()
    genuine = judged[judged["planted"].isna()]
    posts = judged.groupby("author")["post_id"].nunique()
    one_off = genuine[genuine["author"].map(posts).fillna(1) == 1]
    assert len(one_off) > 300
    assert not (one_off["verdict"] == verdict.COORDINATED).any()


def test_verdict_logic_on_the_example_export(cleaned):
    """With the labelling rules standing in for the model head and the planted spam as spam."""
    p_spam = cleaned["planted"].isin(["promo", "scam"]).to_numpy(dtype=float)
    check(judge(cleaned, p_spam, lexicon_p_generic(cleaned), 0.5))


@pytest.mark.parametrize("name", MODELS)
def test_shipped_model_on_the_example_export(cleaned, name):
    """The real two-head models: p_spam and p_generic from one forward pass."""
    from pipeline.model import Classifier

    shipped = REPO / "models" / name
    path = (
        Path(os.environ.get("COMMENT_AUDIT_TEST_MODEL", shipped)) if name == "default" else shipped
    )
    # The shipped models are committed: one that fails to load or lacks a head is a bug, not
    # a reason to skip. Only a model swapped in for a trial run may be single-headed.
    model = Classifier.from_pretrained(path)
    if path != shipped and "p_generic" not in model.manifest["heads"]:
        pytest.skip(f"{path} has no p_generic head")
    assert set(model.manifest["heads"]) >= {"p_spam", "p_generic"}
    heads = model.score_clean(cleaned["clean_text"].tolist())
    check(judge(cleaned, heads["p_spam"], heads["p_generic"], model.threshold))


def test_audit_counts_coordinated_generic(cleaned):
    """The campaign verdict rests on spam + coordinated generic once verdicts exist."""
    from pipeline.audit import load_campaign, run_audit

    p_spam = cleaned["planted"].isin(["promo", "scam"]).to_numpy(dtype=float)
    judged = judge(cleaned, p_spam, lexicon_p_generic(cleaned), 0.5)
    campaign = load_campaign(REPO / "examples" / "campaign.toml")
    lena = {c.handle: c for c in run_audit(judged, campaign).creators}["coach.lena.fit"]
    planted = judged[judged["post_id"].isin(lena.post_ids)]["planted"].notna().mean()
    assert lena.campaign.flagged_share == pytest.approx(planted)
    assert lena.verdict == "severe"
