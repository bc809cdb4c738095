"""The out-of-fold error listing (training.errors), on hand-made fold results."""

from __future__ import annotations

from training.errors import error_counts, fold_errors

FOLDS = [
    {
        "fold": "a",
        "keys": ["buy now", "nice song", "sub to me", "hello"],
        "p": [0.9, 0.7, 0.2, 0.1],
        "y": [1, 0, 1, 0],
        "groups": ["youtube:A", "youtube:A", "youtube:A", "youtube:A"],
    },
    {
        "fold": "b",
        "keys": ["check my channel", "lol", "free money"],
        "p": [0.45, 0.99, 0.05],
        "y": [1, 0, 1],
        "groups": ["youtube:B", "youtube:B", "youtube:B"],
    },
]


def test_fold_errors_lists_each_mistake_most_confident_first() -> None:
    errors = fold_errors(FOLDS)
    assert list(errors["key"]) == [
        "lol",
        "nice song",
        "free money",
        "sub to me",
        "check my channel",
    ]
    assert list(errors["kind"]) == ["false positive"] * 2 + ["false negative"] * 3
    assert list(errors["group"]) == ["B", "A", "B", "A", "B"]
    assert errors["miss"].round(2).tolist() == [0.99, 0.7, 0.95, 0.8, 0.55]


def test_threshold_moves_comments_between_right_and_wrong() -> None:
    assert list(fold_errors(FOLDS, threshold=0.4)["key"]) == [
        "lol",
        "nice song",
        "free money",
        "sub to me",
    ]
    assert fold_errors(FOLDS, threshold=0.995)["kind"].tolist() == ["false negative"] * 4


def test_error_counts_per_group_include_groups_without_errors() -> None:
    folds = [*FOLDS, {"fold": "c", "keys": ["x"], "p": [0.1], "y": [0], "groups": ["youtube:C"]}]
    table = error_counts(folds)
    assert table.loc["A"].tolist() == [1, 1, 4]
    assert table.loc["B"].tolist() == [1, 2, 3]
    assert table.loc["C"].tolist() == [0, 0, 1]
