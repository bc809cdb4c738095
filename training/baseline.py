"""TF-IDF + logistic regression baseline with the transformer's interface and calibration.

Same cleaned text, same validation-fitted temperature and precision-target threshold, so
the protocol tables compare models rather than post-processing.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, make_pipeline

from pipeline.model import calibrated, clean_texts
from training.calibrate import choose_threshold, fit_temperature


class Baseline:
    """Word and character n-gram TF-IDF into a class-balanced logistic regression."""

    labels = ["genuine", "spam"]

    def __init__(self, C: float = 4.0, seed: int = 13) -> None:
        features = FeatureUnion(
            [
                ("word", TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)),
                (
                    "char",
                    TfidfVectorizer(
                        analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True
                    ),
                ),
            ]
        )
        classifier = LogisticRegression(
            C=C, class_weight="balanced", max_iter=2000, random_state=seed
        )
        self.pipeline = make_pipeline(features, classifier)
        self.threshold, self.temperature = 0.5, 1.0

    def fit(
        self, train: pd.DataFrame, val: pd.DataFrame, target_precision: float = 0.95
    ) -> Baseline:
        """Fit on cleaned `train` text; calibrate on `val` (frames from training.data)."""
        self.pipeline.fit(list(train["text"]), train["y"].to_numpy())
        logits = self._logits(list(val["text"]))
        y = val["y"].to_numpy()
        self.temperature = fit_temperature(logits, y)
        p = calibrated(logits, self.temperature)
        self.threshold = choose_threshold(p, y, target_precision)["threshold"]
        return self

    def _logits(self, model_texts: list[str]) -> np.ndarray:
        # Two-column logits so the transformer's calibration code applies unchanged.
        margin = self.pipeline.decision_function(model_texts)
        return np.column_stack([np.zeros_like(margin), margin])

    def score_clean(self, model_texts: Sequence[str], batch_size: int = 0) -> dict:
        return {"p_spam": calibrated(self._logits(list(model_texts)), self.temperature)}

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        p_spam = self.score_clean(clean_texts(texts))["p_spam"]
        return np.column_stack([1.0 - p_spam, p_spam])

    def predict(self, texts: Sequence[str]) -> np.ndarray:
        p_spam = self.predict_proba(texts)[:, 1]
        return np.where(p_spam >= self.threshold, "spam", "genuine").astype(object)
