import csv
import json
import os
import re
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from pipeline import aggregate, shares
from pipeline.report import ReportOptions, build_report, plots
from pipeline.report import render as render_mod
from pipeline.report.summary import error_rates, group_table
from tests.report_frames import (
    CAMPAIGN_NAME,
    FORMULA,
    HANDLE,
    IMG,
    MANIFEST,
    POST_PAYLOAD,
    SCRIPT,
    TITLE,
    audit_for,
    scored_frame,
)

TEMPLATES = Path(render_mod.__file__).parent / "templates"
CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'"
)
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "main", "nav", "section", "footer",
    "article", "details", "summary", "div", "span", "p", "b", "strong", "h1", "h2", "h3", "h4",
    "a", "table", "thead", "tbody", "tr", "th", "td", "ol", "ul", "li", "blockquote", "figure",
    "figcaption", "svg", "g", "text", "tspan", "rect", "line", "path",
}  # fmt: skip


class Page(HTMLParser):
    """Every tag and attribute of a page, and the text of its <style> elements."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.styles: list[str] = []
        self._in_style = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    frame = scored_frame()
    out = tmp_path_factory.mktemp("report") / "new" / "dir"
    paths = build_report(frame, out, manifest=MANIFEST, title=TITLE, audit=audit_for(frame),
                         generated_at="2026-03-09T10:00:00+00:00")  # fmt: skip
    return frame, paths, paths.html.read_text(encoding="utf-8")


def test_writes_every_file_and_no_temp_files(report):
    _, paths, _ = report
    names = sorted(p.name for p in paths.out_dir.iterdir())
    assert names == ["flagged.csv", "groups_author.csv", "groups_owner.csv", "groups_post.csv",
                     "report.html", "summary.json"]  # fmt: skip
    assert set(paths.groups) == {"post", "owner", "author"}


def test_summary_json_holds_the_numbers_on_the_page(report):
    frame, paths, page = report
    data = json.loads(paths.summary.read_text(), parse_constant=_no_nan)
    overall = data["overall"]
    flagged = int((frame["pred_label"] == "spam").sum())
    assert (overall["n"], overall["n_flagged"]) == (len(frame), flagged)
    assert overall["flagged_share"] == pytest.approx(flagged / len(frame))
    lo, hi = shares.wilson_interval(flagged, len(frame))
    assert (overall["wilson_lo"], overall["wilson_hi"]) == pytest.approx((lo, hi))
    rates = error_rates(MANIFEST)
    corrected = shares.corrected_prevalence(
        flagged, len(frame), rates.sensitivity, rates.specificity, rates.n_pos, rates.n_neg
    )
    assert overall["corrected_share"] == pytest.approx(corrected.estimate)
    for shown in (f"{len(frame):,}", render_mod.pct(overall["flagged_share"]),
                  render_mod.pct(overall["corrected_share"]), "90.0%", "97.0%"):  # fmt: skip
        assert shown in page
    assert data["model"]["error_rates"]["n_pos"] == 400
    assert data["audit"]["campaign"] == CAMPAIGN_NAME


def test_group_tables_match_aggregate_and_hide_small_groups(report):
    frame, paths, page = report
    data = json.loads(paths.summary.read_text())
    rows = {r["group"]: r for r in data["groups"]["post"]["rows"]}
    expected = aggregate.group_stats(frame, by="post", rates=error_rates(MANIFEST))
    for row in expected[expected["status"] == "ok"].itertuples():
        assert rows[row.post_id]["flagged_share"] == pytest.approx(row.flagged_share)
        assert rows[row.post_id]["corrected_share"] == pytest.approx(row.corrected_share)
    assert rows["tiny"]["status"] == "not enough comments"
    assert rows["tiny"]["flagged_share"] is None and rows["tiny"]["n"] == 5
    assert rows["C1aaa"]["owner"] == "alice"
    shares = [r["flagged_share"] for r in data["groups"]["post"]["rows"] if r["status"] == "ok"]
    assert shares == sorted(shares, reverse=True)
    assert "not enough comments (fewer than 20)" in page
    assert pd.read_csv(paths.groups["post"])["group"].tolist().count("tiny") == 1


@pytest.mark.parametrize("payload", [SCRIPT, IMG, HANDLE, POST_PAYLOAD, CAMPAIGN_NAME, TITLE])
def test_untrusted_text_appears_only_escaped(report, payload):
    _, _, page = report
    assert payload not in page
    assert escaped(payload) in page


def test_page_has_no_script_no_handlers_and_no_unexpected_tags(report):
    _, _, page = report
    parsed = Page(page)
    tags = {tag for tag, _ in parsed.tags}
    assert tags <= ALLOWED_TAGS, tags - ALLOWED_TAGS
    handlers = [(t, a) for t, attrs in parsed.tags for a in attrs if a.lower().startswith("on")]
    assert handlers == []
    assert "xss-marker" not in tags and "script" not in tags and "img" not in tags


def test_page_references_nothing_outside_itself(report):
    _, _, page = report
    parsed = Page(page)
    metas = [a for t, a in parsed.tags if t == "meta" and a.get("http-equiv")]
    assert metas == [{"http-equiv": "Content-Security-Policy", "content": CSP}]
    for tag, attrs in parsed.tags:
        for name, value in attrs.items():
            if name in ("href", "src", "xlink:href", "action", "srcset", "poster", "data"):
                assert (value or "").startswith("#"), (tag, name, value)
            assert not re.search(r"(?i)(https?:|//|url\()", value or ""), (tag, name, value)
    style = "".join(parsed.styles)
    assert not re.search(r"(?i)(https?:|url\(|@import|@font-face)", style)


def test_no_template_marks_anything_safe():
    for path in TEMPLATES.glob("*.j2"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"\|\s*safe|autoescape\s+false|Markup", text), path.name
    for path in TEMPLATES.parent.glob("*.py"):
        assert "Markup" not in path.read_text(encoding="utf-8"), path.name
    assert render_mod.environment().autoescape is True


def test_csv_cells_that_look_like_formulas_are_guarded(tmp_path):
    frame = scored_frame()
    spam = frame.index[frame["pred_label"] == "spam"]
    frame.loc[spam[0], "author"] = "@SUM(1+1)"
    frame.loc[spam[1], "author"] = "-2+3"
    frame.loc[spam[2], "author"] = "\tcmd"
    paths = build_report(frame, tmp_path, manifest=MANIFEST)
    with open(paths.flagged, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    texts, authors = {r["text"] for r in rows}, {r["author"] for r in rows}
    assert "'" + FORMULA in texts and FORMULA not in texts
    assert {"'@SUM(1+1)", "'-2+3", "'\tcmd"} <= authors
    with open(paths.groups["author"], newline="", encoding="utf-8") as f:
        groups = {r["group"] for r in csv.DictReader(f)}
    assert "'@SUM(1+1)" in groups and "@SUM(1+1)" not in groups
    assert all(float(r["p_spam"]) >= 0.5 for r in rows)  # numbers stay numbers


def test_flagged_csv_lists_every_flagged_comment_with_reasons(report):
    frame, paths, _ = report
    flagged = pd.read_csv(paths.flagged, dtype=str, keep_default_na=False)
    assert len(flagged) == int((frame["pred_label"] == "spam").sum())
    assert flagged["reasons"].str.startswith("p_spam").all()
    assert flagged["p_spam"].astype(float).is_monotonic_decreasing


def test_audit_section_shows_verdicts_warnings_and_evidence(report):
    frame, paths, page = report
    audit = json.loads(paths.summary.read_text())["audit"]
    alice = next(c for c in audit["creators"] if c["handle"] == "alice")
    # The report carries the audit's own verdict for her, not one of its own making.
    expected = next(c for c in audit_for(frame).creators if c.handle == "alice")
    assert (alice["verdict"], alice["level"]) == (expected.verdict, expected.level)
    assert alice["share"] == pytest.approx(expected.share)
    assert alice["verdict"] in {b["name"] for b in audit["bands"]}
    assert alice["evidence"]["examples"] and alice["evidence"]["has_times"]
    assert any("gone<i>" in w for w in audit["warnings"])
    assert "gone&lt;i&gt;" in page and "Campaign posts against this creator" in page
    assert page.count('class="verdict tone-') == 3
    assert "When the comments arrived (UTC)" in page


def test_optional_columns_may_be_absent(tmp_path):
    frame = scored_frame(times=False, authors=False)
    frame = frame.drop(columns=["copy_paste", "cluster_id", "in_burst", "reasons", "p_spam"])
    paths = build_report(frame, tmp_path, manifest=None)
    data = json.loads(paths.summary.read_text())
    assert set(paths.groups) == {"post", "owner"}
    assert "author" in data["skipped_groupings"]
    assert data["overall"]["corrected_share"] is None and data["model"]["error_rates"] is None
    assert data["worst_authors"] == [] and data["top_clusters"] == []
    page = paths.html.read_text()
    assert 'id="timeline"' not in page and "does not record its sensitivity" in page


def test_minimal_and_empty_frames_render(tmp_path):
    minimal = pd.DataFrame({"post_id": ["p", "p", "q"], "text": ["a", "b", "buy now"],
                            "pred_label": ["genuine", "genuine", "spam"]})  # fmt: skip
    paths = build_report(minimal, tmp_path / "m", title="m")
    overall = json.loads(paths.summary.read_text())["overall"]
    assert (overall["n"], overall["n_flagged"]) == (3, 1)
    assert "buy now" in paths.html.read_text()
    empty = build_report(scored_frame().iloc[:0], tmp_path / "e", manifest=MANIFEST)
    assert json.loads(empty.summary.read_text())["overall"]["n"] == 0
    assert "No comment was flagged." in empty.html.read_text()


@pytest.mark.parametrize("blank", [None, "", " "])
def test_redacted_texts_fall_back_to_the_cleaned_text(tmp_path, blank):
    frame = scored_frame()
    expected = json.loads(build_report(frame, tmp_path / "a", manifest=MANIFEST).summary
                          .read_text())["top_clusters"]  # fmt: skip
    redacted = frame.assign(text=pd.Series(blank, index=frame.index, dtype="string"))
    paths = build_report(redacted, tmp_path / "b", manifest=MANIFEST)  # crashed on all-null text
    clusters = json.loads(paths.summary.read_text())["top_clusters"]
    assert clusters and [c["cluster_id"] for c in clusters] == [c["cluster_id"] for c in expected]
    assert all(c["example"].strip() for c in clusters)


def test_one_creator_spelled_two_ways_is_one_owner_row(tmp_path):
    frame = scored_frame()
    expected = group_table(frame, "owner", None, 20)
    owner = frame["post_owner"].iloc[0]
    some = (frame["post_owner"] == owner) & (frame.index % 3 == 0)
    frame.loc[some, "post_owner"] = "@" + owner.upper()
    paths = build_report(frame, tmp_path, manifest=MANIFEST)
    table = pd.read_csv(paths.groups["owner"], dtype={"group": str})
    assert sorted(table["group"]) == sorted(expected["group"])
    assert table.set_index("group").loc[owner, "n"] == expected.set_index("group").loc[owner, "n"]


def test_tables_are_capped_but_the_csv_is_complete(tmp_path):
    paths = build_report(scored_frame(), tmp_path, options=ReportOptions(max_rows=2, min_n=1))
    data = json.loads(paths.summary.read_text())
    assert len(data["groups"]["post"]["rows"]) == 2 and data["groups"]["post"]["n_groups"] == 6
    assert len(pd.read_csv(paths.groups["post"])) == 6
    assert "Showing 2 of 6 posts" in paths.html.read_text()


def test_a_failed_write_leaves_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "report.html"
    target.write_text("old")

    def boom(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError, match="disk full"):
        render_mod.write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_share_bars_geometry():
    rows = [
        {"group": "a", "flagged_share": 0.4, "wilson_lo": 0.3, "wilson_hi": 0.5,
         "corrected_share": 0.42, "status": "ok"},
        {"group": "b" * 40, "flagged_share": None, "wilson_lo": None, "wilson_hi": None,
         "corrected_share": None, "status": "not enough comments"},
    ]  # fmt: skip
    chart = plots.share_bars(rows, "group")
    a, b = chart.bars
    assert chart.ticks[-1].text == "60%"  # 0.5 * 1.05 rounds up to the 60% scale
    assert a.width == pytest.approx(chart.plot_w * 0.4 / 0.6)
    assert chart.x0 < a.lo_x < a.corrected_x < a.hi_x <= chart.x0 + chart.plot_w
    assert (b.width, b.note, len(b.label), b.title) == (0, "not enough comments", 28, "b" * 40)


def test_a_corrected_share_beyond_the_flagged_interval_stays_on_the_chart():
    # 20 of 100 at p_spam 0.7: none flagged at the decision threshold, 0.5 counts them all.
    rows = [{"group": "a", "flagged_share": 0.0, "wilson_lo": 0.0, "wilson_hi": 0.037,
             "corrected_share": 0.158, "status": "ok"}]  # fmt: skip
    chart = plots.share_bars(rows, "group")
    assert chart.bars[0].corrected_x <= chart.x0 + chart.plot_w


def test_histograms_count_every_comment():
    p = pd.Series([0.0, 0.1, 0.55, 0.97, 1.0, None])
    flagged = p >= 0.5
    hist = plots.p_spam_histogram(p, flagged, 0.5)
    assert sum(b.n_all for b in hist.bins) == 5 and sum(b.n_flagged for b in hist.bins) == 3
    assert hist.marker_x == pytest.approx(hist.x0 + (hist.width - hist.x0 - 16) * 0.5)
    times = pd.Series(["2026-01-01T00:00:00Z", "2026-01-01T00:10:00+00:00", "junk", None])
    hist = plots.time_histogram(times, pd.Series([True, False, True, False]))
    assert sum(b.n_all for b in hist.bins) == 2 and sum(b.n_flagged for b in hist.bins) == 1
    assert plots.time_histogram(pd.Series(["junk", None]), pd.Series([False, False])) is None


def test_number_formats():
    assert render_mod.pct(0.1234) == "12.3%" and render_mod.pct(None) == "\u2013"
    assert render_mod.pct(float("nan")) == "\u2013"
    assert render_mod.interval(0.01, 0.2) == "1.0\u201320.0%"
    assert render_mod.pp(-0.031) == "\u22123.1 pp" and render_mod.pp(0.2) == "+20.0 pp"
    assert render_mod.when("2026-03-01T12:00:59.9+01:00") == "2026-03-01 11:00 UTC"
    assert render_mod.when("yesterday") == "yesterday"


def escaped(text: str) -> str:
    """HTML-escaped as jinja2 (markupsafe) writes it: & < > " ' all become entities."""
    table = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&#34;", "'": "&#39;"}
    return "".join(table.get(c, c) for c in text)


def _no_nan(name: str):
    raise AssertionError(f"summary.json holds {name}")


def test_between_creator_spread_widens_the_interval_and_is_explained(tmp_path, report):
    frame, paths, page = report
    rates = {**MANIFEST["error_rates"]}
    spread = {"sensitivity_sd": 0.06, "specificity_sd": 0.05}
    manifest = {**MANIFEST, "prevalence": {"threshold": 0.5, "error_rates": rates,
                                           "between_groups": spread}}  # fmt: skip
    wide = build_report(frame, tmp_path, manifest=manifest)
    narrow = json.loads(paths.summary.read_text())["overall"]
    overall = json.loads(wide.summary.read_text())["overall"]
    assert overall["corrected_share"] == pytest.approx(narrow["corrected_share"])
    assert overall["corrected_hi"] - overall["corrected_lo"] > (
        narrow["corrected_hi"] - narrow["corrected_lo"]
    )
    text = wide.html.read_text()
    assert "6.0% in sensitivity, 5.0% in specificity" in text
    assert "in sensitivity" not in page  # no spread recorded, nothing claimed


def test_numeric_post_ids_keep_the_audit_evidence(tmp_path):
    # A frame from pd.read_csv has int post ids; the audit and its evidence match them as text.
    from pipeline.audit import AuditConfig, run_audit
    from pipeline.campaign import Campaign, CampaignConfig, Creator

    frame = scored_frame()
    codes = {p: str(1000 + i) for i, p in enumerate(sorted(frame["post_id"].unique()))}
    frame = frame.assign(post_id=frame["post_id"].map(codes).astype("int64"))
    plan = CampaignConfig(Campaign("c"), (Creator("alice", (codes["C1aaa"], codes["C2bbb"])),))
    audit = run_audit(frame, plan, AuditConfig(), error_rates(MANIFEST))
    paths = build_report(frame, tmp_path, manifest=MANIFEST, audit=audit)
    alice = json.loads(paths.summary.read_text())["audit"]["creators"][0]
    assert alice["campaign"]["n"] > 0
    assert alice["evidence"]["n_comments"] == alice["campaign"]["n"]
    assert alice["evidence"]["examples"]


def test_a_frame_without_post_ids_renders(tmp_path):
    frame = scored_frame().drop(columns=["post_id"])
    paths = build_report(frame, tmp_path, manifest=MANIFEST, by=("owner", "author"))
    data = json.loads(paths.summary.read_text())
    assert data["top_clusters"] and data["top_clusters"][0]["posts"] == 0


def test_share_bars_show_the_fake_share_the_tables_sort_by():
    rows = [{"group": "a", "flagged_share": 0.1, "wilson_lo": 0.05, "wilson_hi": 0.15,
             "corrected_share": 0.08, "fake_share": 0.35, "fake_lo": 0.3, "fake_hi": 0.4,
             "fake_corrected": 0.33, "status": "ok"}]  # fmt: skip
    chart = plots.share_bars(rows, "group")
    assert chart.fake and (chart.bars[0].value, chart.bars[0].corrected) == (0.35, 0.33)
    spam_only = [{k: v for k, v in rows[0].items() if not k.startswith("fake")}]
    chart = plots.share_bars(spam_only, "group")
    assert not chart.fake and (chart.bars[0].value, chart.bars[0].corrected) == (0.1, 0.08)


def test_a_rerun_with_fewer_groupings_removes_the_old_tables(tmp_path):
    build_report(scored_frame(), tmp_path, manifest=MANIFEST)
    assert (tmp_path / "groups_author.csv").is_file()
    paths = build_report(scored_frame(), tmp_path, manifest=MANIFEST, by=("owner",))
    assert sorted(p.name for p in tmp_path.glob("groups_*.csv")) == ["groups_owner.csv"]
    assert set(paths.groups) == {"owner"}


@pytest.mark.parametrize(
    "lo, span",
    [(1_700_000_059, 48 * 60 - 1), (1_700_003_000, 47 * 3600), (1_700_000_000, 86400 * 2000),
     (1_700_000_123, 0)],
)  # fmt: skip
def test_the_timeline_has_at_most_48_bins_covering_every_comment(lo, span):
    stamps = pd.Series(pd.to_datetime([lo, lo + span / 2, lo + span], unit="s", utc=True))
    h = plots.time_histogram(stamps.dt.strftime("%Y-%m-%dT%H:%M:%SZ"), None)
    assert 1 <= len(h.bins) <= 48 and sum(b.n_all for b in h.bins) == 3


def test_how_to_read_names_the_bar_the_error_rates_were_measured_at(tmp_path, report):
    frame, _, page = report
    rates = {**MANIFEST["error_rates"]}
    manifest = {
        **MANIFEST,
        "threshold": 0.87,
        "prevalence": {"threshold": 0.5, "error_rates": rates},
    }
    text = build_report(frame, tmp_path, manifest=manifest).html.read_text()
    # The rates are those at p_spam >= 0.5, not at the flag's 0.87: the page said they were
    # the flag's ("caught ... of the spam"), which read as the flag missing 6% of spam.
    assert "at p_spam &ge; 0.50 (a lower bar than the flag's 0.87" in text
    assert "at or above it" in text and "caught" not in text
    assert f"at p_spam &ge; {MANIFEST['threshold']:.2f} and corrects" in page  # old manifests
