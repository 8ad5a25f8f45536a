"""redline: red-team and safety-evaluate LLM systems, and gate releases on the numbers.

Run a suite from Python with one call::

    import redline
    result = redline.run("smoke", target="openai:my-model",
                         target_options={"base_url": "http://127.0.0.1:8000/v1"})
    print(result.summary.overall.safety_pass_rate.format())
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("redline")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"

from redline.errors import RedlineError  # noqa: E402
from redline.runner import RunConfig, RunResult, aresume, arun, resume, run  # noqa: E402
from redline.targets import GenerationParams  # noqa: E402

__all__ = [
    "GenerationParams",
    "RedlineError",
    "RunConfig",
    "RunResult",
    "__version__",
    "aresume",
    "arun",
    "resume",
    "run",
]
