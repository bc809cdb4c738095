"""Hand-made scored frames for the report and audit tests, with XSS payloads in every field.

The columns follow CONTRIBUTING.md's scored-row contract. The coordination columns are
computed here with exact-text clusters (not pipeline.signals) so these tests exercise the
report alone; p_spam is drawn so that spam texts score high.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from pipeline.audit import AuditConfig, AuditResult, run_audit
from pipeline.campaign import Campaign, CampaignConfig, Creator
from pipeline.report.summary import error_rates

SCRIPT = "<script>document.title='pwned'</script>"
IMG = "<img src=x onerror=\"document.body.appendChild(document.createElement('xss-marker'))\">"
HANDLE = '"><svg onload=alert(1)>'
POST_PAYLOAD = "p<b>ost</b>'\"&amp;"
CAMPAIGN_NAME = "Spring <script>document.title='pwned'</script> & launch"
TITLE = "Report <img src=x onerror=alert(1)>"
FORMULA = '=HYPERLINK("http://evil.example","click")'
SPAM = [
    "check my profile for free followers",
    "dm me to earn $500 a day from home",
    "promote it on @cheap_growth_shop",
    SCRIPT,
    IMG,
    FORMULA,
]
GENUINE = ["love this look", "where is the jacket from", "so good", "great colours", "wow"]
WORDS = ("honestly", "the", "light", "here", "perfect", "again", "you", "look", "amazing", "so",
         "happy", "for", "this", "trip", "need", "that", "bag", "colour", "my", "fave")  # fmt: skip
MANIFEST = {
    "base_model": {"id": "sentence-transformers/all-MiniLM-L6-v2"},
    "threshold": 0.5,
    "created_at": "2026-01-01T00:00:00+00:00",
    "cleaning_version": "1",
    "error_rates": {"sensitivity": 0.9, "specificity": 0.97, "n_pos": 400, "n_neg": 1200},
}
# post -> (owner, comments, spam share, URL-style shortcode)
POSTS = {
    "C1aaa": ("alice", 120, 0.35, "https://www.instagram.com/p/C1aaa/"),
    "C2bbb": ("alice", 80, 0.05, "https://www.instagram.com/p/C2bbb/"),
    "C3ccc": ("alice", 90, 0.04, "https://www.instagram.com/reel/C3ccc/"),
    "yt_vid_001": ("bob", 60, 0.10, "https://youtu.be/yt_vid_001"),
    POST_PAYLOAD: (HANDLE, 40, 0.5, ""),
    "tiny": ("carol", 5, 0.2, ""),
}


def scored_frame(seed: int = 0, times: bool = True, authors: bool = True) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = [row for post, spec in POSTS.items() for row in _post_rows(rng, post, *spec)]
    frame = pd.DataFrame(rows)
    frame["dedup_key"] = frame["clean_text"].str.casefold()
    frame = _signals(frame)
    # Many exports have neither commenter handles nor timestamps.
    dropped = [c for c, keep in (("created_at", times), ("author", authors)) if not keep]
    frame = frame.drop(columns=dropped)
    return frame.astype({c: "string" for c in ("comment_id", "post_id", "post_owner", "text")})


def _signals(frame: pd.DataFrame) -> pd.DataFrame:
    by_text = frame.groupby("dedup_key")
    out = frame.assign(
        cluster_id=frame["dedup_key"].map(
            lambda t: hashlib.blake2b(t.encode(), digest_size=6).hexdigest()
        ),
        cluster_size=by_text["comment_id"].transform("size"),
        cluster_posts=by_text["post_id"].transform("nunique"),
        cluster_authors=by_text["author"].transform("nunique"),
        author_posts=frame.groupby("author")["post_id"].transform("nunique"),
    )
    out["copy_paste"] = (out["cluster_size"] >= 3) & (out["cluster_posts"] >= 2)
    out["author_repeat"] = out["copy_paste"] & (out["author_posts"] >= 2)
    out["in_burst"] = out["pred_label"].eq("spam") & out["post_id"].isin(["C1aaa", POST_PAYLOAD])
    reasons = "p_spam " + out["p_spam"].map("{:.2f}".format)
    copy = "; copy-paste: same text on " + out["cluster_posts"].astype(str) + " posts"
    out["reasons"] = (reasons + copy.where(out["copy_paste"], "")).where(out["p_spam"] >= 0.5, "")
    return out


def _post_rows(rng, post, owner, n, spam_share, url):
    start = pd.Timestamp("2026-03-01T12:00:00Z") + pd.Timedelta(days=len(post) % 5)
    for i in range(n):
        spam = rng.random() < spam_share
        text = SPAM[rng.integers(len(SPAM))] if spam else _fan_text(rng)
        p = float(rng.uniform(0.6, 0.99) if spam else rng.uniform(0.01, 0.45))
        # Bot comments land in the first minutes; fans keep coming for hours.
        offset = rng.uniform(0, 300) if spam else rng.exponential(6 * 3600)
        yield {
            "comment_id": f"{post}-{i}",
            "post_id": post,
            "post_owner": owner,
            "post_url": url or None,
            "author": (HANDLE if i % 7 == 0 else f"bot{rng.integers(8)}") if spam else f"fan{i}",
            "text": text,
            "clean_text": text,
            "created_at": (start + pd.Timedelta(seconds=float(offset))).isoformat(),
            "n_url": 0,
            "n_mention": int("@" in text),
            "p_spam": p,
            "pred_label": "spam" if p >= MANIFEST["threshold"] else "genuine",
        }


def _fan_text(rng) -> str:
    """Real fans rarely write the same sentence twice; a few stock phrases do repeat."""
    if rng.random() < 0.15:
        return GENUINE[rng.integers(len(GENUINE))]
    return " ".join(WORDS[k] for k in rng.choice(len(WORDS), size=5, replace=False))


def audit_for(frame: pd.DataFrame) -> AuditResult:
    """A campaign over the frame's posts, with payloads in its name, brand, handles and posts."""
    config = CampaignConfig(
        Campaign(CAMPAIGN_NAME, brand="Acme <b>&</b>"),
        (
            Creator("alice", ("https://www.instagram.com/p/C1aaa/", "C2bbb", "gone<i>")),
            Creator(HANDLE, (POST_PAYLOAD,)),
            Creator("carol", ("tiny",)),
        ),
    )
    return run_audit(frame, config, AuditConfig(), error_rates(MANIFEST))


# More hostile text: links, SVG, event handlers, frames, styles and bidi overrides, each put in
# a comment, its author handle and its post id, and in the campaign's name, brand and handles.
JS_URL = "javascript:alert(document.domain)//"
LINK = '<a href="javascript:alert(1)">free followers</a>'
SVG = "<svg><animate onbegin=alert(1) attributeName=x dur=1s><script>alert(2)</script></svg>"
EVENTS = "<body onload=alert(1)><details open ontoggle=alert(1)><input autofocus onfocus=alert(1)>"
IFRAME = "<iframe srcdoc=\"<script>parent.document.title='pwned'</script>\"></iframe>"
STYLE = "<style>*{background:url(https://evil.example/x)}</style><base href=//evil.example/>"
HOSTILE = (SCRIPT, IMG, HANDLE, JS_URL, LINK, SVG, EVENTS, IFRAME, STYLE)
# "invoice<RLO>gpj.exe" shows as "invoiceexe.jpg" where the override is obeyed.
RTL = "invoice\u202egpj.exe"
ISOLATE = "\u2067admin\u2069 \u202bfake\u202c \u202dltr\u202a"
BIDI = (RTL, ISOLATE)
HOSTILE_CAMPAIGN = "Launch <svg onload=alert(1)> \u202eevil"


def hostile_frame() -> pd.DataFrame:
    """scored_frame() plus one confidently flagged row per payload (text, author, post id),
    so each one is on the page among the flagged examples."""
    frame = scored_frame()
    template = frame[frame["pred_label"] == "spam"].iloc[0]
    rows = [
        template.to_dict() | {"comment_id": f"x{i}", "text": p, "clean_text": p, "author": p,
                              "post_id": p, "post_url": None, "p_spam": 0.999 - i / 1000,
                              "dedup_key": f"payload {i}", "cluster_id": f"px{i}"}
        for i, p in enumerate(HOSTILE + BIDI)
    ]  # fmt: skip
    extra = pd.DataFrame(rows).astype({c: "string" for c in ("comment_id", "post_id", "text")})
    return pd.concat([frame, extra], ignore_index=True)


def hostile_audit(frame: pd.DataFrame) -> AuditResult:
    creators = (Creator("alice", ("C1aaa", SVG)), Creator(RTL, (RTL, JS_URL)))
    config = CampaignConfig(Campaign(HOSTILE_CAMPAIGN, brand=LINK), creators)
    return run_audit(frame, config, AuditConfig(), error_rates(MANIFEST))
