"""Shared fixtures. Nothing in the test run may reach a model hub."""

import os
from pathlib import Path

import pytest
from hypothesis import settings

# The default run gates every landing, so its property tests draw the same examples each time
# (a random draw must not fail CI); HYPOTHESIS_PROFILE=explore draws new ones, which is how
# they find the next bug (add what they find as an @example).
settings.register_profile("ci", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

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
