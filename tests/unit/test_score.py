"""Batch scoring with the tiny random-weight model: dedup, resume, row accounting."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from pipeline import io
from pipeline.dedup import TokenScorer
from pipeline.model import Classifier
from pipeline.score import ScoreConfig, score_file
from pipeline.signals import SignalsConfig

TEXTS = [
    "check out my channel!!! http://x.example",
    "Love this ❤️",
    "where did you buy that jacket?",
    "DM @crypto_guru to earn $5k a week",
    "",  # rejected: empty text
    "Love this ❤️❤️",
    "wow",
]


class CountingScorer:
    """Wraps a Classifier and counts the texts that reach the network."""

    def __init__(self, classifier: Classifier, fail_on_call: int | None = None) -> None:
        self.classifier = classifier
        self.threshold = classifier.threshold
        self.manifest = classifier.manifest
        self.engine = classifier.engine
        self.texts = 0
        self.calls = 0
        self.batch_sizes: set[int | None] = set()
        self.fail_on_call = fail_on_call

    def score_clean(self, texts, batch_size: int | None = None):
        self.calls += 1
        self.batch_sizes.add(batch_size)
        if self.calls == self.fail_on_call:
            raise KeyboardInterrupt("simulated crash")
        self.texts += len(texts)
        return self.classifier.score_clean(texts, batch_size)


@pytest.fixture(scope="module")
def classifier(tiny_model_dir: Path) -> Classifier:
    return Classifier.from_pretrained(tiny_model_dir)


def export(path: Path, n: int, texts=TEXTS, vary: bool = True) -> Path:
    """A canonical JSONL export; `vary` appends small numbers so some texts differ."""
    rows = [
        {
            "comment_id": str(i),
            "post_id": f"p{i % 5}",
            "post_owner": f"owner{i % 2}",
            "author": f"user{i % 37}",
            "text": _text(texts[i % len(texts)], i, vary),
            "created_at": f"2026-01-01T00:{i % 60:02d}:00Z",
        }
        for i in range(n)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _text(text: str, i: int, vary: bool) -> str:
    return f"{text} {i % 11}" if vary and text and i % 3 == 0 else text


def test_every_row_is_scored_or_rejected(tmp_path, classifier):
    src = export(tmp_path / "in.jsonl", 70)
    sink = io.RejectSink()
    summary = score_file(src, tmp_path / "out.parquet", classifier, rejects=sink)
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert summary.rows_in == 70 and len(out) + sink.count == 70
    assert sink.count == 70 // len(TEXTS)  # the empty texts, with their reason
    assert set(out["pred_label"]) <= {"spam", "genuine"}
    assert out["p_spam"].between(0, 1).all()
    expected = classifier.predict_proba(out["text"].tolist())[:, 1]
    assert out["p_spam"].to_numpy() == pytest.approx(expected, abs=1e-5)
    for column in ("clean_text", "dedup_key", "reasons", "cluster_size", "cluster_posts"):
        assert column in out.columns
    assert not (tmp_path / "out.parquet.parts").exists()


@pytest.mark.parametrize("min_p_spam", [0.0, 1.0])
def test_the_signals_config_sets_when_p_spam_is_a_reason(tmp_path, classifier, min_p_spam):
    src = export(tmp_path / "in.jsonl", 30)
    config = ScoreConfig(signals=SignalsConfig(reason_min_p_spam=min_p_spam))
    score_file(src, tmp_path / "out.parquet", classifier, config=config)
    out = pd.read_parquet(tmp_path / "out.parquet")
    named = out["reasons"].str.contains("p_spam ", regex=False)
    # At 0 every comment names its probability; at 1 none does (the tiny model is never sure).
    assert named.all() if min_p_spam == 0.0 else not named.any()


@pytest.mark.parametrize("batch_size", [None, 3])
def test_batch_size_reaches_the_model(tmp_path, classifier, batch_size):
    src = export(tmp_path / "in.jsonl", 40)
    scorer = CountingScorer(classifier)
    config = ScoreConfig(chunk_size=10, batch_size=batch_size)
    score_file(src, tmp_path / "out.parquet", scorer, config=config)
    assert scorer.batch_sizes == {batch_size}  # None: the backend picks its own best


def test_ten_thousand_copies_cost_one_forward_pass(tmp_path, classifier):
    src = export(tmp_path / "in.jsonl", 10_000, texts=["Amazing content 🔥🔥"], vary=False)
    scorer = CountingScorer(classifier)
    summary = score_file(src, tmp_path / "out.parquet", scorer, config=ScoreConfig(chunk_size=1000))
    assert scorer.texts == 1 and summary.texts_scored == 1
    assert summary.rows_scored == 10_000
    assert pd.read_parquet(tmp_path / "out.parquet")["p_spam"].nunique() == 1


class EncodingScorer(CountingScorer):
    """A CountingScorer that tokenises apart, as a Classifier does, recording on which thread."""

    def __init__(self, classifier: Classifier) -> None:
        super().__init__(classifier)
        self.encoded, self.encode_threads = 0, set()

    def encode(self, texts):
        self.encoded += len(texts)
        self.encode_threads.add(threading.get_ident())
        return self.classifier.encode(texts)

    def score_ids(self, ids, batch_size: int | None = None):
        self.calls += 1
        return self.classifier.score_ids(ids, batch_size)


def test_texts_are_tokenised_once_per_key_off_the_model_thread(tmp_path, classifier):
    src = export(tmp_path / "in.jsonl", 300)
    by_text, by_ids = CountingScorer(classifier), EncodingScorer(classifier)
    assert isinstance(classifier, TokenScorer) and isinstance(by_ids, TokenScorer)
    assert not isinstance(by_text, TokenScorer)
    config = ScoreConfig(chunk_size=40)
    summary = score_file(src, tmp_path / "a.parquet", by_text, config=config)
    score_file(src, tmp_path / "b.parquet", by_ids, config=config)
    assert by_ids.encoded == by_text.texts == summary.texts_scored
    assert by_ids.texts == 0 and by_ids.calls > 1  # the texts path was never taken
    assert by_ids.encode_threads and threading.get_ident() not in by_ids.encode_threads
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()


def test_a_ramped_first_chunk_gives_the_same_rows(tmp_path, classifier):
    src = export(tmp_path / "in.jsonl", 200)
    whole = ScoreConfig(chunk_size=50, first_chunk_size=50)
    split = ScoreConfig(chunk_size=50, first_chunk_size=7)
    score_file(src, tmp_path / "a.parquet", classifier, config=whole)
    scorer = CountingScorer(classifier)
    score_file(src, tmp_path / "b.parquet", scorer, config=split)
    assert scorer.calls == 6  # 7 + 21 + 22 rows, then 3 chunks of 50
    expected = pd.read_parquet(tmp_path / "a.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "b.parquet"), expected)
    with pytest.raises(KeyboardInterrupt):
        score_file(src, tmp_path / "c.parquet", CountingScorer(classifier, 2), config=split)
    summary = score_file(src, tmp_path / "c.parquet", classifier, config=split, resume=True)
    assert summary.resumed_chunks == 1
    assert (tmp_path / "c.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".jsonl"])
def test_resume_after_crash_is_byte_identical(tmp_path, classifier, suffix):
    src = export(tmp_path / "in.jsonl", 400)
    config = ScoreConfig(chunk_size=50)
    whole = tmp_path / f"whole{suffix}"
    score_file(src, whole, classifier, config=config)
    broken = tmp_path / f"resumed{suffix}"
    with pytest.raises(KeyboardInterrupt):
        score_file(src, broken, CountingScorer(classifier, fail_on_call=4), config=config)
    assert not broken.exists(), "a partial output must never appear under the final name"
    scorer = CountingScorer(classifier)
    summary = score_file(src, broken, scorer, config=config, resume=True)
    assert summary.resumed_chunks == 3
    assert broken.read_bytes() == whole.read_bytes()


def test_checkpoint_of_another_input_is_not_reused(tmp_path, classifier):
    config = ScoreConfig(chunk_size=50)
    out = tmp_path / "out.parquet"
    with pytest.raises(KeyboardInterrupt):
        score_file(
            export(tmp_path / "a.jsonl", 200), out, CountingScorer(classifier, 3), config=config
        )
    summary = score_file(
        export(tmp_path / "b.jsonl", 100), out, classifier, config=config, resume=True
    )
    assert summary.resumed_chunks == 0 and summary.rows_in == 100


def test_unusable_input_leaves_no_checkpoint_behind(tmp_path, classifier):
    src = tmp_path / "no_text.csv"
    src.write_text("id,body\n1,hi\n")
    out = tmp_path / "out.parquet"
    with pytest.raises(io.InputError, match="no text column"):
        score_file(src, out, classifier)
    assert list(tmp_path.iterdir()) == [src]  # no out.parquet.parts/ to trip over


def test_kill_9_then_resume_gives_identical_output(tmp_path, tiny_model_dir):
    src = export(tmp_path / "in.jsonl", 6_000)
    args = [sys.executable, "-m", "pipeline", "score", str(src), "--model", str(tiny_model_dir)]
    args += ["--chunk-size", "200", "--no-progress"]
    whole = subprocess.run(
        [*args, "-o", str(tmp_path / "whole.parquet")], check=True, capture_output=True, text=True
    )
    target = tmp_path / "killed.parquet"
    proc = subprocess.Popen([*args, "-o", str(target)], stderr=subprocess.DEVNULL)
    parts = tmp_path / "killed.parquet.parts"
    deadline = time.monotonic() + 120
    while len(list(parts.glob("part-*.parquet"))) < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not target.exists(), "the run finished before it could be killed"
    done = subprocess.run([*args, "-o", str(target), "--resume"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert target.read_bytes() == (tmp_path / "whole.parquet").read_bytes()
    # Identical bytes would also come from a rerun that threw the checkpoint away: the
    # resumed run must have sent fewer texts through the model than the whole run did.
    assert model_texts(done.stderr) < model_texts(whole.stderr)


def model_texts(stderr: str) -> int:
    """The 'N distinct texts through the model' of score's closing line."""
    found = re.search(r"\(([\d,]+) distinct texts through", stderr)
    assert found, stderr
    return int(found.group(1).replace(",", ""))


def test_repeat_cache_cleans_a_recurring_text_once_and_changes_nothing(monkeypatch):
    from pipeline import clean as cleaning
    from pipeline.dedup import RepeatCache

    cleaned: list[str] = []
    real = cleaning.clean_many

    def counting(texts, *args, **kwargs):
        cleaned.extend(texts)
        return real(texts, *args, **kwargs)

    monkeypatch.setattr(cleaning, "clean_many", counting)
    cache = RepeatCache(capacity=2)
    chunks = [["bot text", "bot text", "one-off a", None], ["bot text", "one-off b", pd.NA]]
    results = [cache.clean_many(chunk) for chunk in chunks]
    assert results == [real(chunk) for chunk in chunks]  # exactly what plain cleaning gives
    # The repeat is cleaned once; one-offs are cleaned, never kept; missing text never cleaned.
    assert cleaned == ["bot text", "one-off a", "one-off b"]
    assert list(cache.items) == ["bot text"]
    cache.clean_many(["x", "x", "y", "y", "z", "z"])
    assert list(cache.items) == ["y", "z"]  # over capacity, the least recently used went


@pytest.mark.parametrize("field", ["chunk_size", "first_chunk_size", "batch_size"])
def test_sizes_below_one_are_refused(field):
    with pytest.raises(ValueError, match=field):
        ScoreConfig(**{field: 0})


def _crashed_run(src: Path, out: Path, classifier: Classifier, config: ScoreConfig) -> None:
    with pytest.raises(KeyboardInterrupt):
        score_file(src, out, CountingScorer(classifier, fail_on_call=4), config=config)


@pytest.mark.parametrize("damage", ["lost part", "torn state", "edited state"])
def test_a_damaged_checkpoint_starts_afresh(tmp_path, classifier, damage):
    src, config = export(tmp_path / "in.jsonl", 300), ScoreConfig(chunk_size=50)
    score_file(src, tmp_path / "whole.parquet", classifier, config=config)
    out = tmp_path / "out.parquet"
    _crashed_run(src, out, classifier, config)
    parts = tmp_path / "out.parquet.parts"
    if damage == "lost part":
        (parts / "part-000001.parquet").unlink()
    else:
        state = '{"bad' if damage == "torn state" else '{"fingerprint": 1, "chunks_done": "x"}'
        (parts / "state.json").write_text(state)
    summary = score_file(src, out, classifier, config=config, resume=True)
    assert summary.resumed_chunks == 0 and summary.rows_in == 300
    assert out.read_bytes() == (tmp_path / "whole.parquet").read_bytes()


def test_a_torn_state_file_does_not_stop_a_fresh_run(tmp_path, classifier):
    src, out = export(tmp_path / "in.jsonl", 60), tmp_path / "out.parquet"
    (tmp_path / "out.parquet.parts").mkdir()
    (tmp_path / "out.parquet.parts" / "state.json").write_text("{bad")
    assert score_file(src, out, classifier).rows_in == 60


def test_another_backend_does_not_resume_the_checkpoint(tmp_path, classifier):
    src, config = export(tmp_path / "in.jsonl", 300), ScoreConfig(chunk_size=50)
    _crashed_run(src, tmp_path / "out.parquet", classifier, config)
    other = CountingScorer(classifier)
    other.engine = "OnnxClassifier/int8"
    summary = score_file(src, tmp_path / "out.parquet", other, config=config, resume=True)
    assert summary.resumed_chunks == 0


def test_standard_input_cannot_be_resumed(tmp_path, classifier):
    with pytest.raises(io.InputError, match="--resume needs a file"):
        score_file("-", tmp_path / "out.parquet", classifier, resume=True)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_a_field_first_seen_in_a_later_chunk_is_kept(tmp_path, classifier, suffix):
    # A reply's parent id appears only from record 30 on: chunks of 10 put it in later parts.
    rows = [{"comment_id": str(i), "post_id": "p", "text": f"comment number {i}",
             **({"parent_id": f"c{i - 1}"} if i >= 30 else {})} for i in range(40)]  # fmt: skip
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / f"out{suffix}"
    score_file(src, out, classifier, config=ScoreConfig(chunk_size=10, first_chunk_size=10))
    scored = io.read_scored(out, required=())
    assert scored["parent_id"].isna().sum() == 30
    assert scored["parent_id"].dropna().tolist() == [f"c{i}" for i in range(29, 39)]
