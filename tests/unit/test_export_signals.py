"""Signals over checkpoint parts on integer codes equal the in-memory signals and behaviour."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline import behaviour, export_signals, io, signals, verdict
from pipeline.clean import clean

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "instagram_export.jsonl"
T0 = pd.Timestamp("2026-03-02T18:00:00Z")
CONFIG = signals.SignalsConfig()


def in_memory(parts: list[Path], config: signals.SignalsConfig = CONFIG) -> pd.DataFrame:
    """What score.signal_frames computed before: one frame of every row, then the signals."""
    cols = [*signals.INPUT_COLUMNS, *verdict.score_columns(parts)]
    base = pd.concat([pd.read_parquet(p, columns=cols) for p in parts], ignore_index=True)
    full = signals.add_signals(base, config)
    rows = verdict.add_verdict(full)[list(behaviour.ROW_COLUMNS)]
    return pd.concat([full.drop(columns=cols), rows], axis=1)


def coded(parts: list[Path], config: signals.SignalsConfig = CONFIG, near=None) -> pd.DataFrame:
    threshold = verdict.VerdictConfig().generic_threshold
    tables = export_signals.compute(parts, config, threshold, near)
    return pd.concat(list(tables.frames()), ignore_index=True)


def early(parts: list[Path], config: signals.SignalsConfig = CONFIG):
    """Components as the reader computes them; the parts fed last first, since the
    partition must not depend on the order keys arrive in."""
    near = export_signals.KeyComponents(config)
    for path in reversed(parts):
        near.add(pd.read_parquet(path))
    near.compute()
    return near


def write_parts(df: pd.DataFrame, cuts: list[int], directory: Path) -> list[Path]:
    """`df` split at `cuts` into parquet parts, written as the checkpoint writes them."""
    bounds = [0, *sorted(c for c in set(cuts) if 0 < c < len(df)), len(df)]
    paths = []
    for i, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        paths.append(directory / f"part-{i:06d}.parquet")
        io.write_table([df.iloc[lo:hi]], paths[-1])
    return paths


def assert_same(df: pd.DataFrame, cuts: list[int], config=CONFIG) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        parts = write_parts(df, cuts, Path(tmp))
        expected = in_memory(parts, config)
        assert list(expected.columns) == list(export_signals.COLUMNS)
        pd.testing.assert_frame_equal(coded(parts, config), expected)
        pd.testing.assert_frame_equal(coded(parts, config, early(parts, config)), expected)


rows_strategy = st.lists(
    st.tuples(
        st.sampled_from(["p1", "p2", "p3", None]),
        st.sampled_from(["a", "b", "c", None]),
        st.sampled_from(
            [
                "hello there friend",
                "hello there friend!",
                "hello  there friend",
                "wow",
                None,
                "🔥",
                "  ",
                "great post keep it up",
            ]
        ),
        st.one_of(st.none(), st.integers(0, 600)),
        st.sampled_from([0.1, 0.7, 0.95, None]),
        st.booleans(),
        st.sampled_from(["c1", "c2", "c3", " ", None]),  # few ids: duplicate records
    ),  # fmt: skip
    min_size=1,
    max_size=60,
)


def scored_frame(rows: list[tuple]) -> pd.DataFrame:
    """Rows of (post_id, author, dedup_key, seconds, p_generic, emoji_only[, comment_id])."""
    rows = [(*r, None)[:7] for r in rows]
    stamp = [None if r[3] is None else (T0 + pd.Timedelta(seconds=r[3])).isoformat() for r in rows]
    names = ["post_id", "author", "dedup_key", "s", "p_generic", "emoji", "comment_id"]
    df = pd.DataFrame(rows, columns=names)
    strings = df[["post_id", "comment_id", "author", "dedup_key"]].astype("string")
    return strings.assign(
        created_at=pd.array(stamp, dtype="string"),
        emoji_only=df["emoji"].astype(bool),
        p_spam=0.3,
        pred_label="genuine",
        p_generic=df["p_generic"].astype(float),
    )


@settings(max_examples=40, deadline=None)
@given(rows_strategy, st.lists(st.integers(1, 59), max_size=4))
def test_coded_equals_in_memory_on_random_parts(rows, cuts):
    assert_same(scored_frame(rows), cuts)


def test_coded_equals_in_memory_without_generic_head():
    rows = [("p1", "a", "same words here", 10 * i, None, False) for i in range(8)]
    assert_same(scored_frame(rows).drop(columns=["p_generic"]), [3])


def test_coded_equals_in_memory_on_the_example_export():
    records = [json.loads(line) for line in EXAMPLE.read_text(encoding="utf-8").splitlines()]
    columns = ["comment_id", "post_id", "author", "created_at", "text"]
    df = pd.DataFrame(records)[columns].astype("string")
    df = pd.concat([df, df.iloc[100:160]], ignore_index=True)  # an overlapping second export
    cleaned = [clean(t) for t in df.pop("text")]
    rng = np.random.default_rng(0)
    df["dedup_key"] = pd.array([c.dedup_key for c in cleaned], dtype="string")
    df["emoji_only"] = [c.features.emoji_only for c in cleaned]
    df["p_spam"], df["p_generic"] = rng.random(len(df)), rng.random(len(df))
    n = len(df)
    assert_same(df, [n // 7, n // 3, n // 2, n - 5])
    assert_same(df, [], signals.SignalsConfig(jaccard=0.5, burst_min_comments=3))


def test_early_components_are_used_only_for_exactly_their_keys(tmp_path):
    rows = [("p1", "a", f"hello there friend number {i}", i, 0.9, False) for i in range(8)]
    rows.append(("p2", "b", "something else entirely", 9, 0.9, False))
    parts = write_parts(scored_frame(rows), [4], tmp_path)
    near = early(parts[1:])  # a resumed run's reader sees only the chunks after the first
    keys = export_signals.read_rows(parts, 0.5).keys
    # Rows 4-7 are one near-duplicate family (labelled by its first index), row 8 a loner.
    assert near.labels_for(keys[4:]).tolist() == [0, 0, 0, 0, 4]
    assert near.labels_for(keys) is None and near.labels_for(keys[3:8]) is None
    assert export_signals.KeyComponents(CONFIG).labels_for(keys) is None  # never computed
    labels = early(parts).labels_for(keys)
    assert labels.tolist() == [0] * 8 + [8]  # one near-duplicate family and one loner
    strict = signals.SignalsConfig(jaccard=0.95)  # clustered under another config: not used
    tables = export_signals.compute(parts, strict, 0.5, early(parts))
    assert tables.size[:-1].tolist() == [1] * 9


def test_codes_follow_first_appearance_across_calls():
    codes = export_signals.Codes()
    first = codes(pd.Series(["b", None, "a", "b"], dtype="string"))
    second = codes(pd.Series(["c", "a", pd.NA], dtype="string"))
    assert first.tolist() == [0, -1, 1, 0] and second.tolist() == [2, 1, -1]
    assert list(codes.index) == ["b", "a", "c"]


def test_no_parts_give_no_frames():
    assert list(export_signals.compute([], CONFIG, 0.5).frames()) == []


@pytest.mark.parametrize("cuts", [[], [1], [2, 4]])
def test_parts_keep_their_lengths(tmp_path, cuts):
    rows = [("p1", "a", "hello there friend", i, 0.9, False) for i in range(6)]
    parts = write_parts(scored_frame(rows), cuts, tmp_path)
    frames = list(export_signals.compute(parts, CONFIG, 0.5).frames())
    assert [len(f) for f in frames] == [len(pd.read_parquet(p)) for p in parts]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(-1, 4), st.one_of(st.none(), st.integers(0, 400))),
                max_size=80), st.integers(1, 12))  # fmt: skip
def test_bursts_in_blocks_of_posts_equal_one_pass(rows, block):
    post = np.array([p for p, _ in rows], dtype=np.int32)
    seconds = np.array([np.nan if s is None else float(s) for _, s in rows])
    whole = signals.burst_arrays(post, seconds, CONFIG, block=1 << 30)
    blocked = signals.burst_arrays(post, seconds, CONFIG, block=block)
    np.testing.assert_array_equal(blocked[0], whole[0])
    np.testing.assert_array_equal(blocked[1], whole[1])
    np.testing.assert_array_equal(blocked[2], whole[2])


def test_two_bursts_of_one_size_and_span_on_a_post_keep_their_own_generic_share(tmp_path):
    # Two bursts of 5 in 60 s, an hour apart: 2 of 5 generic, then a bot wave of 5 generic.
    fans = ["love the colours here", "where was this taken", "my kids adore this show",
            "the second photo is best", "great lighting tips"]  # fmt: skip
    rows = [("p1", f"fan{i}", text, 15 * i, 0.9 if i < 2 else 0.1, False)
            for i, text in enumerate(fans)]  # fmt: skip
    bots = ["wow nice", "amazing", "so cool", "love it", "cute"]
    rows += [("p1", f"bot{i}", text, 3600 + 15 * i, 0.9, False)
             for i, text in enumerate(bots)]  # fmt: skip
    df = scored_frame(rows)
    shares = [0.4] * 5 + [1.0] * 5
    exported = coded(write_parts(df, [], tmp_path))
    assert exported["burst_generic_share"].tolist() == pytest.approx(shares)
    assert exported["burst_start_s"].nunique() == 2
    # In memory too, on a frame whose index repeats (two frames concatenated as they are).
    twice = pd.concat([df.iloc[:5], df.iloc[5:].reset_index(drop=True)])
    judged = verdict.add_verdict(signals.add_signals(twice))
    assert judged["burst_generic_share"].tolist() == pytest.approx(shares)
    assert judged["verdict"].iloc[:2].tolist() == ["generic", "generic"]  # not coordinated


def test_a_date_without_a_time_of_day_is_no_burst(tmp_path):
    # 8 comments dated "2026-03-02" would all sit on midnight: a burst of 8 in 0 s.
    rows = [("p1", f"a{i}", f"comment number {i}", None, 0.1, False) for i in range(8)]
    df = scored_frame(rows).assign(created_at=pd.array(["2026-03-02"] * 8, dtype="string"))
    parts = write_parts(df, [4], tmp_path)
    for out in (in_memory(parts), coded(parts)):
        assert not out["in_burst"].any()
    timed = df.assign(created_at=pd.array(["2026-03-02T00:00:00"] * 8, dtype="string"))
    assert in_memory(write_parts(timed, [], tmp_path / "t"))["in_burst"].all()
