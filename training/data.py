"""Labelled examples for training and evaluation, read and cleaned like scoring input.

Files go through `pipeline.io.read_chunks` (any format the readers accept) and
`pipeline.clean.clean_many` (the same code path as scoring). Texts are deduplicated by
`dedup_key` before any split, so one text never sits on both sides; splits are grouped
(post owner, else post, else file), so validation measures unseen posts, not memory.
Nothing is dropped silently: every skipped row is counted in the returned report.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.model_selection import GroupShuffleSplit, StratifiedShuffleSplit

from pipeline.artifact import sha256_file
from pipeline.io import RejectSink, read_chunks

log = logging.getLogger(__name__)
MIN_EXAMPLES = 10
LABEL_VALUES = {"genuine": 0, "spam": 1}
GROUP_ORDER = ("post_owner", "post_id", "source_file")


class TrainingDataError(ValueError):
    """Labelled data that cannot be trained on; the message says what to fix."""


def read_labelled(
    path: str | Path, mapping: dict[str, str] | None = None, rejects: RejectSink | None = None
) -> tuple:
    """(canonical rows of one file, number of rejected records); the rejected records go to
    `rejects` (file, line, field, reason) where one is given."""
    sink = rejects if rejects is not None else RejectSink()
    before, kept = sink.count, len(sink.rejects)
    frames = list(read_chunks(Path(path), mapping=mapping, rejects=sink))
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    rejected = sink.count - before
    if rejected:
        first = sink.rejects[kept] if len(sink.rejects) > kept else None
        example = f", e.g. line {first.line}: {first.reason}" if first else ""
        log.warning("%s: %d records rejected%s", path, rejected, example)
    return frame, rejected


def file_record(path: str | Path, rows: int) -> dict[str, Any]:
    """The manifest's record of one training file."""
    return {"path": str(path), "sha256": sha256_file(path), "rows": rows}


def load_examples(
    paths: list[str | Path] | tuple,
    mapping: dict[str, str] | None = None,
    group_by: str = "auto",
    rejects: RejectSink | None = None,
    one_label: bool = False,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Deduplicated, cleaned, labelled examples of all files, plus a report of counts; the
    records no reader could use go to `rejects` where one is given. `one_label`: examples of
    one label are enough (a fine-tune on a spam wave, whose replay brings the other).

    Columns: text (cleaned), raw_text, y (1 = spam), group, dedup_key, comment_id,
    post_id, post_owner, source_file."""
    if not paths:
        raise TrainingDataError("no labelled data files given")
    if any(str(p) == "-" for p in paths):
        raise TrainingDataError(
            "labelled data can not come from standard input: its sha256 goes into the model's"
            " manifest and the evaluation; save it to a file and give that"
        )
    if len({Path(p).resolve() for p in paths}) < len(paths):
        raise TrainingDataError(
            f"a data file is given twice ({', '.join(str(p) for p in paths)}): its rows would"
            " count twice; give each file once"
        )
    frames, report = [], {"files": [], "rows_read": 0, "rejected": 0}
    for path in paths:
        frame, rejected = read_labelled(path, mapping, rejects)
        report["files"].append(file_record(path, len(frame) + rejected))
        report["rows_read"] += len(frame)
        report["rejected"] += rejected
        frames.append(_require_label_column(frame, path, rejected))
    rows = pd.concat(frames, ignore_index=True)
    rows = _labelled_rows(rows, report)
    rows["group"] = group_column(rows, group_by)
    examples = _clean_and_dedup(rows, report)
    _check_usable(examples, paths, one_label)
    return examples, report


def _require_label_column(frame: pd.DataFrame, path: str | Path, rejected: int) -> pd.DataFrame:
    if frame.empty:  # no label column to speak of: say what happened to the rows instead
        why = "it holds no records"
        if rejected:
            why = f"all {rejected} records were rejected (the rejects file says why)"
        raise TrainingDataError(f"{path}: no labelled rows: {why}")
    if "label" not in frame or frame["label"].isna().all():
        raise TrainingDataError(
            f"{path}: field 'label': no labels found; training and evaluation need a label"
            " column with values spam/genuine (or 1/0); name yours with --map label=CLASS"
            " (evaluate), or data.mapping = {label = 'CLASS'} in the training config"
            " (on the command line: --data.mapping.label=CLASS)"
        )
    return frame


def _labelled_rows(rows: pd.DataFrame, report: dict[str, Any]) -> pd.DataFrame:
    labelled = rows[rows["label"].notna()].copy()
    report["rows_unlabelled"] = int(len(rows) - len(labelled))
    if report["rows_unlabelled"]:
        files = rows.loc[rows["label"].isna(), "source_file"].value_counts()
        where = ", ".join(f"{Path(f).name}: {n}" for f, n in files.items())
        log.warning("%d rows have no label and are left out (%s)", report["rows_unlabelled"], where)
    unknown = sorted(set(labelled["label"]) - set(LABEL_VALUES))
    if unknown:
        raise TrainingDataError(f"unknown label values {unknown}; use spam or genuine")
    labelled["y"] = labelled["label"].map(LABEL_VALUES).astype(int)
    conflicting_ids = labelled.dropna(subset=["comment_id"]).groupby("comment_id")["y"].nunique()
    report["conflicting_ids"] = int((conflicting_ids > 1).sum())
    if report["conflicting_ids"]:
        log.warning("%d comment ids carry conflicting labels", report["conflicting_ids"])
    return labelled.reset_index(drop=True)


def group_column(rows: pd.DataFrame, group_by: str = "auto") -> pd.Series:
    """Split groups: `group_by`, or per row the first of post_owner, post_id, source file."""
    if group_by != "auto":
        if rows.get(group_by) is None or rows[group_by].isna().any():
            raise TrainingDataError(f"data.group_by={group_by!r} but some rows lack {group_by}")
        # The prefix names the kind, as in auto: split_grouped splits each kind apart.
        return f"{group_by}:" + rows[group_by].astype(str)
    group = pd.Series(pd.NA, index=rows.index, dtype="string")
    for column in GROUP_ORDER:
        if column in rows:
            # Prefixed so a post id can never collide with an owner name; NA stays NA.
            group = group.fillna(f"{column}:" + rows[column].astype("string"))
    return group.astype(str)


def _clean_and_dedup(rows: pd.DataFrame, report: dict[str, Any]) -> pd.DataFrame:
    from pipeline.clean import clean_many

    cleaned = clean_many(rows["text"].fillna("").astype(str).tolist())
    rows["raw_text"] = rows["text"].fillna("").astype(str)
    rows["text"] = [c.text for c in cleaned]
    rows["dedup_key"] = [c.dedup_key for c in cleaned]
    votes = rows.groupby("dedup_key", sort=False)["y"].agg(["mean", "nunique", "size"])
    ties = votes.index[votes["mean"] == 0.5]
    report["duplicates_merged"] = int((votes["size"] - 1).sum())
    report["conflicting_texts"] = int((votes["nunique"] > 1).sum())
    report["dropped_ties"] = int(len(ties))
    if report["duplicates_merged"]:
        merged = report["duplicates_merged"]
        log.info("%d rows repeat the text of another row (after cleaning), merged into it", merged)
    if report["conflicting_texts"]:
        log.warning(
            "%d texts appear with both labels: majority vote kept, %d exact ties dropped",
            report["conflicting_texts"],
            len(ties),
        )
    first = rows.drop_duplicates("dedup_key").set_index("dedup_key")
    first = first.drop(index=ties)
    first["y"] = (votes.loc[first.index, "mean"] > 0.5).astype(int)
    columns = ["text", "raw_text", "y", "group", "comment_id", "post_id", "post_owner"]
    examples = first.reset_index()[["dedup_key", *columns, "source_file"]]
    report.update(n_examples=len(examples), n_spam=int(examples["y"].sum()))
    report["n_genuine"] = report["n_examples"] - report["n_spam"]
    return examples


def _check_usable(examples: pd.DataFrame, paths: Any, one_label: bool = False) -> None:
    where = ", ".join(str(p) for p in paths)
    if len(examples) < MIN_EXAMPLES:
        raise TrainingDataError(
            f"{where}: only {len(examples)} distinct labelled texts; need at least {MIN_EXAMPLES}"
        )
    if examples["y"].nunique() < 2:
        only = "spam" if examples["y"].iloc[0] else "genuine"
        if not one_label:
            raise TrainingDataError(
                f"{where}: every example is {only}; training and evaluation need both labels"
                " (a fine-tune with --from and replay may bring only one)"
            )
        log.warning("%s: every example is %s; the other label comes from the replayed data",
                    where, only)  # fmt: skip


def split_grouped(
    examples: pd.DataFrame, val_fraction: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train/validation split with no group on both sides and both labels on each side.

    Groups of different kinds (post owners of one source, videos of another) are split
    separately, so validation holds every source in proportion instead of by chance."""
    kinds = examples["group"].str.split(":", n=1).str[0]
    if examples["group"].nunique() < 2:
        return _split_ungrouped(examples, val_fraction, seed)
    for attempt in range(20):  # a few groups can leave one side single-class
        val_idx = [
            idx
            for _, part in examples.groupby(kinds, sort=True)
            for idx in _val_index(part, val_fraction, seed + attempt)
        ]
        val = examples.loc[val_idx]
        train = examples.drop(index=val_idx)
        labels = examples["y"].nunique()  # 1 for a fine-tune's one-label samples
        if train["y"].nunique() == labels == val["y"].nunique():
            return train.reset_index(drop=True), val.reset_index(drop=True)
    raise TrainingDataError("could not find a grouped split with both labels on each side")


def _split_ungrouped(
    examples: pd.DataFrame, val_fraction: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A stratified random split, for a file with no post, owner or video column (a plain
    text,label CSV): refusing would leave such users no way to train at all."""
    counts = examples["y"].value_counts()
    if counts.min() < 2:
        raise TrainingDataError("need at least 2 examples of each label to split off validation")
    n_val = math.ceil(val_fraction * len(examples))  # as StratifiedShuffleSplit rounds it
    if n_val < 2 or len(examples) - n_val < 2:
        raise TrainingDataError(
            f"data.val_fraction {val_fraction:g} of {len(examples)} examples leaves {n_val} for"
            " validation; both sides need one of each label: raise it or add examples"
        )
    log.warning(
        "all %d examples are in one group (no post/owner column): validation is a random"
        " split, not a grouped one, so its scores may be optimistic",
        len(examples),
    )
    splitter = StratifiedShuffleSplit(1, test_size=val_fraction, random_state=seed)
    train, val = next(splitter.split(examples, examples["y"]))
    return (examples.iloc[train].reset_index(drop=True),
            examples.iloc[val].reset_index(drop=True))  # fmt: skip


def _val_index(part: pd.DataFrame, val_fraction: float, seed: int) -> list:
    if part["group"].nunique() < 2:
        return []  # one group of this kind cannot be split: it trains
    splitter = GroupShuffleSplit(1, test_size=val_fraction, random_state=seed)
    _, val = next(splitter.split(part, groups=part["group"]))
    return list(part.index[val])


def split_three(
    examples: pd.DataFrame, fraction: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(train, validation, gate) for a fine-tune: grouped like `split_grouped`, the gate rows
    first, then validation from the rest. The child early-stops and calibrates on validation,
    so judging it there would favour it; the promotion gate gets rows it never used. A side
    too few groups can fill stays empty (the parent's held-out rows still fill both)."""
    rest, gate = _try_split(examples, fraction, seed, "gate")
    train, val = _try_split(rest, fraction, seed, "validation")
    return train, val, gate


def _try_split(
    examples: pd.DataFrame, fraction: float, seed: int, side: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    try:
        return split_grouped(examples, fraction, seed)
    except TrainingDataError as e:
        log.warning("the new samples give no %s rows (%s): they all train", side, e)
        return examples.reset_index(drop=True), examples.iloc[:0]


def halve(frame: pd.DataFrame, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Two stratified random halves of held-out rows that no model trains on (grouping is not
    needed there); with under 2 rows of a label everything goes to the second half."""
    counts = frame["y"].value_counts()
    if len(counts) < 2 or counts.min() < 2:
        return frame.iloc[:0], frame.reset_index(drop=True)
    splitter = StratifiedShuffleSplit(1, test_size=0.5, random_state=seed)
    first, second = next(splitter.split(frame, frame["y"]))
    return (frame.iloc[first].reset_index(drop=True),
            frame.iloc[second].reset_index(drop=True))  # fmt: skip


def unsplit_groups(examples: pd.DataFrame) -> frozenset[str]:
    """The group a random split cut through (a file with no post, owner or video column is one
    group): it is on both sides, so leaving out held-out *groups* would leave out everything."""
    groups = examples["group"]
    return frozenset(groups) if groups.nunique() < 2 else frozenset()


def exclude_keys(frame: pd.DataFrame, other: pd.DataFrame) -> pd.DataFrame:
    """`frame` without texts that also occur in `other` (keeps held-out data unseen)."""
    return frame[~frame["dedup_key"].isin(set(other["dedup_key"]))].reset_index(drop=True)
