"""--pseudonymize: keyed pseudonyms for commenters, applied before anything else sees a handle."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.config import ConfigError
from pipeline.privacy import (
    KEY_ENV,
    load_key,
    pseudonym,
    pseudonymize_frame,
    replace_mentions,
)

KEY = b"0123456789abcdef-test-key"
# Distinctive handles, so finding one in an output can only mean it leaked.
HANDLES = ["zed.commenter_07", "Quill_Lurker99", "mira.bot.farm", "xq_fan_club"]
REJECTED = "zz_rejected_handle"
OWNERS = ("creator.one", "creator.two")


def test_pseudonyms_are_keyed_stable_and_ignore_case_and_at():
    first = pseudonym("Zed.Commenter_07", KEY)
    assert re.fullmatch(r"user_[0-9a-f]{12}", first)
    assert pseudonym("@zed.commenter_07 ", KEY) == first
    assert pseudonym("zed.commenter_07", b"another-key-0123456789") != first
    assert pseudonym("zed.commenter_08", KEY) != first


def test_mentions_are_replaced_but_email_addresses_are_not():
    text = "thanks @Zed.Commenter_07. write to me@mail.example or @@xq_fan_club!"
    out = replace_mentions(text, KEY)
    assert out == (
        f"thanks @{pseudonym('zed.commenter_07', KEY)}. write to me@mail.example or"
        f" @@{pseudonym('xq_fan_club', KEY)}!"
    )


def test_frame_author_identity_columns_and_text_but_not_owners():
    frame = pd.DataFrame(
        {
            "author": pd.array(["Quill_Lurker99", None], dtype="string"),
            "text": pd.array(["hi @mira.bot.farm", "plain"], dtype="string"),
            "post_owner": pd.array(list(OWNERS), dtype="string"),
            "owner.profile_pic_url": pd.array(["https://cdn.example/Quill_Lurker99.jpg", None]),
            "likes": pd.array(["3", "4"], dtype="string"),
        }
    )
    out = pseudonymize_frame(frame, KEY)
    assert out["author"][0] == pseudonym("quill_lurker99", KEY) and pd.isna(out["author"][1])
    assert out["text"].tolist() == [f"hi @{pseudonym('mira.bot.farm', KEY)}", "plain"]
    assert out["post_owner"].tolist() == list(OWNERS) and out["likes"].tolist() == ["3", "4"]
    assert out["owner.profile_pic_url"][0].startswith("user_")
    assert frame["author"][0] == "Quill_Lurker99", "the input frame is not modified"


@pytest.mark.parametrize("key", ["", "short"])
def test_a_missing_or_short_key_is_refused_with_what_to_do(key):
    with pytest.raises(ConfigError, match=rf"{KEY_ENV} or pass --pseudonym-key-file"):
        load_key(None, {KEY_ENV: key} if key else {})


def test_key_from_a_file_wins_over_the_environment(tmp_path):
    (tmp_path / "key").write_bytes(KEY + b"\n")
    assert load_key(tmp_path / "key", {KEY_ENV: "x" * 40}) == KEY
    with pytest.raises(ConfigError, match="--pseudonym-key-file"):
        load_key(tmp_path / "absent", {})


def export(path: Path) -> Path:
    rows = []
    for i in range(120):
        author = HANDLES[i % len(HANDLES)]
        other = HANDLES[(i + 1) % len(HANDLES)]
        text = f"great post, ask @{other} about it {i % 9}" if i % 3 else "dm me for followers"
        rows.append({"comment_id": f"c{i}", "post_id": f"p{i % 4}", "post_owner": OWNERS[i % 2],
                     "author": author, "author_url": f"https://social.example/{author}",
                     "text": text, "created_at": f"2026-01-01T00:{i % 60:02d}:00Z"})  # fmt: skip
    rows.append({"comment_id": "r1", "post_id": "p0", "author": REJECTED, "text": ""})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def campaign(path: Path) -> Path:
    path.write_text(
        '[campaign]\nname = "Privacy check"\n'
        + "".join(f'[[creators]]\nhandle = "{o}"\nposts = ["p{i}"]\n' for i, o in enumerate(OWNERS))
    )
    return path


def invoke(*args, env: dict | None = None):
    env = {KEY_ENV: KEY.decode(), **(env or {})}
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False, env=env)


def every_string_in(directory: Path) -> str:
    """All text of every output file; Parquet is compressed, so its cells are read back."""
    texts = []
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path)
            texts += [" ".join(map(str, frame.columns)), frame.astype(str).to_csv()]
        else:
            texts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(texts)


@pytest.fixture(scope="module")
def audited(tiny_model_dir, tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("private")
    out = tmp / "audit"
    plan = campaign(tmp / "c.toml")
    result = invoke("audit", export(tmp / "in.jsonl"), "--campaign", plan, "-o", out,
                    "--model", tiny_model_dir, "--no-progress", "--pseudonymize")  # fmt: skip
    assert result.exit_code == 0, result.output
    return out


def test_no_handle_appears_in_any_output_of_a_pseudonymized_audit(audited):
    everything = every_string_in(audited).casefold()
    assert {"report.html", "summary.json", "scored.parquet", "flagged.csv", "rejects.jsonl"} <= {
        p.name for p in audited.iterdir()
    }
    for handle in [*HANDLES, REJECTED]:
        assert handle.casefold() not in everything, handle
    assert pseudonym(HANDLES[0], KEY) in everything
    assert all(owner in everything for owner in OWNERS)  # creators stay named


def test_the_same_key_gives_the_same_pseudonyms_in_score_and_report(audited, tiny_model_dir):
    scored = pd.read_parquet(audited / "scored.parquet")
    assert set(scored["author"]) == {pseudonym(h, KEY) for h in HANDLES}
    again = audited.parent / "again.parquet"
    result = invoke("score", audited.parent / "in.jsonl", "-o", again, "--model", tiny_model_dir,
                    "--no-progress", "--pseudonymize")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert pd.read_parquet(again)["author"].tolist() == scored["author"].tolist()


def test_report_pseudonymizes_a_plain_scored_file(audited, tiny_model_dir, tmp_path):
    plain = tmp_path / "plain.parquet"
    result = invoke("score", audited.parent / "in.jsonl", "-o", plain, "--model", tiny_model_dir,
                    "--no-progress")  # fmt: skip
    assert result.exit_code == 0 and HANDLES[0] in set(pd.read_parquet(plain)["author"])
    result = invoke("report", plain, "-o", tmp_path / "report", "--model", tiny_model_dir,
                    "--pseudonymize")  # fmt: skip
    assert result.exit_code == 0, result.output
    everything = every_string_in(tmp_path / "report").casefold()
    assert not any(h.casefold() in everything for h in HANDLES)


def test_pseudonymize_without_a_key_is_exit_2(tiny_model_dir, tmp_path):
    result = invoke("score", export(tmp_path / "in.jsonl"), "-o", tmp_path / "s.parquet",
                    "--model", tiny_model_dir, "--pseudonymize", env={KEY_ENV: ""})  # fmt: skip
    assert result.exit_code == 2
    assert KEY_ENV in result.output and "--pseudonym-key-file" in result.output
    assert not (tmp_path / "s.parquet").exists()


def test_a_commenter_name_column_is_pseudonymized():
    frame = pd.DataFrame({
        "author": pd.array(["Quill_Lurker99"], dtype="string"),
        "text": pd.array(["hi"], dtype="string"),
        "commenter_name": pd.array(["Zed Commenter"], dtype="string"),
    })  # fmt: skip
    out = pseudonymize_frame(frame, KEY)
    assert out["commenter_name"][0] == pseudonym("zed commenter", KEY)


def test_handle_columns_of_other_exports_and_fullwidth_mentions():
    # Twitter/TikTok/YouTube style names, and a mention written with a fullwidth @ (which
    # cleaning folds to @, so the handle would surface in clean_text's source: the raw text).
    names = ["handle", "screen_name", "nickname", "uniqueId", "display_name", "user.login"]
    frame = pd.DataFrame({name: pd.array(["Quill_Lurker99"], dtype="string") for name in names})
    frame["text"] = pd.array(["hi \uff20mira.bot.farm and \ufe6bxq_fan_club"], dtype="string")
    out = pseudonymize_frame(frame, KEY)
    assert all(out[name][0] == pseudonym("quill_lurker99", KEY) for name in names)
    assert out["text"][0] == (
        f"hi @{pseudonym('mira.bot.farm', KEY)} and @{pseudonym('xq_fan_club', KEY)}"
    )


@pytest.mark.parametrize(
    "name", ["author_accountHandle", "commenter_account", "account", "ACCOUNT_ID", "USER_ACCOUNT",
             "name", "fullName", "first_name", "owner.full_name"],
)  # fmt: skip
def test_account_and_name_columns_are_pseudonymized(name):
    # "account" holds "count", which marked it a count about the commenter and kept it.
    frame = pd.DataFrame({name: pd.array(["Quill_Lurker99"], dtype="string")})
    assert pseudonymize_frame(frame, KEY)[name][0] == pseudonym("quill_lurker99", KEY)


def test_counts_and_flags_about_the_commenter_are_kept():
    kept = {"repliesCount": "3", "owner.is_verified": "false", "ownerIsVerified": "true",
            "isAuthorChannelOwner": "false", "owner.id": "true", "reply_count": "2",
            "accountCount": "1", "repliescount": "4", "user.followerscount": "9",
            "accountType": "business", "video_name": "My pasta recipe", "page_name": "Acme",
            "place.full_name": "Rome, Italy"}  # fmt: skip
    frame = pd.DataFrame({k: pd.array([v], dtype="string") for k, v in kept.items()})
    out = pseudonymize_frame(frame, KEY)
    assert {k: out[k][0] for k in kept} == kept


def test_arrow_string_columns_are_pseudonymized():
    # The Ray engine's parts come back with Arrow strings; they were skipped as "not text".
    import pyarrow as pa

    arrow = pd.ArrowDtype(pa.large_string())
    frame = pd.DataFrame({"author": pd.Series(["Quill_Lurker99"], dtype=arrow),
                          "text": pd.Series(["hi @mira.bot.farm"], dtype=arrow)})  # fmt: skip
    out = pseudonymize_frame(frame, KEY)
    assert out["author"][0] == pseudonym("quill_lurker99", KEY)
    assert out["text"][0] == f"hi @{pseudonym('mira.bot.farm', KEY)}"
