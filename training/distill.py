"""Knowledge distillation: a shallower student (model.layers) learns from a teacher's logits.

The teacher's softened logits say more per example than a 0/1 label: how spammy a comment
looks, and which genuine comments sit near the boundary (Hinton, Vinyals & Dean 2015,
"Distilling the Knowledge in a Neural Network", arXiv:1503.02531). Measured here it did not
help the 3-layer student (UCI leave-one-video-out F1 0.913 with an in-fold teacher, 0.919
on labels alone; docs/benchmarks.md), so configs/student.toml does not use it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from pipeline.model import Classifier

SOFT = "soft"  # the frame column with the teacher's spam logits (a pair per row)


def with_soft_targets(frame: pd.DataFrame, teacher: Classifier, spam: slice) -> pd.DataFrame:
    """`frame` plus the teacher's raw spam logits per text (the same cleaned text it reads)."""
    logits = teacher.logits_clean(list(frame["text"]))[:, spam].astype(np.float32)
    return frame.assign(**{SOFT: list(logits)})


def distill_loss(logits: torch.Tensor, soft: torch.Tensor, temperature: float) -> torch.Tensor:
    """Cross-entropy of the student against the teacher at `temperature`, scaled by T^2 so
    its gradients keep their size whatever the temperature (Hinton et al. 2015)."""
    target = torch.softmax(soft / temperature, dim=-1)
    log_p = torch.log_softmax(logits / temperature, dim=-1)
    return -(target * log_p).sum(dim=-1).mean() * temperature**2
