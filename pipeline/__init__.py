"""comment-audit: find bot and spam comments in social-media comment exports."""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"
__all__ = ["Classifier", "__version__"]

if TYPE_CHECKING:
    from pipeline.model import Classifier


def __getattr__(name: str):
    # torch is imported only when the model is asked for, so `clean` and `report` stay light.
    if name == "Classifier":
        from pipeline.model import Classifier

        return Classifier
    raise AttributeError(name)
