"""Replies nested in comment records are records of their own, on their parent's post."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from pipeline import replies
from pipeline.io import RejectSink, read_chunks


def read_all(path: Path) -> tuple[pd.DataFrame, RejectSink]:
    sink = RejectSink()
    return pd.concat(list(read_chunks(path, rejects=sink)), ignore_index=True), sink


def _comment(cid: str, text: str, author: str, parent: str | None = None) -> dict:
    snippet = {"textOriginal": text, "authorDisplayName": author,
               "publishedAt": "2024-03-01T11:00:00Z", "channelId": "UCowner"}  # fmt: skip
    return {"kind": "youtube#comment", "id": cid,
            "snippet": {**snippet, **({"parentId": parent} if parent else {})}}  # fmt: skip


def _thread(i: int, n_replies: int) -> dict:
    top = _comment(f"T{i}", f"great video {i}", f"@fan{i}")
    thread = {"kind": "youtube#commentThread", "id": f"T{i}",
              "snippet": {"videoId": "vid1", "channelId": "UCowner", "topLevelComment": top,
                          "totalReplyCount": n_replies}}  # fmt: skip
    if n_replies:
        thread["replies"] = {"comments": [
            _comment(f"T{i}.r{j}", f"check my channel {j}", f"@bot{j}", f"T{i}")
            for j in range(n_replies)
        ]}  # fmt: skip
    return thread


def test_youtube_thread_replies_are_scored_rows_on_the_video(tmp_path):
    page = {"kind": "youtube#commentThreadListResponse", "items": [_thread(0, 2), _thread(1, 0)]}
    (tmp_path / "page.json").write_text(json.dumps(page))
    df, sink = read_all(tmp_path / "page.json")
    assert sink.count == 0
    assert df["comment_id"].tolist() == ["T0", "T0.r0", "T0.r1", "T1"]
    assert df["text"].tolist() == ["great video 0", "check my channel 0", "check my channel 1",
                                   "great video 1"]  # fmt: skip
    assert df["post_id"].tolist() == ["vid1"] * 4 and df["post_owner"].tolist() == ["UCowner"] * 4
    assert df["author"].tolist() == ["@fan0", "@bot0", "@bot1", "@fan1"]
    assert df["reply_to"].tolist()[1:3] == ["T0", "T0"] and df["reply_to"].isna()[[0, 3]].all()
    assert df["created_at"][1] == "2024-03-01T11:00:00Z"
    assert not [c for c in df.columns if c.startswith("replies")]  # not kept twice


def test_a_reply_keeps_its_own_post_and_never_takes_an_author_or_time(tmp_path):
    answers = [{"id": "2", "text": "DM me"}, {"id": "3", "text": "x", "media": {"id": "M2"}}]
    parent = {"id": "1", "text": "hi", "username": "ann", "timestamp": "2024-03-01T10:00:00Z",
              "media": {"id": "M1"}, "replies": {"data": answers}}  # fmt: skip
    (tmp_path / "graph.jsonl").write_text(json.dumps(parent) + "\n")
    df, _ = read_all(tmp_path / "graph.jsonl")
    assert df["post_id"].tolist() == ["M1", "M1", "M2"]
    assert df["author"].tolist()[0] == "ann" and df["author"][1:].isna().all()
    assert df["created_at"][1:].isna().all()
    assert df["source_line"].tolist() == [1, 1, 1]


def test_replies_in_parquet_structs_are_rows_too(tmp_path):
    rows = [{"id": "1", "text": "hi", "postUrl": "https://www.instagram.com/p/AbC/",
             "ownerUsername": "ann",
             "replies": [{"id": "2", "text": "DM me", "ownerUsername": "bot"}]}]  # fmt: skip
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "in.parquet")
    df, _ = read_all(tmp_path / "in.parquet")
    assert df["text"].tolist() == ["hi", "DM me"] and df["post_id"].tolist() == ["AbC", "AbC"]


def test_lists_that_are_not_replies_stay_passthrough():
    record = {"id": "1", "text": "hi", "replies": [], "tags": [{"x": 1}]}
    parent, found = replies.split(record)
    assert parent == record and found == []
    assert replies.split({"id": "1", "replies": ["a", "b"]})[1] == []  # not objects
    assert "snippet.videoId" in replies.post_keys() and "author" not in replies.post_keys()


def test_a_null_or_stray_item_in_the_list_hides_no_reply():
    record = {"id": "1", "text": "hi", "replies": [{"id": "2", "text": "DM me"}, None, "x"]}
    parent, found = replies.split(record)
    assert [r["id"] for r in found] == ["2"]
    assert parent["replies"] == ["x"]  # kept with the parent, not lost
    assert replies.split({"id": "1", "replies": [{"id": "2"}, None]})[0] == {"id": "1"}
