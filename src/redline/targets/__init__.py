"""Systems under test behind one async interface, chosen by a spec string."""

from redline.targets import _local, _openai, _python  # noqa: F401 - register targets
from redline.targets._base import (
    ENTRY_POINT_GROUP,
    GenerationParams,
    Message,
    Target,
    TargetResponse,
    create_target,
    register_target,
    target_schemes,
)
from redline.targets._local import (
    DEFAULT_MODEL_SHA256,
    GGUFTarget,
    LocalTarget,
    cache_dir,
    default_model_path,
)
from redline.targets._openai import OpenAITarget, parse_retry_after
from redline.targets._python import PythonTarget

__all__ = [
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
]
