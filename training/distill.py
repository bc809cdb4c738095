"""Knowledge distillation: a shallower student (model.layers) learns from a teacher's logits.

With a few thousand labels, a 3-layer student trained on the labels alone lost 1.3-1.6 F1
points against the 6-layer model on leave-one-video-out (docs/evaluation.md). The teacher's
softened logits say more per example than a 0/1 label: how spammy a comment looks, and
which genuine comments sit near the boundary (Hinton, Vinyals & Dean 2015, "Distilling the
Knowledge in a Neural Network", arXiv:1503.02531).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from pipeline.model import Classifier

SOFT = "soft"  # the frame column with the teacher's spam logits (a pair per row)


def with_soft_targets(frame: pd.DataFrame, teacher: Classifier, spam: slice) -> pd.DataFrame:
    """`frame` plus the teacher's raw spam logits per text (the same cleaned text it reads)."""
    logits = teacher.logits_clean(list(frame["text"]))[:, spam].astype(np.float32)
    return frame.assign(**{SOFT: list(logits)})


def load_teacher(path: str | Path) -> Classifier:
    """The teacher model directory, verified like any model; fp32 for exact targets."""
    return Classifier.from_pretrained(path)


def distill_loss(logits: torch.Tensor, soft: torch.Tensor, temperature: float) -> torch.Tensor:
    """Cross-entropy of the student against the teacher at `temperature`, scaled by T^2 so
    its gradients keep their size whatever the temperature (Hinton et al. 2015)."""
    target = torch.softmax(soft / temperature, dim=-1)
    log_p = torch.log_softmax(logits / temperature, dim=-1)
    return -(target * log_p).sum(dim=-1).mean() * temperature**2
