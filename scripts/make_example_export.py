"""Write examples/instagram_export.jsonl: a small synthetic Instagram comment export.

Every comment text (examples/sources/texts.toml) was written for this project; nothing comes
from a dataset. The export mixes genuine comments (questions, praise, fan emoji, replies, other
languages, typos, disagreement, long comments) with a planted bot campaign on six posts of two
creators: promo and scam comments, and copy-paste generic praise from one set of bot accounts,
posted in bursts right after publication. The truth is in the passthrough column `planted`
("promo" | "scam" | "generic_campaign" | null). Deterministic: same seed, same bytes.

    .venv/bin/python scripts/make_example_export.py [--seed 20260302] [-o PATH]
"""

from __future__ import annotations

import argparse
import json
import math
import random
import string
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "examples" / "instagram_export.jsonl"
CUTOFF = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)  # the moment the export was taken


@dataclass(frozen=True)
class Post:
    owner: str
    key: str  # short name used only inside this script
    published: str
    general: int  # short all-purpose genuine comments on top of the post's own
    bots: bool  # carries the planted campaign


POSTS = [
    Post("coach.lena.fit", "glutes", "2026-03-02T17:30:00Z", 2, True),
    Post("coach.lena.fit", "mealprep", "2026-03-06T16:00:00Z", 3, True),
    Post("coach.lena.fit", "pullup", "2026-03-10T18:15:00Z", 2, True),
    Post("coach.lena.fit", "mobility", "2026-03-15T07:45:00Z", 4, False),
    Post("coach.lena.fit", "rest", "2026-03-21T12:00:00Z", 2, False),
    Post("milo.wanders", "lisbon", "2026-03-01T20:10:00Z", 2, False),
    Post("milo.wanders", "faroe", "2026-03-07T09:00:00Z", 3, False),
    Post("milo.wanders", "nighttrain", "2026-03-12T19:30:00Z", 1, False),
    Post("milo.wanders", "hokkaido", "2026-03-18T06:20:00Z", 3, False),
    Post("milo.wanders", "camerabag", "2026-03-25T15:00:00Z", 2, False),
    Post("amara.cooks", "jollof", "2026-03-03T13:00:00Z", 2, False),
    Post("amara.cooks", "orzo", "2026-03-08T17:45:00Z", 2, True),
    Post("amara.cooks", "focaccia", "2026-03-13T10:30:00Z", 1, True),
    Post("amara.cooks", "noodles", "2026-03-19T18:00:00Z", 2, True),
    Post("amara.cooks", "tacos", "2026-03-26T17:00:00Z", 2, False),
    Post("glowroot.skin", "barrier", "2026-03-04T14:00:00Z", 2, False),
    Post("glowroot.skin", "actives", "2026-03-11T15:30:00Z", 2, False),
    Post("glowroot.skin", "jars", "2026-03-17T11:00:00Z", 1, False),
    Post("glowroot.skin", "fragrance", "2026-03-23T16:45:00Z", 2, False),
    Post("glowroot.skin", "restock", "2026-03-30T09:00:00Z", 2, False),
]

TEXTS = tomllib.loads((OUT.parent / "sources" / "texts.toml").read_text(encoding="utf-8"))
ABOUT_POST, ABOUT_CREATOR = TEXTS["about_post"], TEXTS["about_creator"]
OTHER_LANGUAGES, DISAGREE, LONG = TEXTS["other_languages"], TEXTS["disagree"], TEXTS["long"]
CREATOR_ANSWERS, GENERAL, REPLIES = TEXTS["creator_answers"], TEXTS["general"], TEXTS["replies"]
EMOJI, EMOJI_EXTRA = TEXTS["emoji"], TEXTS["emoji_extra"]
BOTS, GENERIC, PROMO, SCAM = TEXTS["bots"], TEXTS["generic"], TEXTS["promo"], TEXTS["scam"]
IMPERSONATORS, NAMES, WORDS = TEXTS["impersonators"], TEXTS["names"], TEXTS["words"]


def handle(rng: random.Random, taken: set[str]) -> str:
    """A fresh, plausible personal handle."""
    while True:
        n, w, d = rng.choice(NAMES), rng.choice(WORDS), rng.randint(1, 99)
        initial = rng.choice(string.ascii_lowercase)
        h = rng.choice([f"{n}.{w}", f"{n}_{w}", f"{n}{d:02d}", f"{n}.{initial}",
                        f"{w}with{n}", f"{n}_{initial}{d}", f"the.{n}.{w}"])  # fmt: skip
        if h not in taken:
            taken.add(h)
            return h


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def after(rng: random.Random, start: datetime, median_s: float, sigma: float) -> datetime:
    """A lognormal delay after `start`, redrawn until it falls before the export cutoff."""
    for _ in range(100):
        t = start + timedelta(seconds=max(60.0, rng.lognormvariate(math.log(median_s), sigma)))
        if t < CUTOFF:
            return t
    return start + (CUTOFF - start) / 2


class Pools:
    """Text pools drawn without replacement, so genuine texts never repeat by accident."""

    def __init__(self, rng: random.Random) -> None:
        self.rng, self.pools = rng, {}

    def take(self, name: str, items: list[str], k: int) -> list[str]:
        if name not in self.pools:
            self.pools[name] = self.rng.sample(items, len(items))
        pool = self.pools[name]
        if not 0 <= k <= len(pool):
            raise ValueError(f"text pool {name!r}: cannot take {k} of {len(pool)}; adjust counts")
        taken, self.pools[name] = pool[:k], pool[k:]
        return taken


def genuine_comments(rng, post: Post, index: int, pools: Pools, fans, taken) -> list[dict]:
    """Genuine comments on one post: content, replies, languages, emoji, typos."""
    owner, pub = post.owner, parse(post.published)
    small = post.key == "restock"  # a day old: only a handful of comments so far
    plan = [("about", t) for t in ABOUT_POST[post.key]]
    plan += [("emoji", rng.choice(EMOJI + EMOJI_EXTRA[owner])) for _ in range(1 if small else 3)]
    if not small:
        plan += [("creator", t) for t in pools.take(owner, ABOUT_CREATOR[owner], 5)]
        plan += [("language", t) for t in pools.take("lang" + owner, OTHER_LANGUAGES[owner], 2)]
        plan += [("disagree", t) for t in pools.take("dis" + owner, DISAGREE[owner], 1)]
        plan += [("long", t) for t in pools.take("long" + owner, LONG[owner], int(index < 4))]
    n_replies = 1 if small else 2
    plan += [("general", t) for t in pools.take("general", GENERAL, post.general)]
    rows = []
    for kind, text in plan:
        author = rng.choice(fans[owner]) if rng.random() < 0.25 else handle(rng, taken)
        rows.append(dict(kind=kind, author=author, text=text, t=after(rng, pub, 4 * 3600, 1.5)))
    rows += user_replies(rng, rows, pools.take("replies", REPLIES, n_replies), taken)
    rows += creator_answers(rng, rows, post)
    return rows


def user_replies(rng, rows: list[dict], bodies: list[str], taken) -> list[dict]:
    """Users answering earlier commenters, or tagging a friend who is not on the post."""
    out = []
    for body in bodies:
        target = rng.choice([r for r in rows if r["kind"] != "emoji"])
        if rng.random() < 0.6:
            name, t = target["author"], after(rng, target["t"], 2400, 1.2)
        else:  # a tag: the friend never comments, the tagger reads the post a while later
            name, t = handle(rng, taken), after(rng, target["t"], 3600, 1.5)
        out.append(dict(kind="reply", author=handle(rng, taken), text=f"@{name} {body}", t=t))
    return out


def creator_answers(rng, rows: list[dict], post: Post) -> list[dict]:
    """The creator answering specific questions under the post, an hour or two later."""
    about = [r for r in rows if r["kind"] == "about"]
    out = []
    for i, body in CREATOR_ANSWERS[post.key]:
        target = about[i]
        text, t = f"@{target['author']} {body}", after(rng, target["t"], 5400, 1.0)
        out.append(dict(kind="creator", author=post.owner, text=text, t=t))
    return out


def planted_comments(rng, post: Post, run: int, personas, fills) -> list[dict]:
    """Campaign run number `run` on a post: a burst of generic praise, then promo and scam
    accounts, taken in rotation so that every account works on several posts."""
    pub = parse(post.published)
    start = pub + timedelta(seconds=rng.uniform(45, 400))
    window = rng.uniform(60, 170)  # the whole burst lands within 1-3 minutes
    rows = []
    for bot in rng.sample(BOTS, rng.randint(14, 18)):
        variants = GENERIC[rng.choice(personas[bot])]
        text = variants[0] if rng.random() < 0.5 else rng.choice(variants[1:])
        t = start + timedelta(seconds=rng.uniform(0, window))
        rows.append(dict(kind="generic_campaign", author=bot, text=text, t=t, variants=variants))
    for kind, table, k in (("promo", PROMO, 4), ("scam", SCAM, 3)):
        for account, variants in (table[(run * k + j) % len(table)] for j in range(k)):
            fill = dict(fills, imp=IMPERSONATORS[post.owner])
            # Promo accounts ride the same burst half of the time; scams trickle in later.
            in_burst = kind == "promo" and rng.random() < 0.5
            t = start + timedelta(seconds=rng.uniform(0, window)) if in_burst else None
            rows.append(dict(kind=kind, author=account.format(**fill),
                             text=rng.choice(variants).format(**fill),
                             t=t or after(rng, pub, 2 * 3600, 1.0)))  # fmt: skip
    return rows


def spread_variants(rows: list[dict], min_posts: int = 3) -> None:
    """A variant the bots used on fewer than `min_posts` posts becomes its phrase's most
    widespread variant, so every copy-paste text in the file spans several posts (the README
    promises it)."""
    generic = [r for r in rows if r["kind"] == "generic_campaign"]
    posts = defaultdict(set)
    for r in generic:
        posts[r["text"]].add(r["post"].key)
    for r in generic:
        if len(posts[r["text"]]) < min_posts:
            r["text"] = max(r["variants"], key=lambda v: len(posts[v]))
    spread = defaultdict(set)
    for r in generic:
        spread[r["text"]].add(r["post"].key)
    if thin := sorted({r["text"] for r in generic if len(spread[r["text"]]) < min_posts}):
        raise ValueError(f"generic texts on fewer than {min_posts} posts: {thin}")


def parse(ts: str) -> datetime:
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def post_ids(rng: random.Random) -> dict[str, tuple[str, str]]:
    """(media id, shortcode) per post, shaped like Instagram's."""
    alphabet = string.ascii_letters + string.digits + "_-"
    return {p.key: (str(rng.randint(3_500_000_000_000_000_000, 3_599_999_999_999_999_999)),
                    "D" + "".join(rng.choice(alphabet) for _ in range(10)))
            for p in POSTS}  # fmt: skip


def wallet_fills(rng: random.Random) -> dict[str, str]:
    bech32 = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
    return {"btc": "bc1q" + "".join(rng.choice(bech32) for _ in range(38)),
            "eth": "0x" + "".join(rng.choice("0123456789abcdef") for _ in range(40)),
            "n2": f"{rng.randint(0, 99):02d}", "n3": f"{rng.randint(0, 999):03d}"}  # fmt: skip


def build(seed: int) -> list[dict]:
    rng = random.Random(seed)
    taken = set(BOTS) | {p.owner for p in POSTS}
    fans = {owner: [handle(rng, taken) for _ in range(12)] for owner in ABOUT_CREATOR}
    # Each phrase is the favourite of equally many bots, so each one is seen on many posts.
    slots = [i for i in range(len(GENERIC)) for _ in range(2 * len(BOTS) // len(GENERIC))]
    rng.shuffle(slots)
    personas = {bot: slots[2 * i : 2 * i + 2] for i, bot in enumerate(BOTS)}
    fills, pools, rows, runs = wallet_fills(rng), Pools(rng), [], 0
    for post in POSTS:
        index = [p for p in POSTS if p.owner == post.owner].index(post)
        found = genuine_comments(rng, post, index, pools, fans, taken)
        if post.bots:
            found += planted_comments(rng, post, runs, personas, fills)
            runs += 1
        rows += [dict(r, post=post) for r in found]
    spread_variants(rows)
    # Two accounts were deleted after commenting: exports show no handle for them.
    for r in rng.sample([r for r in rows if r["kind"] == "emoji"], 2):
        r["author"] = None
    return rows


def records(rows: list[dict], seed: int) -> list[dict]:
    """Canonical JSONL records, ordered by post then time; comment ids grow with time."""
    rng = random.Random(seed + 1)
    ids, order = post_ids(rng), {p.key: i for i, p in enumerate(POSTS)}
    comment_id = 17_900_000_000_000_000
    by_time = sorted(rows, key=lambda r: (r["t"], r["text"]))
    for r in by_time:
        comment_id += rng.randint(1_000, 9_000_000)
        r["comment_id"] = str(comment_id)
    out = []
    for r in sorted(by_time, key=lambda r: (order[r["post"].key], r["t"])):
        media_id, shortcode = ids[r["post"].key]
        out.append({
            "comment_id": r["comment_id"], "post_id": media_id, "post_shortcode": shortcode,
            "post_url": f"https://www.instagram.com/p/{shortcode}/", "post_owner": r["post"].owner,
            "post_published_at": r["post"].published, "author": r["author"], "text": r["text"],
            "created_at": iso(r["t"]), "planted": None if r["kind"] not in PLANTED else r["kind"],
        })  # fmt: skip
    return out


PLANTED = ("promo", "scam", "generic_campaign")


def campaign_toml(out: list[dict]) -> str:
    """The brand-audit campaign file; posts are given as shortcodes, URLs and ids on purpose."""
    by_key = {}
    for r in out:
        by_key.setdefault((r["post_owner"], r["post_published_at"]), r)
    post = {p.key: by_key[(p.owner, p.published)] for p in POSTS}
    lines = [
        "# Brand audit for `make demo`: which creators the brand paid, and for which posts.",
        "# A post may be named by shortcode, by post URL or by numeric post id.",
        "[campaign]",
        'name = "Fernway spring launch 2026"',
        'brand = "Fernway"',
        "",
    ]
    for owner, refs in (
        ("coach.lena.fit", [("glutes", "post_shortcode"), ("mealprep", "post_url"),
                            ("pullup", "post_id")]),
        ("amara.cooks", [("orzo", "post_shortcode"), ("focaccia", "post_shortcode"),
                         ("tacos", "post_url")]),
        ("milo.wanders", [("faroe", "post_shortcode"), ("hokkaido", "post_id")]),
    ):  # fmt: skip
        values = ", ".join(f'"{post[key][field]}"' for key, field in refs)
        lines += ["[[creators]]", f'handle = "{owner}"', f"posts = [{values}]", ""]
    return "\n".join(lines)


def summary(out: list[dict]) -> str:
    """A markdown table of genuine and planted comments per post, for examples/README.md."""
    head = "| owner | shortcode | genuine | generic_campaign | promo | scam |\n" + "|---" * 6 + "|"
    counts = defaultdict(lambda: defaultdict(int))
    for r in out:
        counts[(r["post_owner"], r["post_shortcode"])][r["planted"] or "genuine"] += 1
    rows = [f"| {o} | {s} | {c['genuine']} | {c['generic_campaign']} | {c['promo']} | {c['scam']} |"
            for (o, s), c in counts.items()]  # fmt: skip
    return "\n".join([head, *rows])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20260302)
    parser.add_argument("-o", "--out", type=Path, default=OUT)
    args = parser.parse_args()
    out = records(build(args.seed), args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(r, ensure_ascii=False) for r in out]
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    args.out.with_name("campaign.toml").write_text(campaign_toml(out), encoding="utf-8")
    print(f"wrote {len(out)} comments to {args.out}")
    print(summary(out))


if __name__ == "__main__":
    main()
