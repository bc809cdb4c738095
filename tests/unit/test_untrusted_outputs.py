"""Untrusted text in every output: inert in the HTML report, guarded in every CSV, and unable to
steer where files are written.

The payload corpus is in tests/report_frames.py (HOSTILE, BIDI, HOSTILE_CAMPAIGN); the same
report is opened in headless Chromium by tests/integration/test_report_browser.py.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.report import build_report
from pipeline.report.render import BIDI_CONTROLS
from tests.report_frames import (
    HOSTILE,
    HOSTILE_CAMPAIGN,
    MANIFEST,
    TITLE,
    hostile_audit,
    hostile_frame,
)
from tests.unit.test_report import ALLOWED_TAGS, Page, escaped

FORMULAS = ("=HYPERLINK(\"http://evil.example\",\"x\")", "+1+cmd|' /C calc'!A0", "-2+3",
            "@SUM(1+1)", "\t=1+1", "\r=1+1")  # fmt: skip


@pytest.fixture(scope="module")
def page(tmp_path_factory) -> str:
    frame = hostile_frame()
    out = tmp_path_factory.mktemp("hostile-report")
    paths = build_report(frame, out, manifest=MANIFEST, title=TITLE, audit=hostile_audit(frame))
    return paths.html.read_text(encoding="utf-8")


@pytest.mark.parametrize("payload", [*HOSTILE, HOSTILE_CAMPAIGN.split("\u202e")[0]])
def test_payloads_appear_only_escaped(page, payload):
    assert payload not in page or not re.search(r"[<>\"']", payload)
    assert escaped(payload) in page


def test_no_payload_adds_a_tag_an_attribute_or_a_link(page):
    parsed = Page(page)
    assert {tag for tag, _ in parsed.tags} <= ALLOWED_TAGS
    for tag, attrs in parsed.tags:
        assert not any(name.lower().startswith("on") for name in attrs), (tag, attrs)
        for name in ("href", "src", "srcdoc", "action", "formaction", "xlink:href"):
            assert (attrs.get(name) or "#").startswith("#"), (tag, attrs)


def test_bidi_overrides_are_shown_not_obeyed(page):
    assert not BIDI_CONTROLS.search(page)
    assert "invoice[U+202E]gpj.exe" in page
    assert "[U+2067]admin[U+2069] [U+202B]fake[U+202C] [U+202D]ltr[U+202A]" in page
    assert escaped("Launch <svg onload=alert(1)> ") + "[U+202E]evil" in page  # the campaign


def invoke(*args):
    result = CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def formula_export(path: Path) -> Path:
    rows = [{"comment_id": f"c{i}", "post_id": FORMULAS[i % 6], "post_owner": FORMULAS[(i + 1) % 6],
             "author": FORMULAS[(i + 2) % 6], "text": FORMULAS[i % 6] + (" x" * (i % 3)),
             "note": FORMULAS[(i + 3) % 6]} for i in range(60)]  # fmt: skip
    rows.append({"comment_id": "=bad", "text": "x", "label": "=not a label"})  # a reject
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def unguarded(path: Path) -> list[str]:
    """Cells a spreadsheet would run as a formula (numbers such as -0.05 are fine)."""
    with open(path, newline="", encoding="utf-8") as f:
        cells = [cell for row in csv.reader(f) for cell in row]
    return [
        c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r") or c[:1] == "-" and not _num(c)
    ]


def _num(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def test_every_csv_output_guards_formulas(tmp_path, tiny_model_dir):
    src = formula_export(tmp_path / "in.jsonl")
    common = ("--model", tiny_model_dir, "--no-progress")
    invoke("score", src, "-o", tmp_path / "scored.csv", "--rejects", tmp_path / "rej.csv", *common)
    invoke("score", src, "-o", tmp_path / "scored.parquet", *common)
    scored = pd.read_parquet(tmp_path / "scored.parquet").assign(pred_label="spam")
    scored.to_parquet(tmp_path / "all_flagged.parquet")  # so flagged.csv holds every payload
    invoke("report", tmp_path / "all_flagged.parquet", "-o", tmp_path / "r", *common[:2])
    outputs = [
        tmp_path / "scored.csv",
        tmp_path / "rej.csv",
        *sorted((tmp_path / "r").glob("*.csv")),
    ]
    assert {p.name for p in outputs} >= {"flagged.csv", "groups_post.csv", "groups_author.csv"}
    for path in outputs:
        assert unguarded(path) == [], path.name
    flagged = pd.read_csv(tmp_path / "r" / "flagged.csv", dtype=str, keep_default_na=False)
    assert set(flagged["author"]) == {"'" + f for f in FORMULAS}


ESCAPE = "../../etc/x"


def test_names_in_a_campaign_cannot_choose_where_files_go(tmp_path, tiny_model_dir):
    root = tmp_path / "root"
    root.mkdir()
    out = root / "a" / "b" / "audit"
    src = formula_export(root / "in.jsonl")
    campaign = root / "campaign.toml"
    creator = f'[[creators]]\nhandle = "{ESCAPE}"\nposts = ["{ESCAPE}", "/etc/y"]\n'
    campaign.write_text(f'[campaign]\nname = "{ESCAPE}"\nbrand = "{ESCAPE}"\n{creator}')
    invoke(
        "audit", src, "--campaign", campaign, "-o", out, "--model", tiny_model_dir, "--no-progress"
    )
    written = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    outside = written - {"in.jsonl", "campaign.toml", "a/b/.audit.lock"}
    assert all(name.startswith("a/b/audit/") for name in outside), outside
    assert not any(Path(name).name in ("x", "y") for name in written)
    assert not (tmp_path / "etc").exists()
