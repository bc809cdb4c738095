"""Writers: atomic replace, formats by extension, the CSV formula guard, round trips."""

from __future__ import annotations

import gzip
import json
import logging

import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.io import InputError, TableWriter, read_chunks, write_table
from pipeline.writers import guard_formulas


def sample() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "text": pd.array(['héllo, "world"', "line\nbreak", None, "🔥 emoji"], dtype="string"),
            "source_line": pd.array([2, 3, 4, 5], dtype="int64"),
            "p_spam": [0.25, 0.5, 0.75, 1.0],
        }
    )


def read_back(path) -> pd.DataFrame:
    name = str(path)
    if name.endswith(".parquet"):
        return pq.read_table(path).to_pandas()
    if ".jsonl" in name:
        return pd.read_json(path, lines=True, dtype={"text": "string"}, compression="infer")
    return pd.read_csv(path, dtype={"text": "string"}, keep_default_na=False, na_values=[""])


@pytest.mark.parametrize(
    "name", ["out.parquet", "out.csv", "out.csv.gz", "out.jsonl", "out.jsonl.gz"]
)
def test_round_trip(tmp_path, name):
    frame = sample()
    assert write_table([frame.iloc[:2], frame.iloc[2:]], tmp_path / name) == 4
    back = read_back(tmp_path / name)
    pd.testing.assert_frame_equal(back, frame, check_dtype=False)
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temp file left behind


def test_gzip_output_is_gzip(tmp_path):
    write_table([sample()], tmp_path / "o.jsonl.gz")
    first = json.loads(gzip.decompress((tmp_path / "o.jsonl.gz").read_bytes()).splitlines()[0])
    assert first["text"] == 'héllo, "world"'


def test_tsv(tmp_path):
    write_table([sample()], tmp_path / "o.tsv")
    assert (tmp_path / "o.tsv").read_text().splitlines()[0] == "text\tsource_line\tp_spam"


def failing(frames):
    yield from frames
    raise RuntimeError("scorer crashed")


@pytest.mark.parametrize("name", ["o.parquet", "o.csv", "o.jsonl.gz"])
def test_failure_midway_leaves_no_file(tmp_path, name):
    with pytest.raises(RuntimeError, match="scorer crashed"):
        write_table(failing([sample()]), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_failure_midway_keeps_the_old_file(tmp_path):
    target = tmp_path / "o.csv"
    target.write_text("old\n")
    with pytest.raises(RuntimeError, match="scorer crashed"):
        write_table(failing([sample()]), target)
    assert target.read_text() == "old\n" and list(tmp_path.iterdir()) == [target]


def test_table_writer_streams_and_commits(tmp_path):
    target = tmp_path / "sub" / "o.parquet"  # the directory is created
    with TableWriter(target) as writer:
        for _ in range(3):
            writer.write(sample())
        assert not target.exists()  # nothing visible before the commit
    assert writer.rows == 12 and pq.read_table(target).num_rows == 12
    with pytest.raises(ValueError, match="closed"):
        writer.write(sample())


def test_table_writer_abort(tmp_path):
    writer = TableWriter(tmp_path / "o.jsonl")
    writer.write(sample())
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_unsupported_extension(tmp_path):
    for name in ("o.xlsx", "o.parquet.gz", "noext"):
        with pytest.raises(InputError, match="unsupported output format"):
            write_table([sample()], tmp_path / name)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "cell", ["=1+1", "+x", "-x", "@x", "\tx", "\rx", '=HYPERLINK("http://e.x")']
)
def test_csv_formula_guard(tmp_path, cell):
    frame = pd.DataFrame({"text": pd.array([cell, "fine"], dtype="string"), "n": [-1, 2]})
    write_table([frame], tmp_path / "o.csv")
    back = pd.read_csv(tmp_path / "o.csv", dtype={"text": str})
    assert back["text"].tolist() == ["'" + cell, "fine"]
    assert back["n"].tolist() == [-1, 2]  # numbers are not text: untouched


def test_formula_guard_covers_headers_and_object_columns():
    frame = pd.DataFrame({"=cmd": ["@a", 5, None], "ok": ["-", "b", "c"]})
    guarded = guard_formulas(frame)
    assert list(guarded.columns) == ["'=cmd", "ok"]
    assert guarded["'=cmd"].tolist()[:2] == ["'@a", 5] and guarded["ok"][0] == "'-"
    assert frame["=cmd"][0] == "@a"  # the caller's frame is not modified


def test_only_csv_is_guarded(tmp_path):
    frame = pd.DataFrame({"text": ["=1+1"]})
    write_table([frame], tmp_path / "o.jsonl")
    assert json.loads((tmp_path / "o.jsonl").read_text())["text"] == "=1+1"


def test_later_frames_are_aligned_to_the_first(tmp_path, caplog):
    first = pd.DataFrame({"a": ["1"], "b": ["2"]})
    later = pd.DataFrame({"b": ["4"], "a": ["3"], "new": ["x"]})
    with caplog.at_level(logging.WARNING):
        write_table([first, later], tmp_path / "o.csv")
    assert (tmp_path / "o.csv").read_text() == "a,b\n1,2\n3,4\n"
    assert "new" in caplog.text


def test_parquet_all_null_first_chunk(tmp_path):
    first = pd.DataFrame({"a": [None], "b": ["x"]})
    later = pd.DataFrame({"a": ["now text"], "b": ["y"]})
    write_table([first, later], tmp_path / "o.parquet")
    assert pq.read_table(tmp_path / "o.parquet").column("a").to_pylist() == [None, "now text"]


@pytest.mark.parametrize("name", ["o.csv", "o.jsonl", "o.parquet"])
def test_no_frames_gives_an_empty_file(tmp_path, name):
    assert write_table([], tmp_path / name) == 0
    assert (tmp_path / name).exists()


TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), min_size=1)


@settings(max_examples=60, deadline=None)
@given(texts=st.lists(TEXT.filter(str.strip), min_size=1, max_size=5))
def test_csv_written_then_read_keeps_every_text(tmp_path_factory, texts):
    path = tmp_path_factory.mktemp("rt") / "o.csv"
    write_table(
        [pd.DataFrame({"comment_id": [str(i) for i in range(len(texts))], "text": texts})], path
    )
    back = pd.concat(list(read_chunks(path)))
    guard = tuple("=+-@\t\r")
    assert back["text"].tolist() == [("'" + t if t.startswith(guard) else t) for t in texts]


def test_a_text_that_starts_with_a_quote_and_a_formula_reads_back_as_written(tmp_path):
    from pipeline.io import read_scored

    texts = ["+1", "'+1", "''=x", "'quoted", "plain"]
    frame = pd.DataFrame({"text": pd.array(texts, dtype="string"), "pred_label": "genuine"})
    write_table([frame], tmp_path / "s.csv")
    written = pd.read_csv(tmp_path / "s.csv", dtype=str)["text"].tolist()
    assert written == ["'+1", "''+1", "'''=x", "'quoted", "plain"]
    assert read_scored(tmp_path / "s.csv", required=())["text"].tolist() == texts


def test_arrow_string_columns_are_guarded_too():
    import pyarrow as pa

    frame = pd.DataFrame(
        {"text": pd.Series(["=cmd", "ok"], dtype=pd.ArrowDtype(pa.large_string()))}
    )
    assert guard_formulas(frame)["text"].tolist() == ["'=cmd", "ok"]


def test_a_failed_move_into_place_leaves_no_temp_file(tmp_path):
    (tmp_path / "out.csv").mkdir()  # os.replace can not put a file there
    with pytest.raises(IsADirectoryError):
        write_table([pd.DataFrame({"a": ["x"]})], tmp_path / "out.csv")
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]
