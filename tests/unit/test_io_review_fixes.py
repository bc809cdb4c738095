"""Reader bugs found in review (scripts r1-r19): each test failed before its fix."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.dedup import KeyCache, clean_frame
from pipeline.io import RejectSink, parse_mapping, read_chunks, read_scored, write_table
from pipeline.schemas import CANONICAL, SCHEMA_NAMES
from pipeline.values import normalise_timestamp

GENERIC = (
    "id,post_id,post_owner,username,text,created_at,label\n"
    "1,p1,acme,ann,great video,2024-03-01T10:15:00Z,genuine\n"
)


def read_all(path: Path, **kwargs) -> tuple[pd.DataFrame, RejectSink]:
    sink = RejectSink()
    frames = list(read_chunks(path, rejects=sink, **kwargs))
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()), sink


def test_canonical_named_columns_are_not_shadowed_by_a_detected_schema(tmp_path):
    # Detected as instagram_graph, whose candidates have no post_id, post_owner, created_at.
    (tmp_path / "generic.csv").write_text(GENERIC)
    df, _ = read_all(tmp_path / "generic.csv")
    assert df[list(CANONICAL)].iloc[0].tolist() == [
        "1", "p1", "acme", "ann", "great video", "2024-03-01T10:15:00Z", "genuine",
    ]  # fmt: skip
    assert not [c for c in df.columns if c.startswith("input_")]


@pytest.mark.parametrize("schema", SCHEMA_NAMES)
def test_every_schema_fills_a_field_from_its_canonical_column(tmp_path, schema):
    src = tmp_path / "Youtube01-Psy.csv"  # a stem that youtube_uci would take as the post
    src.write_text(",".join(CANONICAL) + "\nc1,p1,o1,a1,hello,2024-03-01T10:15:00Z,spam\n")
    df, _ = read_all(src, schema=schema)
    assert df[list(CANONICAL)].iloc[0].tolist() == [
        "c1", "p1", "o1", "a1", "hello", "2024-03-01T10:15:00Z", "spam",
    ]  # fmt: skip
    assert not [c for c in df.columns if c.startswith("input_")]


def test_a_mapped_column_whose_name_holds_a_colon(tmp_path):
    (tmp_path / "colon.csv").write_text("ID,Comment: Text,User\n1,hello there,ann\n2,buy,bob\n")
    mapping = parse_mapping("text=Comment: Text,comment_id=ID")
    df, sink = read_all(tmp_path / "colon.csv", mapping=mapping)
    assert df["text"].tolist() == ["hello there", "buy"] and sink.count == 0


def test_a_canonical_field_first_seen_after_the_first_chunk_fills_it(tmp_path):
    lines = [{"comment_id": f"c{i}", "text": f"hello {i}"} for i in range(3)]
    later = {"label": "spam", "created_at": "2024-03-01T10:15:00Z", "author": "bot"}
    lines += [{"comment_id": f"c{i}", "text": f"buy {i}", **later} for i in range(3, 6)]
    (tmp_path / "late.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    df, sink = read_all(tmp_path / "late.jsonl", chunk_size=3)
    assert sink.count == 0 and len(df) == 6
    assert df["label"].tolist()[3:] == ["spam"] * 3 and df["author"].tolist()[3:] == ["bot"] * 3
    assert df["created_at"].tolist()[3:] == ["2024-03-01T10:15:00Z"] * 3
    assert df["label"][:3].isna().all()
    assert not [c for c in df.columns if c.startswith("input_")]


def _page(i: int) -> dict:
    items = [
        {
            "id": f"c{i}{j}",
            "snippet": {
                "videoId": "v1",
                "topLevelComment": {"id": f"c{i}{j}", "snippet": {"textOriginal": f"hi {i}{j}"}},
            },
        }
        for j in range(2)
    ]
    return {"kind": "youtube#commentThreadListResponse", "nextPageToken": f"t{i}", "items": items}


@pytest.mark.parametrize("name", ["pages.jsonl", "pages.ndjson", "pages.json"])
def test_api_pages_one_per_line_are_expanded_whatever_the_extension(tmp_path, name):
    (tmp_path / name).write_text("".join(json.dumps(_page(i)) + "\n" for i in range(3)))
    df, sink = read_all(tmp_path / name)
    assert sink.count == 0 and df["text"].tolist() == [
        f"hi {i}{j}" for i in range(3) for j in (0, 1)
    ]
    assert set(df["post_id"]) == {"v1"}


def test_a_jsonl_record_with_a_data_list_is_a_record_not_a_page(tmp_path):
    (tmp_path / "r.jsonl").write_text(json.dumps({"text": "hi", "data": [{"x": 1}]}) + "\n")
    df, _ = read_all(tmp_path / "r.jsonl")
    assert df["text"].tolist() == ["hi"] and json.loads(df["data"][0]) == [{"x": 1}]


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("20240301101500", "2024-03-01T10:15:00"),  # was read as an epoch: year 2611
        ("202403011015", "2024-03-01T10:15:00"),  # was read as milliseconds: 1976
        ("20240301", "2024-03-01"),  # a date alone stays a date (no burst at midnight)
        ("2024-03-01", "2024-03-01"),
        ("2024-03-01T10:15:00z", "2024-03-01T10:15:00Z"),  # lowercase z and utc
        ("2024-03-01 10:15:00 utc", "2024-03-01T10:15:00Z"),
        ("1970-01-01T00:00:00Z", None),  # placeholders, not comment times
        ("0001-01-01T00:00:00Z", None),
        ("20241301101500", None),  # month 13: neither a date nor a plausible epoch
        ("946684800", "2000-01-01T00:00:00Z"),
        ("946684799", None),  # 1999: before any of these platforms' comments
        ("4102444800", "2100-01-01T00:00:00Z"),
        ("99999999999", None),  # year 5138
    ],
)
def test_compact_timestamps_and_implausible_epochs(raw, iso):
    assert normalise_timestamp(raw) == iso


def test_an_implausible_epoch_keeps_its_raw_value(tmp_path):
    (tmp_path / "t.csv").write_text("text,created_at\nhi,99999999999\n")
    df, _ = read_all(tmp_path / "t.csv")
    assert pd.isna(df["created_at"][0]) and df["created_at_raw"][0] == "99999999999"


class _Scorer:
    threshold, manifest = 0.5, {}

    def __init__(self) -> None:
        self.seen: list[str] = []

    def score_clean(self, texts: list[str], batch_size: int | None = None) -> dict:
        self.seen += texts
        return {"p_spam": np.array([0.99 if "$" in t else 0.01 for t in texts])}


def test_symbol_only_texts_each_get_their_own_forward_pass():
    texts = ["$$$", ":)", "★★★★★", "???", ":)", "$$$"]
    frame = clean_frame(pd.DataFrame({"text": pd.array(texts, dtype="string")}))
    assert set(frame["dedup_key"]) == {""}  # the cleaning output is not what changed
    cache, scorer = KeyCache(), _Scorer()
    cache.fill(frame, scorer)
    scored = cache.apply(frame, 0.5)
    assert len(scorer.seen) == 4  # one pass per distinct text, repeats still cached
    assert scored["pred_label"].tolist() == ["spam", *["genuine"] * 4, "spam"]


def test_remembered_scores_keep_symbol_only_texts_apart():
    frame = clean_frame(pd.DataFrame({"text": pd.array(["$$$", ":)"], dtype="string")}))
    frame["p_spam"] = [0.99, 0.01]
    for part in (frame, frame.drop(columns="clean_text")):  # an older part: no clean_text
        cache, scorer = KeyCache(), _Scorer()
        cache.remember(part, ["p_spam"])
        cache.fill(frame, scorer)
        assert cache.apply(frame, 0.5)["p_spam"].tolist() == [0.99, 0.01]


def _scored(tmp_path: Path) -> pd.DataFrame:
    src = tmp_path / "in.csv"
    src.write_text(
        "comment_id,text,created_at,media_pk,code\n"
        "1,hi,yesterday,31234567890123456789,00123\n"
        "2,+1,2024-03-01T10:15:00Z,31234567890123456791,04567\n"
        '3,"=cmd, -x",,,\n'
        "4,$$$,1709288100,,\n"
    )
    frame = clean_frame(read_all(src)[0])
    frame["p_spam"] = [0.125, 0.5, 0.875, 0.25]
    frame["pred_label"] = np.where(frame["p_spam"] >= 0.5, "spam", "genuine")
    frame["reasons"] = ["", "a; b", "", "c"]
    return frame


@pytest.mark.parametrize("name", ["s.csv", "s.tsv", "s.jsonl", "s.csv.gz", "s.jsonl.gz"])
def test_a_scored_text_copy_reads_back_as_the_parquet_does(tmp_path, name):
    frame = _scored(tmp_path)
    write_table([frame], tmp_path / "s.parquet")
    write_table([frame], tmp_path / name)
    want, got = read_scored(tmp_path / "s.parquet"), read_scored(tmp_path / name)
    if ".jsonl" not in name:  # CSV cannot tell "" from null: an empty passthrough cell is null
        want[["media_pk", "code"]] = want[["media_pk", "code"]].replace("", pd.NA)
    assert got["source_file"].tolist() == [str(tmp_path / "in.csv")] * 4
    assert got["created_at_raw"][0] == "yesterday" and got["code"].tolist()[:2] == [
        "00123",
        "04567",
    ]
    assert got["media_pk"][0] == "31234567890123456789"
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    for column in want.columns:  # the same kinds: text stays text, numbers and flags typed
        assert got[column].dtype.kind == want[column].dtype.kind or (
            pd.api.types.is_string_dtype(got[column]) and pd.api.types.is_string_dtype(want[column])
        ), column


def test_a_gzipped_scored_csv_is_read(tmp_path):
    frame = _scored(tmp_path)
    write_table([frame], tmp_path / "s.csv")
    (tmp_path / "copy.csv").write_bytes(gzip.compress((tmp_path / "s.csv").read_bytes()))
    assert read_scored(tmp_path / "copy.csv")["text"].tolist() == ["hi", "+1", "=cmd, -x", "$$$"]


def test_an_empty_json_array_or_object_as_text_is_a_reject_with_its_reason(tmp_path):
    lines = [{"text": []}, {"text": {}}, {"text": "[]"}, {"text": ["a"]}]
    (tmp_path / "t.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    df, sink = read_all(tmp_path / "t.jsonl")
    assert df["text"].tolist() == ["[]", '["a"]']  # a comment that reads "[]" is a comment
    reason = "text is an empty JSON array or object ([] or {}), not a string"
    assert [(r.line, r.field, r.reason) for r in sink.rejects] == [
        (1, "text", reason),
        (2, "text", reason),
    ]


def test_an_empty_json_text_falls_back_to_the_next_candidate(tmp_path):
    snippet = {"textOriginal": [], "textDisplay": "shown"}
    record = {"id": "t1", "snippet": {"topLevelComment": {"snippet": snippet}}}
    (tmp_path / "yt.jsonl").write_text(json.dumps(record) + "\n")
    df, sink = read_all(tmp_path / "yt.jsonl")
    assert df["text"].tolist() == ["shown"] and sink.count == 0


def test_jsonl_output_keeps_small_and_long_scores(tmp_path):
    scores = [3.2e-12, 0.123456789012345, 1 / 3]
    write_table([pd.DataFrame({"p_spam": scores})], tmp_path / "s.jsonl")
    back = [json.loads(line)["p_spam"] for line in (tmp_path / "s.jsonl").open()]
    np.testing.assert_allclose(back, scores, rtol=1e-12)  # 10 decimals made 3.2e-12 a 0.0


APIFY_COMMENT = {
    "postUrl": "https://www.instagram.com/p/CxYz123AbC/", "id": "17900000000001",
    "text": "nice 1", "ownerUsername": "user1", "timestamp": "2024-03-01T10:15:01.000Z",
    "replies": [{"id": "r1", "text": "DM me for crypto", "ownerUsername": "scammer"}],
}  # fmt: skip


@pytest.mark.parametrize("text_last", [False, True])
def test_a_json_record_with_a_list_of_replies_is_a_record_not_a_page(tmp_path, text_last):
    # `jq '.[]' export.json` writes pretty-printed records one after another: each was read
    # as a page of its replies, and the comment itself was lost.
    record = dict(APIFY_COMMENT)
    if text_last:
        record["text"] = record.pop("text")
    second = {**APIFY_COMMENT, "id": "17900000000002", "text": "nice 2"}
    (tmp_path / "jq.json").write_text(json.dumps(record, indent=2) + json.dumps(second, indent=2))
    df, sink = read_all(tmp_path / "jq.json")
    assert sink.count == 0
    assert df["text"].tolist() == ["nice 1", "DM me for crypto", "nice 2", "DM me for crypto"]
    assert df["post_id"].tolist() == ["CxYz123AbC"] * 4  # each reply on its parent's post
    assert df["author"].tolist() == ["user1", "scammer", "user1", "scammer"]


def test_a_page_without_a_text_of_its_own_is_still_expanded(tmp_path):
    page = {"data": [{"id": "1", "text": "a"}, {"id": "2", "text": "b"}], "paging": {}}
    (tmp_path / "page.json").write_text(json.dumps(page))
    df, _ = read_all(tmp_path / "page.json")
    assert df["text"].tolist() == ["a", "b"]


def test_nan_in_jsonl_is_a_missing_value_not_the_text_nan(tmp_path):
    # Python's json.dumps writes pandas' missing values as NaN, which json.loads accepts.
    rows = [{"comment_id": str(i), "post_id": "p" if i else float("nan"), "author": float("nan"),
             "text": f"nice post {i}", "likes": float("inf")} for i in range(2)]  # fmt: skip
    rows.append({"comment_id": "9", "post_id": "p", "text": float("nan")})
    (tmp_path / "nan.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    df, sink = read_all(tmp_path / "nan.jsonl")
    assert df["author"].isna().all() and df["post_id"].isna().tolist() == [True, False]
    assert df["likes"].isna().all()
    assert sink.count == 1 and sink.rejects[0].reason == "empty text"


@pytest.mark.parametrize(
    ("content", "line"),
    [
        ("\n\ntext,label\nhello,spam\n", 4),  # blank lines above the header
        ("\ufeff\r\ntext,label\r\nhello,spam\r\n", 3),
        ("sep=;\ntext;label\nhello;spam\n", 3),  # Excel's delimiter line
        ('"sep=|"\ntext|label\nhello|spam\n', 3),
        ("sep=;\n\ntext;label\nhello;spam\n", 4),  # a blank line after it too
    ],
)
def test_the_header_is_found_below_blank_and_excel_sep_lines(tmp_path, content, line):
    (tmp_path / "in.csv").write_bytes(content.encode())
    df, sink = read_all(tmp_path / "in.csv")
    assert sink.count == 0
    assert df[["text", "label"]].iloc[0].tolist() == ["hello", "spam"]
    assert df["source_line"].tolist() == [line]


def test_rows_may_leave_out_the_blank_columns_a_header_ends_with(tmp_path):
    (tmp_path / "in.csv").write_text("text,label,,\nhello,spam\nbye,genuine,\nx,spam,,,\n")
    df, sink = read_all(tmp_path / "in.csv")
    assert df["text"].tolist() == ["hello", "bye", "x"] and sink.count == 0
    (tmp_path / "short.csv").write_text("text,label,,\nhello\n")
    assert read_all(tmp_path / "short.csv")[1].rejects[0].field == "label"  # still too short


def test_renamed_repeated_columns_never_take_a_name_the_header_has(tmp_path):
    (tmp_path / "in.csv").write_text("text,text,text_2,,column_4\na,b,c,d,e\n")
    df, _ = read_all(tmp_path / "in.csv")
    row = df.iloc[0]
    assert (row["text"], row["text_3"], row["text_2"]) == ("a", "b", "c")
    assert (row["column_4_2"], row["column_4"]) == ("d", "e")


def test_an_unclosed_quote_past_the_field_limit_is_one_reject_not_the_end(tmp_path):
    import csv

    lines = ["id,text", "1,hello", '2,"oops unclosed'] + [f"{i},row {i} " + "x" * 80
                                                           for i in range(3, 60)]  # fmt: skip
    (tmp_path / "in.csv").write_text("\n".join(lines) + "\n")
    limit = csv.field_size_limit(1000)  # the real limit, 32 Mi, needs a 40 MB file
    try:
        df, sink = read_all(tmp_path / "in.csv")
    finally:
        csv.field_size_limit(limit)
    assert [(r.line, r.field) for r in sink.rejects] == [(3, "text")]
    assert "runs past" in sink.rejects[0].reason
    assert df["comment_id"].tolist() == ["1", *map(str, range(3, 60))]


def test_a_jsonl_line_holding_an_array_of_objects_gives_its_records(tmp_path):
    records = [{"id": str(i), "text": f"nice {i}"} for i in range(3)]
    (tmp_path / "in.jsonl").write_text(json.dumps(records) + "\n" + json.dumps(["a", 1]) + "\n")
    df, sink = read_all(tmp_path / "in.jsonl")
    assert df["text"].tolist() == ["nice 0", "nice 1", "nice 2"]
    assert df["source_line"].tolist() == [1, 1, 1]
    assert sink.count == 1 and "an array" in sink.rejects[0].reason  # not records: a reject


@pytest.mark.parametrize("name", ["pages.json", "pages.jsonl"])
def test_a_json_array_of_api_pages_gives_the_pages_records(tmp_path, name):
    (tmp_path / name).write_text(json.dumps([_page(0), _page(1)]))
    df, sink = read_all(tmp_path / name)
    singly = pd.concat([read_all(_write(tmp_path, i))[0] for i in range(2)], ignore_index=True)
    assert sink.count == 0 and len(df) == len(singly) > 2
    assert df["text"].tolist() == singly["text"].tolist()


def _write(tmp_path: Path, i: int) -> Path:
    path = tmp_path / f"page{i}.json"
    path.write_text(json.dumps(_page(i)))
    return path


def test_youtube_comment_downloader_lines_are_read_one_file_per_video(tmp_path):
    lines = [{"cid": "Ugw1", "text": "love this song", "time": "2 days ago", "author": "@ann",
              "channel": "UCann", "votes": "3", "reply": False, "time_parsed": 1709288100.5},
             {"cid": "Ugw1.r1", "text": "check my channel", "time": "2 days ago",
              "author": "@bot", "channel": "UCbot", "votes": "0", "reply": True,
              "time_parsed": 1709288100.5}]  # fmt: skip
    path = tmp_path / "ScMzIvxBSi4.json"  # as its README's --output names it
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    df, sink = read_all(path)
    assert sink.count == 0
    assert df["comment_id"].tolist() == ["Ugw1", "Ugw1.r1"]
    assert df["post_id"].tolist() == ["ScMzIvxBSi4"] * 2
    assert df["author"].tolist() == ["@ann", "@bot"]
    # "2 days ago" as a time: one second shared by a day's comments, a false burst.
    assert df["created_at"].isna().all() and df["time_parsed"].notna().all()
    assert df["post_owner"].isna().all()  # `channel` is the commenter's


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_one_line_utf16_json_with_an_emoji_holding_a_0a_byte_is_utf16(tmp_path, encoding):
    # 😊 is U+1F60A: a 0A byte inside a character, in a head with no line end at all.
    records = [{"id": str(i), "text": f"love it 😊 {i}", "username": f"u{i}"} for i in range(20)]
    (tmp_path / "x.json").write_bytes(json.dumps(records, ensure_ascii=False).encode(encoding))
    df, sink = read_all(tmp_path / "x.json")
    assert sink.count == 0 and df["text"].tolist()[:2] == ["love it 😊 0", "love it 😊 1"]
