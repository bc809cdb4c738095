"""Shared fixtures. Nothing in the test run may reach a model hub."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

REPO = Path(__file__).resolve().parents[1]
SHARED_DATASETS = Path(
    os.environ.get("COMMENT_AUDIT_DATASETS", REPO.parent / "shared" / "datasets")
)
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def datasets_dir() -> Path:
    """../shared/datasets, or a skip that says why."""
    if not (SHARED_DATASETS / "youtube-spam-collection").is_dir():
        pytest.skip(
            f"labelled datasets not found at {SHARED_DATASETS} (set COMMENT_AUDIT_DATASETS)"
        )
    return SHARED_DATASETS


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES
