"""Distillation: the loss against hand-computed values, and the teacher's logits reaching it."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from training import distill
from training.config import ConfigError


@pytest.mark.parametrize(("temperature", "expected"), [(1.0, math.log(2)), (2.0, 4 * math.log(2))])
def test_loss_is_cross_entropy_at_temperature_scaled_by_its_square(temperature, expected):
    # The student is undecided (log p = ln 0.5 for both classes) whatever the target.
    student = torch.zeros(1, 2)
    teacher = torch.tensor([[0.0, math.log(3)]])
    loss = distill.distill_loss(student, teacher, temperature)
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_loss_is_smallest_when_student_matches_teacher():
    teacher = torch.tensor([[1.0, -1.0], [-2.0, 2.0]])
    same = distill.distill_loss(teacher.clone(), teacher, 2.0)
    other = distill.distill_loss(teacher.flip(-1), teacher, 2.0)
    assert same.item() < other.item()


def test_student_trains_on_the_teachers_logits(make_config, toy_frame, tiny_model_dir, monkeypatch):
    from pipeline.model import Classifier
    from training.fit import fit
    from training.heads import SPAM

    seen, real = [], distill.distill_loss
    monkeypatch.setattr(
        distill, "distill_loss", lambda lo, soft, t: seen.append(soft) or real(lo, soft, t)
    )
    teacher = [f"distill.teacher={tiny_model_dir}", "distill.weight=0.5", "model.layers=[1]"]
    train, val = (
        toy_frame[toy_frame["group"] != "post:0"],
        toy_frame[toy_frame["group"] == "post:0"],
    )
    fit(make_config(overrides=teacher), train, val)
    assert seen, "the distillation loss was never used"
    expected = Classifier.from_pretrained(tiny_model_dir).logits_clean(list(train["text"]))[:, SPAM]
    got = torch.cat(seen).numpy()
    # Every batch's soft targets are teacher logits of training texts (batches are shuffled).
    for row in got:
        assert np.isclose(expected, row, atol=1e-5).all(axis=1).any()


def test_a_teacher_needs_a_weight(make_config, tiny_model_dir):
    with pytest.raises(ConfigError, match="distill.weight is 0"):
        make_config(overrides=[f"distill.teacher={tiny_model_dir}"])
