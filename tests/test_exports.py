"""Public names of each subpackage, pinned so removals are deliberate."""

from __future__ import annotations

import importlib

import pytest

PUBLIC = {
    "redline": {
        "GenerationParams",
        "RedlineError",
        "RunConfig",
        "RunResult",
        "__version__",
        "aresume",
        "arun",
        "resume",
        "run",
    },
    "redline.suites": {
        "HAZARDS",
        "HAZARDS_BY_CODE",
        "HAZARDS_BY_SLUG",
        "Case",
        "Expected",
        "Hazard",
        "Severity",
        "Suite",
        "SuiteInfo",
        "builtin_suite_names",
        "load_suite",
    },
    "redline.targets": {
        "DEFAULT_MODEL_SHA256",
        "ENTRY_POINT_GROUP",
        "GGUFTarget",
        "GenerationParams",
        "LocalTarget",
        "Message",
        "OpenAITarget",
        "PythonTarget",
        "Target",
        "TargetResponse",
        "cache_dir",
        "create_target",
        "default_model_path",
        "parse_retry_after",
        "register_target",
        "target_schemes",
    },
    "redline.store": {
        "DEFAULT_DB_PATH",
        "AttemptRecord",
        "CalibrationRecord",
        "RunRecord",
        "Store",
        "attempt_to_dict",
    },
    "redline.metrics": {
        "Z_95",
        "GroupMetrics",
        "Judgement",
        "Outcome",
        "Rate",
        "RunSummary",
        "judge_attempt",
        "percentile",
        "summarize_run",
        "wilson",
    },
    "redline.guards": {
        "ACTIONS",
        "BLOCKED_FINISH_REASON",
        "DEFAULT_SAFE_REPLY",
        "Guard",
        "GuardConfig",
        "GuardFilter",
        "GuardSweep",
        "SweepPoint",
        "load_guard_config",
        "parse_guard_config",
        "redact_pii",
        "steps_thresholds",
        "sweep_guard",
    },
    "redline.attacks": {
        "DECODER_KINDS",
        "ENTRY_POINT_GROUP",
        "FAMILIES",
        "AttackAttempt",
        "DecodedResponse",
        "HelperModel",
        "Strategy",
        "StrategyChain",
        "StrategyParams",
        "StrategySpec",
        "Template",
        "TemplateError",
        "TranslationStrategy",
        "Variant",
        "adecode_response",
        "create_strategy",
        "decode_response",
        "load_templates",
        "register_strategy",
        "strategy_class",
        "strategy_names",
    },
    "redline.calibration": {
        "CALIBRATION_FORMAT_VERSION",
        "DEFAULT_NEGATIVE",
        "DEFAULT_POSITIVE",
        "CalibrationError",
        "CalibrationMetrics",
        "CalibrationResult",
        "CalibrationSummary",
        "ConfusionMatrix",
        "Estimate",
        "LabelColumns",
        "LabelledText",
        "Prediction",
        "SweepPoint",
        "ThresholdChoice",
        "acalibrate",
        "average_precision",
        "calibrate",
        "cohen_kappa",
        "compute_metrics",
        "confusion_matrix",
        "f1_score",
        "read_labels",
        "roc_auc",
        "threshold_for_fnr",
        "threshold_sweep",
    },
    "redline.report": {
        "prepare_report_dir",
        "print_summary",
        "render_html_report",
        "summary_renderable",
        "write_html_report",
        "write_json_report",
        "write_reports",
    },
}


@pytest.mark.parametrize("module_name", sorted(PUBLIC))
def test_public_names(module_name):
    module = importlib.import_module(module_name)
    assert set(module.__all__) == PUBLIC[module_name]


@pytest.mark.parametrize("module_name", sorted(PUBLIC))
def test_all_names_resolve(module_name):
    module = importlib.import_module(module_name)
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == []
