"""One comment exported twice (overlapping exports joined) is counted once, everywhere."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline import duplicates, io, signals
from pipeline.audit import run_audit
from pipeline.model import Classifier
from pipeline.report import build_report
from pipeline.score import ScoreConfig, score_file
from tests.report_frames import audit_for, scored_frame
from tests.unit.test_audit import campaign
from tests.unit.test_audit import scored as audit_frame

T0 = pd.Timestamp("2026-03-02T18:00:00Z")
SOURCE = ["source_file", "source_line", duplicates.COLUMN]


def frame(rows: list[tuple]) -> pd.DataFrame:
    """(comment_id, post_id, author, text, seconds after T0) per row."""
    df = pd.DataFrame(rows, columns=["comment_id", "post_id", "author", "dedup_key", "s"])
    stamps = [(T0 + pd.Timedelta(seconds=s)).isoformat() for s in df.pop("s")]
    return df.astype("string").assign(created_at=pd.array(stamps, dtype="string"))


def test_first_rows_point_at_the_first_record_of_each_comment():
    df = pd.DataFrame({
        "post_id": ["p1", "p1", "p2", "p1", "p1", None, None],
        "comment_id": ["c1", "c2", "c1", "c1", None, "c9", "c9"],
    })  # fmt: skip
    first = duplicates.first_rows(duplicates.digests(df))
    # c1 on p2 is another comment; rows without a comment id are never duplicates.
    assert first.tolist() == [0, 1, 2, 0, 4, 5, 5]
    assert duplicates.mask(df).tolist() == [False, False, False, True, False, False, True]


def test_a_comment_exported_twice_makes_no_copy_paste_and_no_burst():
    text = "follow me for daily crypto signals"
    once = frame([("c1", "p1", "a", text, 0), ("c2", "p2", "b", text, 5),
                  ("c3", "p1", "c", "nice one", 10)])  # fmt: skip
    twice = pd.concat([once, once, once.iloc[:1]], ignore_index=True)
    config = signals.SignalsConfig(burst_min_comments=5)
    out = signals.add_signals(twice, config)
    # Counted five times, the text by two authors on two posts and the seven comments within
    # ten seconds would be a copy-paste cluster and a burst.
    assert not out["copy_paste"].any() and not out["in_burst"].any()
    assert out[duplicates.COLUMN].tolist() == [False] * 3 + [True] * 4
    expected = signals.add_signals(once, config)[list(signals.SIGNAL_COLUMNS)]
    got = out[list(signals.SIGNAL_COLUMNS)].drop(columns=duplicates.COLUMN)
    pd.testing.assert_frame_equal(
        got.iloc[:3], expected.drop(columns=duplicates.COLUMN), check_dtype=False
    )
    assert out["cluster_size"].tolist() == [2, 2, 1, 2, 2, 1, 2]  # a duplicate takes its first's


@pytest.fixture(scope="module")
def classifier(tiny_model_dir: Path) -> Classifier:
    return Classifier.from_pretrained(tiny_model_dir)


def _records(ids: range) -> list[str]:
    texts = ["so cute omg", "buy followers cheap at example dot com", "where is this place"]
    return [json.dumps({"comment_id": f"c{i}", "post_id": f"p{i % 3}", "author": f"u{i % 7}",
                        "text": texts[i % 3],
                        "created_at": f"2026-01-01T00:00:{i % 60:02d}Z"}) + "\n"
            for i in ids]  # fmt: skip


def test_score_of_overlapping_exports_joined_equals_score_of_one(tmp_path, classifier):
    one, joined = tmp_path / "one.jsonl", tmp_path / "joined.jsonl"
    one.write_text("".join(_records(range(40))))
    joined.write_text("".join(_records(range(30)) + _records(range(20, 40))))  # 10 twice
    config = ScoreConfig(chunk_size=16, first_chunk_size=16)  # duplicates in other parts
    score_file(one, tmp_path / "one.parquet", classifier, config=config)
    summary = score_file(joined, tmp_path / "joined.parquet", classifier, config=config)
    assert summary.duplicate_records == 10  # `score` prints it
    alone = pd.read_parquet(tmp_path / "one.parquet")
    both = pd.read_parquet(tmp_path / "joined.parquet")
    assert (
        len(both) == 50
        and both[duplicates.COLUMN].tolist() == [False] * 30 + [True] * 10 + [False] * 10
    )
    assert not alone[duplicates.COLUMN].any()
    kept = both[~both[duplicates.COLUMN]].set_index("comment_id").loc[alone["comment_id"]]
    pd.testing.assert_frame_equal(
        kept.reset_index().drop(columns=SOURCE), alone.drop(columns=SOURCE)
    )
    twice = both.iloc[30:40].drop(columns=SOURCE).reset_index(drop=True)
    firsts = both.iloc[20:30].drop(columns=SOURCE).reset_index(drop=True)
    pd.testing.assert_frame_equal(twice, firsts)


def _doubled(df: pd.DataFrame, n: int) -> pd.DataFrame:
    return pd.concat([df, df.iloc[:n]], ignore_index=True)


def test_report_counts_each_comment_once(tmp_path):
    df = scored_frame()
    single = build_report(df, tmp_path / "single", generated_at="x")
    double = build_report(_doubled(df, 40), tmp_path / "double", generated_at="x")
    a, b = (json.loads(p.summary.read_text()) for p in (single, double))
    assert b["overall"].pop("n_duplicate_records") == 40 == double.duplicate_records
    assert a["overall"].pop("n_duplicate_records") == 0
    assert a == b
    assert "40 duplicate records counted once" in double.html.read_text()
    assert single.flagged.read_bytes() == double.flagged.read_bytes()


def test_audit_counts_each_comment_once_and_says_so():
    df = scored_frame()
    single, double = audit_for(df), audit_for(_doubled(df, 25))
    assert single.creators == double.creators
    assert double.warnings == (*single.warnings, *duplicates.warnings(25))
    assert "25 duplicate record(s)" in double.warnings[-1]


def test_audit_of_records_without_ids_counts_every_row():
    df = audit_frame({"P1": ("alice", 40, 4)}).drop(columns="comment_id")
    result = run_audit(pd.concat([df, df]), campaign(("alice", ["P1"])))
    assert result.creators[0].campaign.n == 80 and not result.warnings


def test_a_scored_copy_without_the_column_is_checked_by_its_ids(tmp_path):
    df = _doubled(scored_frame(), 10).drop(columns=duplicates.COLUMN, errors="ignore")
    io.write_table([df], tmp_path / "old.csv")
    read = io.read_scored(tmp_path / "old.csv")
    assert duplicates.counted(read)[1] == 10
    assert np.flatnonzero(duplicates.mask(read)).tolist() == list(range(len(df) - 10, len(df)))


def test_the_ids_decide_not_a_stored_column_that_no_longer_agrees(tmp_path):
    df = scored_frame()
    scored = signals.add_signals(_doubled(df, len(df)))  # every comment twice
    second = scored[scored[duplicates.COLUMN]]  # the second copies alone: their firsts gone
    assert duplicates.counted(second)[1] == 0
    joined = pd.concat([df.assign(**{duplicates.COLUMN: False})] * 2, ignore_index=True)
    assert duplicates.counted(joined)[1] == len(df)  # two scored files, each "first"
    a = json.loads(build_report(second, tmp_path / "a", generated_at="x").summary.read_text())
    assert a["overall"]["n"] == len(df) and a["overall"]["n_duplicate_records"] == 0
