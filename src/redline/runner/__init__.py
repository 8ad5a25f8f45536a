"""The async runner: streams cases through a target and classifiers into the store."""

from redline.runner._api import (
    DEFAULT_CLASSIFIERS,
    aresume,
    arun,
    new_run_id,
    resume,
    run,
)
from redline.runner._config import RunConfig
from redline.runner._pipeline import ProgressListener
from redline.runner._result import REPORT_FORMAT_VERSION, RunResult, load_result
from redline.runner._retry import send_with_retries

__all__ = [
    "DEFAULT_CLASSIFIERS",
    "REPORT_FORMAT_VERSION",
    "ProgressListener",
    "RunConfig",
    "RunResult",
    "aresume",
    "arun",
    "load_result",
    "new_run_id",
    "resume",
    "run",
    "send_with_retries",
]
