"""Project config ``redline.yaml``: targets, suites, prices, release spec and owner."""

from redline.config._load import (
    DEFAULT_CONFIG_PATH,
    describe_validation_error,
    load_config,
    parse_config,
)
from redline.config._model import (
    COMPARE_METRICS,
    Bound,
    ClassifierEntry,
    CompareSettings,
    IncidentLimits,
    MaxRate,
    MaxValue,
    MinRate,
    Price,
    ProjectConfig,
    ScopeSpec,
    Spec,
    StrategyEntry,
    TargetSettings,
)
from redline.config._starter import STARTER_CONFIG

__all__ = [
    "COMPARE_METRICS",
    "DEFAULT_CONFIG_PATH",
    "STARTER_CONFIG",
    "Bound",
    "ClassifierEntry",
    "CompareSettings",
    "IncidentLimits",
    "MaxRate",
    "MaxValue",
    "MinRate",
    "Price",
    "ProjectConfig",
    "ScopeSpec",
    "Spec",
    "StrategyEntry",
    "TargetSettings",
    "describe_validation_error",
    "load_config",
    "parse_config",
]
