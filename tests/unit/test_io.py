"""Readers: every known schema, every format and encoding, and every record accounted for."""

from __future__ import annotations

import gzip
import io
import json
import sys
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.io import (
    CANONICAL,
    InputError,
    RejectSink,
    detect_schema,
    parse_mapping,
    read_chunks,
)

FIX = Path(__file__).resolve().parents[1] / "fixtures" / "io"


def read_all(path, **kwargs) -> tuple[pd.DataFrame, RejectSink]:
    sink = RejectSink()
    frames = list(read_chunks(path, rejects=sink, **kwargs))
    return (pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()), sink


def test_chunk_columns_and_dtypes():
    df, _ = read_all(FIX / "canonical.csv")
    assert list(df.columns[:10]) == [*CANONICAL, "source_file", "source_line", "created_at_raw"]
    assert all(df[c].dtype == "string" for c in CANONICAL)
    assert df["source_line"].dtype == "int64"
    assert list(df["source_line"]) == [2, 3, 4]
    assert df["input_lang"].tolist() == ["en", "en", "es"]  # passthrough; scoring adds lang
    assert df["created_at"].tolist() == [
        "2024-05-01T12:00:00Z",
        "2024-05-01T12:05:00Z",
        "2024-05-02",  # a date alone stays a date
    ]
    assert df["label"].tolist()[:2] == ["genuine", "spam"] and df["label"].isna()[2]


def test_uci_youtube_csv():
    df, sink = read_all(FIX / "Youtube09-Sample.csv")
    assert sink.count == 0 and len(df) == 5
    assert set(df["post_id"]) == {"Youtube09-Sample"}  # one file per video
    assert df["post_owner"].isna().all()
    assert df["label"].tolist() == ["genuine", "spam", "genuine", "spam", "genuine"]
    assert df["author"][1] == "Promo Tom" and df["comment_id"][0] == "z12abcfakeid0001xyz"
    assert pd.isna(df["created_at"][1]) and pd.isna(df["created_at_raw"][1])  # blank DATE
    assert df["created_at"][0] == "2014-01-19T00:24:38.237000"  # no zone given: none invented
    assert df["text"][1].endswith("link in my profile\ufeff")  # multi-line record, text untouched
    assert df["source_line"].tolist() == [2, 3, 5, 6, 7]  # line where each record starts


def test_youtube_api_comment_threads():
    df, sink = read_all(FIX / "youtube_commentThreads.json")
    assert sink.count == 0 and len(df) == 3
    assert df["text"][0] == 'Great tutorial, the "step 3" trick saved me'  # textOriginal wins
    assert df["text"][1].startswith("I turned $500 into $9k with <a href")  # textDisplay fallback
    assert set(df["post_id"]) == {"vidFAKE0001"}
    assert set(df["post_owner"]) == {"UCfakeChannelOwner000001"}
    assert df["author"].tolist() == ["@quiet_viewer", "@crypto_mentor_4u", "@early_bird"]
    assert df["comment_id"][2] == "UgzFakeThread0003CcCcCc"
    assert df["created_at"][1] == "2024-03-01T10:00:30Z"  # +02:00 converted to UTC
    assert (
        df["snippet.topLevelComment.snippet.authorChannelId.value"][0] == "UCfakeAuthor0000000001"
    )
    assert df["source_line"].tolist() == [1, 2, 3]  # record index in a JSON document


def test_instagram_graph_comments():
    df, sink = read_all(FIX / "instagram_graph_comments.json")
    assert sink.count == 0 and len(df) == 5  # paging is not a record; the reply is one
    assert df["post_id"].tolist()[:3] == ["17950000000000001"] * 3  # the reply on its post
    assert pd.isna(df["post_id"][3])  # no media field: null unless --map says otherwise
    assert df["author"].tolist()[2:] == ["fast_profit_club", "wanderer_fake", "minimal_fake"]
    assert df["author"][0] == "sunny.days.fake" and pd.isna(df["author"][1])  # never inherited
    assert df["created_at"][3] == "2024-02-11T06:30:00Z"  # +0100
    reply = df.iloc[1]
    assert (reply["comment_id"], reply["reply_to"]) == ("17900000000000009", "17900000000000001")
    assert reply["text"] == "@sunny.days.fake thank you!" and "replies.data" not in df


def test_instagram_apify_scraper_json():
    df, sink = read_all(FIX / "instagram_apify.json")
    # Apify's raw record (postUrl, ownerUsername, text), not the already-renamed frame.
    record = json.loads((FIX / "instagram_apify.json").read_text(encoding="utf-8"))[0]
    assert detect_schema(record) == "instagram_scraper"
    assert sink.count == 0 and len(df) == 4  # 3 comments and a reply
    assert df["post_id"].tolist() == ["C3xFakeAbc1", "C3xFakeAbc1", "C3xFakeAbc1", "C4yFakeReel2"]
    authors = ["home_cook_fake", "viral_boost_fake", "home_cook_fake", "giggles_fake"]
    assert df["author"].tolist() == authors
    assert df["postUrl"][0] == "https://www.instagram.com/p/C3xFakeAbc1/"  # kept for reports
    assert df["created_at"][0] == "2024-01-05T14:03:22Z"
    assert df["text"][2] == "no thanks" and df["reply_to"][2] == "18000000000000002"
    assert df["source_line"].tolist() == [1, 2, 2, 3]  # a reply shares its parent's record


def test_instagram_scraper_csv_variant():
    df, sink = read_all(FIX / "instagram_scraper.csv")
    assert sink.count == 0 and len(df) == 4
    assert df["post_id"].tolist() == ["C5zFakeXyz9", "C5zFakeXyz9", "C6aFakeReel1", "C5zFakeXyz9"]
    assert set(df["post_owner"]) == {"fit_coach_fake"}
    assert df["author"][0] == "runner_fake" and df["text"][2] == "so inspiring, thank you"
    # Unix seconds and milliseconds are UTC; an unreadable stamp is kept raw, not rejected.
    assert df["created_at"].tolist()[:3] == [
        "2024-03-01T11:00:00Z",
        "2024-03-01T11:01:01Z",
        "2024-03-02T11:00:00Z",
    ]
    assert pd.isna(df["created_at"][3]) and df["created_at_raw"][3] == "not a date"
    assert df["created_at_raw"][:3].isna().all()


def test_scamspot_jsonl():
    df, sink = read_all(FIX / "scamspot.jsonl")
    assert sink.count == 0 and len(df) == 5
    assert df["label"].fillna("null").tolist() == ["spam", "genuine", "null", "null", "spam"]
    assert df["post_shortcode"][0] == "CqFakeAaa01" and df["post_owner"][4] == "budget_tips_fake"


@pytest.mark.parametrize(
    ("columns", "schema"),
    [
        (["COMMENT_ID", "AUTHOR", "DATE", "CONTENT", "CLASS"], "youtube_uci"),
        (["comment_id", "author", "date", "content", "class"], "youtube_uci"),
        (["id", "snippet.topLevelComment.snippet.textOriginal"], "youtube_api"),
        (["id", "snippet.textDisplay", "snippet.videoId"], "youtube_api"),
        (["id", "text", "timestamp", "username"], "instagram_graph"),
        (["id", "text", "timestamp", "from.id"], "instagram_graph"),
        (["postUrl", "text", "ownerUsername", "timestamp", "id"], "instagram_scraper"),
        (["post_url", "comment_text", "username", "created_at"], "instagram_scraper"),
        (["comment_id", "post_id", "post_shortcode", "post_owner", "text", "label"], "scamspot"),
        (["comment_id", "post_id", "text"], "canonical"),
        (["body", "user"], "unknown"),
    ],
)
def test_detect_schema(columns, schema):
    assert detect_schema(columns) == schema


def test_detect_schema_from_a_record():
    record = {"id": "1", "snippet": {"topLevelComment": {"snippet": {"textOriginal": "hi"}}}}
    assert detect_schema(record) == "youtube_api"


def test_gzip_matches_plain(tmp_path):
    for name in ("canonical.csv", "scamspot.jsonl", "youtube_commentThreads.json"):
        packed = tmp_path / f"{name}.gz"
        packed.write_bytes(gzip.compress((FIX / name).read_bytes()))
        plain, _ = read_all(FIX / name)
        unpacked, _ = read_all(packed)
        pd.testing.assert_frame_equal(
            plain.drop(columns="source_file"), unpacked.drop(columns="source_file")
        )


def stdin_with(monkeypatch, data: bytes) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))


@pytest.mark.parametrize(
    "name", ["canonical.csv", "scamspot.jsonl", "instagram_graph_comments.json"]
)
def test_stdin_sniffs_the_format(monkeypatch, name):
    stdin_with(monkeypatch, (FIX / name).read_bytes())
    df, _ = read_all("-")
    plain, _ = read_all(FIX / name)
    assert set(df["source_file"]) == {"<stdin>"}
    pd.testing.assert_frame_equal(plain.drop(columns="source_file"), df.drop(columns="source_file"))


def test_stdin_gzip(monkeypatch):
    stdin_with(monkeypatch, gzip.compress((FIX / "scamspot.jsonl").read_bytes()))
    assert len(read_all("-")[0]) == 5


CAFE = "comment_id,text\nk1,café crème\nk2,niño Müller ¿sí?\nk3,plain ascii\n"


@pytest.mark.parametrize(
    "encoding", ["utf-16", "utf-8-sig", "utf-16-le", "utf-16-be", "latin-1", "cp1252"]
)
def test_encodings(tmp_path, encoding):
    path = tmp_path / "enc.csv"
    path.write_bytes(CAFE.encode(encoding))
    df, sink = read_all(path)
    assert sink.count == 0
    assert df["comment_id"].tolist() == ["k1", "k2", "k3"]  # no BOM glued to the first header
    assert df["text"].tolist() == ["café crème", "niño Müller ¿sí?", "plain ascii"]


def test_invalid_utf8_bytes_are_replaced_not_lost(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"comment_id,text\nb1,na\xc3\xafve\nb2,broken \xff\xfe here\nb3,ok\n")
    df, sink = read_all(path)
    assert sink.count == 0 and df["text"].tolist() == ["naïve", "broken \ufffd\ufffd here", "ok"]


def test_mixed_encodings_keep_every_row(tmp_path):
    utf8 = "m1,déjà vu\n".encode()
    latin = "m2,garçon\n".encode("latin-1")
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"comment_id,text\n" + utf8 + latin + b"m3,end\n")
    df, sink = read_all(path)
    assert sink.count == 0 and df["comment_id"].tolist() == ["m1", "m2", "m3"]
    assert df["text"][0] == "déjà vu" and df["text"][1] == "gar\ufffdon"


def test_nul_bytes_are_stripped(tmp_path):
    path = tmp_path / "nul.csv"
    path.write_bytes(b"comment_id,text\nz1,hel\x00lo\nz2,\x00world\x00\n")
    df, _ = read_all(path)
    assert df["text"].tolist() == ["hello", "world"]


def test_unclosed_quote_swallows_lines_like_the_csv_module():
    df, sink = read_all(FIX / "unclosed_quote.csv")
    assert sink.count == 0
    assert df["comment_id"].tolist() == ["u1", "u2", "u5"]
    assert "swallowed by the quote above" in df["text"][1]
    assert df["source_line"].tolist() == [2, 3, 6]  # physical lines stay right after it


def test_ragged_rows_are_rejected_with_line_and_reason():
    df, sink = read_all(FIX / "ragged.csv")
    assert df["comment_id"].tolist() == ["r1", "r4", "r5"]  # trailing empty cells are padding
    assert [(r.line, r.field, r.reason) for r in sink.rejects] == [
        (3, "column 4", "expected 3 fields, got 5; cells past the header"),
        (4, "text", "expected 3 fields, got 2; missing text"),
    ]
    assert sink.rejects[0].raw == "r2,bob_fake,too,many,fields"


UNCLOSED_CSV = (
    'comment_id,post_id,text\n1,p1,hello\n2,p1,"great post\n3,p2,fine\n4,p2,""quoted"" too\n'
)


def test_an_unclosed_quote_does_not_swallow_the_rows_after_it(tmp_path):
    src = tmp_path / "unclosed.csv"
    src.write_text(UNCLOSED_CSV)
    df, sink = read_all(src)
    assert df["comment_id"].tolist() == ["1", "3", "4"]
    assert df["source_line"].tolist() == [2, 4, 5]  # physical lines of the file
    assert df["text"].tolist()[1] == "fine"
    reason = "a quoted field opens here and never closes; the lines after it are read as rows"
    assert [(r.line, r.field, r.reason, r.raw) for r in sink.rejects] == [
        (3, "text", reason, '2,p1,"great post'),
    ]


def test_a_quote_left_open_on_the_last_line_keeps_its_text(tmp_path):
    src = tmp_path / "last.csv"
    src.write_text('comment_id,text\n1,hello\n2,"great post\n')
    df, sink = read_all(src)
    assert df["text"].tolist() == ["hello", "great post\n"] and not sink.rejects


def test_too_many_unclosed_quotes_are_an_error_not_a_reread_each(tmp_path, monkeypatch):
    # Each recovery re-reads the rest of the file; past MAX_UNCLOSED the read stops instead.
    monkeypatch.setattr("pipeline.records.MAX_UNCLOSED", 0)
    src = tmp_path / "unclosed.csv"
    src.write_text(UNCLOSED_CSV)
    with pytest.raises(InputError, match="more than 0 quoted fields never close"):
        read_all(src)


def test_bad_jsonl_lines_are_rejected():
    df, sink = read_all(FIX / "bad_lines.jsonl")
    assert df["comment_id"].tolist() == ["j1", "j3"]
    assert df["meta.lang"][1] == "en" and json.loads(df["meta.tags"][1]) == ["a", "b"]
    assert [r.line for r in sink.rejects] == [2, 4, 5]
    assert sink.rejects[0].reason.startswith("invalid JSON")
    assert sink.rejects[1].reason == "record is not a JSON object but an array"
    assert sink.rejects[2].reason == "record is not a JSON object but a string"


def test_missing_text_column_lists_columns_and_suggests_map():
    with pytest.raises(InputError) as err:
        read_all(FIX / "no_text.csv")
    message = str(err.value)
    assert "no_text.csv" in message and "id, body, user" in message and "--map text=" in message
    assert err.value.field == "text"


def test_map_completes_an_unknown_schema():
    df, _ = read_all(
        FIX / "no_text.csv", mapping=parse_mapping("text=body, author=USER,comment_id=id")
    )
    assert df["text"].tolist() == ["hello there", "second"]
    assert df["author"].tolist() == [
        "ann_fake",
        "bob_fake",
    ]  # column names match case-insensitively


def test_map_overrides_detection_with_dotted_names():
    mapping = parse_mapping("text=snippet.topLevelComment.snippet.textDisplay")
    df, _ = read_all(FIX / "youtube_commentThreads.json", mapping=mapping)
    assert df["text"][0] == "Great tutorial, the &quot;step 3&quot; trick saved me"


def test_map_to_a_missing_column_is_an_input_error():
    with pytest.raises(InputError, match="--map text=nope: no such column; columns are: id, body"):
        read_all(FIX / "no_text.csv", mapping={"text": "nope"})


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("txt=CONTENT", "unknown field 'txt'"),
        ("text", "not FIELD=COLUMN"),
        ("text=a,text=b", "mapped twice"),
    ],
)
def test_parse_mapping_errors(spec, message):
    with pytest.raises(InputError, match=message):
        parse_mapping(spec)


def test_parse_mapping():
    assert parse_mapping(None) == {} and parse_mapping("") == {}
    assert parse_mapping(" text = CONTENT , post_id=videoId") == {
        "text": "CONTENT",
        "post_id": "videoId",
    }


def test_forced_schema():
    df, _ = read_all(FIX / "canonical.csv", schema="canonical")
    assert len(df) == 3
    with pytest.raises(InputError, match="unknown schema 'nope'"):
        read_all(FIX / "canonical.csv", schema="nope")


def test_empty_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="empty file"):
        read_all(FIX / "empty.csv")
    (tmp_path / "blank.jsonl").write_text("\n  \n")
    (tmp_path / "empty.csv.gz").write_bytes(gzip.compress(b""))
    for name in ("blank.jsonl", "empty.csv.gz"):
        with pytest.raises(InputError, match="empty file"):
            read_all(tmp_path / name)


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="cannot open"):
        read_all(tmp_path / "nope.csv")


def test_header_only_gives_no_rows_and_no_error():
    df, sink = read_all(FIX / "header_only.csv")
    assert len(df) == 0 and sink.count == 0


def test_empty_or_null_text_is_rejected():
    df, sink = read_all(FIX / "null_text.jsonl")
    assert df["comment_id"].tolist() == ["n1", "n6"]
    assert [(r.line, r.field, r.reason) for r in sink.rejects] == [
        (n, "text", "empty text") for n in (2, 3, 4, 5)
    ]
    assert json.loads(sink.rejects[0].raw) == {"comment_id": "n2", "text": None}


def test_label_normalisation():
    df, sink = read_all(FIX / "labels.csv")
    got = dict(zip(df["comment_id"], df["label"].fillna("null"), strict=True))
    assert got == {
        **dict.fromkeys(["l1", "l3", "l5", "l12"], "spam"),
        **dict.fromkeys(["l2", "l4", "l6", "l7", "l8"], "genuine"),
        "l9": "null",
    }
    assert [(r.line, r.field) for r in sink.rejects] == [(11, "label"), (12, "label")]
    assert "'maybe'" in sink.rejects[0].reason


def test_json_label_types(tmp_path):
    path = tmp_path / "l.jsonl"
    rows = [{"text": "a", "label": 1}, {"text": "b", "label": False}, {"text": "c", "label": True}]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    assert read_all(path)[0]["label"].tolist() == ["spam", "genuine", "spam"]


def test_delimiters_are_sniffed(tmp_path):
    for sep in (";", "\t", "|"):
        path = tmp_path / "d.csv"
        path.write_text(f"comment_id{sep}text\nd1{sep}a, b\n")
        assert read_all(path)[0]["text"].tolist() == ["a, b"]
    assert read_all(FIX / "pipes.txt")[0]["text"][1] == "second; with a semicolon"


def test_json_shapes(tmp_path):
    (tmp_path / "array.json").write_text('[{"text": "a"}, 5, {"text": "b"}]')
    (tmp_path / "concat.json").write_text('{"data": [{"text": "a"}]}\n{"data": [{"text": "b"}]}')
    (tmp_path / "one.json").write_text('{\n  "text": "only one"\n}')
    df, sink = read_all(tmp_path / "array.json")
    assert df["text"].tolist() == ["a", "b"] and df["source_line"].tolist() == [1, 3]
    assert sink.rejects[0].line == 2 and "not a JSON object but a number" in sink.rejects[0].reason
    assert read_all(tmp_path / "concat.json")[0]["text"].tolist() == ["a", "b"]
    assert read_all(tmp_path / "one.json")[0]["text"].tolist() == ["only one"]


def test_json_lists_that_hold_no_records(tmp_path):
    (tmp_path / "tags.json").write_text('{\n "text": "one", "tags": ["a", "b"], "n": []\n}')
    (tmp_path / "page.json").write_text(
        '{"kind": "youtube#commentThreadListResponse", "items": []}'
    )
    df, sink = read_all(tmp_path / "tags.json")
    assert df["text"].tolist() == ["one"] and json.loads(df["tags"][0]) == ["a", "b"]
    assert len(read_all(tmp_path / "page.json")[0]) == 0


def test_truncated_json_is_an_input_error(tmp_path):
    (tmp_path / "cut.json").write_text('{"items": [{"text": "a"}, {"text": "b"}, {"te')
    with pytest.raises(InputError, match=r"cut.json: invalid JSON after record 2"):
        read_all(tmp_path / "cut.json")


def test_parquet_with_nested_columns(tmp_path, monkeypatch):
    table = pa.table(
        {
            "id": ["q1", "q2"],
            "text": ["hi", None],
            "user": [{"name": "ann"}, {"name": "bob"}],
            "n": [1, 2],
        }
    )
    pq.write_table(table, tmp_path / "c.parquet")
    df, sink = read_all(tmp_path / "c.parquet", mapping={"author": "user.name"})
    assert df["text"].tolist() == ["hi"] and df["author"].tolist() == ["ann"] and df["n"][0] == "1"
    assert sink.rejects[0].line == 2 and sink.rejects[0].field == "text"
    stdin_with(monkeypatch, (tmp_path / "c.parquet").read_bytes())
    assert read_all("-")[0]["text"].tolist() == ["hi"]


def test_a_5mb_comment_passes_through(tmp_path):
    big = "spam " * 1_000_000
    (tmp_path / "big.csv").write_text(f'comment_id,text\nb1,"{big}"\nb2,small\n')
    (tmp_path / "big.jsonl").write_text(json.dumps({"text": big}) + "\n")
    df, _ = read_all(tmp_path / "big.csv")
    assert df["text"][0] == big and df["source_line"].tolist() == [2, 3]
    assert read_all(tmp_path / "big.jsonl")[0]["text"][0] == big


def test_lone_surrogate_escapes_become_writable(tmp_path):
    (tmp_path / "s.jsonl").write_text('{"text": "half an emoji \\ud83d"}\n')
    text = read_all(tmp_path / "s.jsonl")[0]["text"][0]
    assert text.startswith("half an emoji") and text.encode("utf-8")


# (records in the file, rows it should give): the invariant rows + rejects == records.
RECORDS = {
    "Youtube09-Sample.csv": (5, 5),
    "youtube_commentThreads.json": (3, 3),
    "instagram_graph_comments.json": (5, 5),  # records: the comments and their replies
    "instagram_apify.json": (4, 4),
    "instagram_scraper.csv": (4, 4),
    "scamspot.jsonl": (5, 5),
    "canonical.csv": (3, 3),
    "ragged.csv": (5, 3),
    "unclosed_quote.csv": (3, 3),
    "bad_lines.jsonl": (5, 2),
    "null_text.jsonl": (6, 2),
    "labels.csv": (12, 10),
    "header_only.csv": (0, 0),
    "pipes.txt": (2, 2),
}


@pytest.mark.parametrize("name", sorted(RECORDS))
def test_every_record_is_a_row_or_a_reject(name):
    for chunk_size in (1, 2, 10_000):
        df, sink = read_all(FIX / name, chunk_size=chunk_size)
        records, rows = RECORDS[name]
        assert (len(df), len(df) + sink.count) == (rows, records)


def test_every_fixture_is_covered():
    assert {p.name for p in FIX.iterdir()} - set(RECORDS) == {"empty.csv", "no_text.csv"}


def test_reading_streams_in_bounded_chunks(tmp_path):
    path = tmp_path / "200k.csv"
    with path.open("w") as out:
        out.write("comment_id,author,text,label\n")
        out.writelines(f"c{i},u{i % 97},comment {i},{i % 2}\n" for i in range(200_000))
    sizes = [len(chunk) for chunk in read_chunks(path, chunk_size=10_000)]
    assert max(sizes) == 10_000 and sum(sizes) == 200_000 and len(sizes) == 20


def test_chunks_keep_columns_seen_earlier(tmp_path):
    (tmp_path / "v.jsonl").write_text('{"text": "a", "x": "1"}\n{"text": "b", "y": "2"}\n')
    first, second = read_chunks(tmp_path / "v.jsonl", chunk_size=1)
    assert "x" in second.columns and list(second.columns[-2:]) == ["x", "y"]
    assert first["x"][0] == "1"


def test_reject_sink_writes_jsonl_and_csv(tmp_path):
    sink = RejectSink()
    list(read_chunks(FIX / "ragged.csv", rejects=sink))
    assert sink.write(tmp_path / "r.jsonl") == 2
    lines = [json.loads(x) for x in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert lines[0] == {
        "file": str(FIX / "ragged.csv"),
        "line": 3,
        "field": "column 4",
        "reason": "expected 3 fields, got 5; cells past the header",
        "raw": "r2,bob_fake,too,many,fields",
    }
    sink.write(tmp_path / "r.csv")
    assert pd.read_csv(tmp_path / "r.csv")["line"].tolist() == [3, 4]


def test_reject_sink_streams_to_its_path(tmp_path):
    target = tmp_path / "rej.jsonl"
    with RejectSink(target, keep=1) as sink:
        list(read_chunks(FIX / "labels.csv", rejects=sink))
    assert sink.count == 2 and len(sink.rejects) == 1
    assert len(target.read_text().splitlines()) == 2
    with pytest.raises(RuntimeError, match="run failed"), RejectSink(tmp_path / "no.jsonl") as sink:
        list(read_chunks(FIX / "labels.csv", rejects=sink))
        raise RuntimeError("run failed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rej.jsonl"]


@pytest.mark.data
def test_shared_datasets(datasets_dir):
    counts, labels = [], {}
    for path in sorted((datasets_dir / "youtube-spam-collection").glob("*.csv")):
        df, sink = read_all(path)
        assert sink.count == 0, sink.rejects[:3]
        counts.append(len(df))
        for label, n in df["label"].value_counts().items():
            labels[label] = labels.get(label, 0) + n
    assert counts == [350, 350, 438, 448, 370] and labels == {"spam": 1005, "genuine": 951}
    df, sink = read_all(datasets_dir / "scamspot-instagram" / "comments.jsonl")
    assert sink.count == 0 and len(df) == 3556
    assert df["label"].value_counts(dropna=False).to_dict() == {
        "genuine": 1692,
        pd.NA: 1071,
        "spam": 793,
    }


def test_a_character_cut_at_the_sniffing_boundary_is_still_utf8(tmp_path):
    from pipeline.sources import HEAD_BYTES

    prefix = "comment_id,text\n"
    filler = "x" * (HEAD_BYTES - len(prefix) - len("f1,") - 2)
    path = tmp_path / "edge.csv"
    path.write_bytes(f"{prefix}f1,{filler}🔥\nf2,déjà\n".encode())  # the emoji straddles 64 KiB
    df, _ = read_all(path)
    assert df["text"].tolist() == [filler + "🔥", "déjà"]


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("2024-03-01T10:15:00Z", "2024-03-01T10:15:00Z"),
        ("2024-03-01T12:15:00+0200", "2024-03-01T10:15:00Z"),
        ("2024-03-01 10:15:00 UTC", "2024-03-01T10:15:00Z"),
        ("2024-03-01T10:15:00", "2024-03-01T10:15:00"),
        ("1709288100", "2024-03-01T10:15:00Z"),
        ("1709288100000", "2024-03-01T10:15:00Z"),
        ("1709288100000000", "2024-03-01T10:15:00Z"),
        # A float column written out (nanoseconds with blanks): precise to the second.
        ("1.709288100123457e+18", "2024-03-01T10:15:00.123457Z"),
        ("1.709288100E9", "2024-03-01T10:15:00Z"),
        ("1.71E+09", None),  # a spreadsheet's rounding: 2024-03-09, a week off; kept raw
        ("Fri Mar 01 10:15:00 +0000 2024", "2024-03-01T10:15:00Z"),
        ("Fri, 01 Mar 2024 11:15:00 +0100", "2024-03-01T10:15:00Z"),
        ("2024", None),
        ("yesterday", None),
        ("0001-01-01T00:00:00+01:00", None),
    ],
)
def test_normalise_timestamp(raw, iso):
    from pipeline.values import normalise_timestamp

    assert normalise_timestamp(raw) == iso


def test_truncated_gzip_is_an_input_error(tmp_path):
    rows = "".join(f"t{i},comment {i}\n" for i in range(20_000)).encode()
    packed = gzip.compress(b"comment_id,text\n" + rows)
    (tmp_path / "cut.csv.gz").write_bytes(packed[: len(packed) // 2])
    with pytest.raises(InputError, match=r"cut.csv.gz: line \d+: cannot read past record"):
        read_all(tmp_path / "cut.csv.gz")


def test_escaped_nul_characters_are_removed_and_a_nul_only_text_is_rejected(tmp_path):
    src = tmp_path / "nul.jsonl"
    src.write_text(
        '{"text": "\\u0000\\u0000", "post_id": "p"}\n'
        '{"text": "hi\\u0000there", "author": "a\\u0000b", "post_id": "p"}\n'
    )
    frame, sink = read_all(src)
    assert frame[["text", "author"]].values.tolist() == [["hithere", "ab"]]
    assert [(r.line, r.field, r.reason) for r in sink.rejects] == [(1, "text", "empty text")]
