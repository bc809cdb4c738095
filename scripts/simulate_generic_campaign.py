"""Inject a generic-praise bot campaign of known size into real genuine comments and measure
how much of it the verdict calls `coordinated generic`, per post.

    nice .venv/bin/python scripts/simulate_generic_campaign.py [--model models/default]
        [--levels 0,0.1,0.2,0.3,0.4,0.5] [--min-comments 20] [--per-post]

The genuine comments are ScamSpot's real `genuine` comments (../shared/datasets), on their
real posts. ScamSpot has no authors or timestamps, so they are synthesised: every genuine
comment comes from a one-off fan, 1 minute to days after publication (lognormal delay,
median 6 hours). At injected share s, a post with n genuine comments gets
round(n * s / (1 - s)) bot comments: generic praise from a pool written here, by a fixed set
of bot accounts that each work on many posts, all within minutes of publication. The
comments are scored by the model (p_spam and p_generic in one forward pass), then go through
the same signals and verdict code as `comment-audit score`; the estimate per post is the
share the generic path calls coordinated generic (see generic_path). With `--lexicon` the generic
labelling rules stand in for the model's p_generic (a development fallback only).
"""

from __future__ import annotations

import argparse
import os
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from pipeline import behaviour, signals, verdict  # noqa: E402
from pipeline.score import clean_frame  # noqa: E402

DATA = REPO.parent / "shared" / "datasets" / "scamspot-instagram" / "comments.jsonl"
LEVELS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
N_BOTS = 60
# Generic praise that fits any post; each bot uses two favourite phrases, emoji varying.
BOT_PHRASES = [
    "Amazing content", "Love this", "Great post keep it up", "Wow", "So inspiring",
    "This is awesome, keep going", "Beautiful", "Nice post", "Nice pic!", "Great content",
    "Awesome work", "Keep shining", "Wonderful post", "Incredible", "Stunning", "Top content",
    "Perfect", "Such a vibe", "Goals", "Nice one", "Love your feed", "So good", "Big fan",
    "Absolutely love it", "Keep it up", "Well done", "Fantastic", "Brilliant post",
]  # fmt: skip
BOT_EMOJI = ["🔥", "🔥🔥", "❤️", "😍", "🙌", "💯", "👏", "✨", "👍", "😍🔥", ""]
EMOJI_ONLY = ["🔥🔥🔥", "😍😍", "👏👏👏", "❤️❤️", "🙌🙌"]


def genuine(path: Path) -> pd.DataFrame:
    """ScamSpot's genuine comments in canonical columns (post, owner, text)."""
    from pipeline.io import read_chunks

    frame = pd.concat(read_chunks(path), ignore_index=True)
    frame = frame[(frame["label"] == "genuine").fillna(False)]
    return frame[["comment_id", "post_id", "post_owner", "text"]].reset_index(drop=True)


def published(posts: pd.DataFrame, rng: random.Random) -> dict[str, datetime]:
    """A publication time per post: each owner's posts a few days apart in 2023."""
    out, start = {}, datetime(2023, 3, 1, tzinfo=UTC)
    for _, group in posts.groupby("post_owner", sort=True):
        t = start + timedelta(hours=rng.uniform(0, 240))
        for post in sorted(group["post_id"].unique()):
            out[post] = t
            t += timedelta(hours=rng.uniform(20, 120))
    return out


def fans(frame: pd.DataFrame, pub: dict[str, datetime], rng: random.Random) -> pd.DataFrame:
    """One-off fan authors and organic times: spread over hours and days."""
    delays = [max(60.0, rng.lognormvariate(np.log(6 * 3600), 1.5)) for _ in range(len(frame))]
    times = [pub[p] + timedelta(seconds=d) for p, d in zip(frame["post_id"], delays, strict=True)]
    return frame.assign(
        author=[f"fan_{i:05d}" for i in range(len(frame))], created_at=times, injected=False
    )


def bot_texts(rng: random.Random) -> dict[str, list[str]]:
    """Each bot's repertoire: two phrases with emoji variants, sometimes emoji only."""
    pool = {}
    for b in range(N_BOTS):
        phrases = rng.sample(BOT_PHRASES, 2)
        texts = [f"{p} {e}".strip() for p in phrases for e in rng.sample(BOT_EMOJI, 2)]
        pool[f"bot.vibes_{b:03d}"] = texts + ([rng.choice(EMOJI_ONLY)] if b % 4 == 0 else [])
    return pool


def campaign(frame, share: float, pub, pool, rng: random.Random) -> pd.DataFrame:
    """round(n * s / (1 - s)) bot comments per post, landing within minutes of publication."""
    rows = []
    for (post, owner), n in frame.groupby(["post_id", "post_owner"]).size().items():
        k = round(n * share / (1 - share))
        start = pub[post] + timedelta(seconds=rng.uniform(30, 600))
        window = rng.uniform(60, 300)
        for i, bot in enumerate(rng.choices(sorted(pool), k=k)):
            t = start + timedelta(seconds=rng.uniform(0, window))
            text = rng.choice(pool[bot])
            rows.append(dict(comment_id=f"bot{post}_{i}", post_id=post, post_owner=owner,
                             text=text, author=bot, created_at=t, injected=True))  # fmt: skip
    return pd.DataFrame(rows, columns=[*frame.columns])


def scores(texts: pd.Series, model: str | None, lexicon: bool) -> pd.DataFrame:
    """p_spam, pred_label, p_generic per distinct text: one forward pass of the model."""
    cleaned = clean_frame(pd.DataFrame({"text": texts.drop_duplicates().to_numpy()}))
    if lexicon:
        return cleaned.assign(p_spam=0.0, pred_label="genuine", p_generic=_lexicon_p(cleaned))
    from pipeline.model import Classifier

    clf = Classifier.from_pretrained(model)
    heads = clf.score_clean(cleaned["clean_text"].tolist())
    if "p_generic" not in heads:
        raise SystemExit(f"{model} has no p_generic head; pass a two-head model or --lexicon")
    pred = np.where(heads["p_spam"] >= clf.threshold, "spam", "genuine")
    return cleaned.assign(p_spam=heads["p_spam"], pred_label=pred, p_generic=heads["p_generic"])


def _lexicon_p(cleaned: pd.DataFrame) -> np.ndarray:
    from training import generic_labels as G

    rules = G.load_rules()
    out = [
        float(G.label_row(r.text, r.clean_text, r.emoji_only, False, False, rules)[0] == 1)
        for r in cleaned.itertuples()
    ]
    return np.array(out)


def run_level(frame, share, pub, pool, scored, seed: int) -> pd.DataFrame:
    """The scored, signalled and judged export at one injected share."""
    bots = campaign(frame, share, pub, pool, random.Random(seed))
    rows = pd.concat([frame, bots], ignore_index=True).astype({"injected": bool})
    rows["created_at"] = [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in rows["created_at"]]
    rows = rows.merge(scored, on="text", how="left")
    judged = verdict.add_verdict(signals.add_signals(rows))
    return judged.assign(campaign=generic_path(judged))


def generic_path(judged: pd.DataFrame) -> pd.Series:
    """True where the generic path finds coordinated generic text, whatever the spam
    classifier says: a bot's "Love your feed 👍" at p_spam 0.56 is verdict `spam` (spam comes
    first, and the report counts it once as fake), but it is still the campaign caught."""
    config = verdict.VerdictConfig()
    generic = behaviour.generic_flags(judged, config.generic_threshold).to_numpy(dtype=bool)
    found, _ = verdict.decide(judged.assign(pred_label="genuine"), generic, config)
    return found == verdict.COORDINATED


def per_post(judged: pd.DataFrame) -> pd.DataFrame:
    by = judged.groupby("post_id")
    out = pd.DataFrame({"n": by.size(), "injected": by["injected"].mean()})
    out["genuine"] = out["n"] - by["injected"].sum()
    out["estimated"] = by["campaign"].mean()
    out["error"] = out["estimated"] - out["injected"]
    return out


def summary_row(share: float, posts: pd.DataFrame, judged: pd.DataFrame) -> dict:
    bots = judged[judged["injected"]]
    fans = judged[~judged["injected"]]
    return {
        "injected share": share, "posts": len(posts), "comments": int(posts["n"].sum()),
        "mean injected": posts["injected"].mean(), "mean estimated": posts["estimated"].mean(),
        "mean abs error": posts["error"].abs().mean(), "max abs error": posts["error"].abs().max(),
        "max estimate": posts["estimated"].max(),
        "bots caught": bots["campaign"].mean() if len(bots) else np.nan,
        "fans misjudged": fans["campaign"].mean(),
        "bots called spam": (bots["verdict"] == verdict.SPAM).mean() if len(bots) else np.nan,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(REPO / "models" / "default"))
    parser.add_argument("--lexicon", action="store_true", help="lexicon p_generic (dev only)")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)))
    parser.add_argument(
        "--min-comments", type=int, default=20, help="genuine comments a post needs to be shown"
    )
    parser.add_argument("--per-post", action="store_true")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    frame = genuine(args.data)
    pub = published(frame, rng)
    frame = fans(frame, pub, rng)
    pool = bot_texts(rng)
    texts = pd.concat([frame["text"], pd.Series([t for v in pool.values() for t in v])])
    scored = scores(texts, args.model, args.lexicon).drop(columns=["clean_text"])
    rows = []
    for k, share in enumerate(float(x) for x in args.levels.split(",")):
        judged = run_level(frame, share, pub, pool, scored, args.seed + k)
        posts = per_post(judged)
        posts = posts[posts["genuine"] >= args.min_comments]  # the same posts at every level
        rows.append(summary_row(share, posts, judged))
        if args.per_post:
            print(f"\ninjected {share:.0%}\n" + posts.round(3).to_string())
    table = pd.DataFrame(rows)
    print(table.to_markdown(index=False, floatfmt=".3f"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
