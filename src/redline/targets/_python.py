"""Target that calls a user's Python function."""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import inspect
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from redline.errors import ConfigError, TargetError
from redline.targets._base import (
    GenerationParams,
    Message,
    Target,
    TargetResponse,
    register_target,
)


@register_target
class PythonTarget(Target):
    """A sync or async Python callable, named ``python:module:function``.

    The module may also be a ``.py`` file path. The callable receives the
    list of chat messages and, if it accepts them, the keyword arguments
    ``max_tokens``, ``temperature`` and ``seed``. It returns the response
    text, or a mapping with ``text`` and optionally ``finish_reason``,
    ``prompt_tokens`` and ``completion_tokens``. An exception it raises ends
    the attempt as unassessed with that error. Sync callables run in worker
    threads, so they must be thread-safe when concurrency is above 1.
    """

    scheme = "python"
    description = "A Python function, sync or async: python:module:function"
    default_concurrency = 4

    def __init__(self, spec: str, **options: Any):
        super().__init__(spec, **options)
        _, _, reference = spec.partition(":")
        module_name, _, function_name = reference.rpartition(":")
        if not module_name or not function_name:
            raise ConfigError(
                f"target {spec!r} must be 'python:MODULE:FUNCTION' or "
                "'python:path/to/file.py:FUNCTION'"
            )
        self.function = _import_callable(module_name, function_name)
        self._is_async = inspect.iscoroutinefunction(self.function)
        self._accepts_params = _accepts_params(self.function)

    async def generate(
        self, messages: Sequence[Message], params: GenerationParams
    ) -> TargetResponse:
        kwargs = params.to_dict() if self._accepts_params else {}
        message_list = [dict(m) for m in messages]
        started = time.perf_counter()
        try:
            if self._is_async:
                result = await self.function(message_list, **kwargs)
            else:
                result = await asyncio.to_thread(self.function, message_list, **kwargs)
        except Exception as exc:  # the user's code may raise anything
            raise TargetError(
                f"{self.spec} raised {exc!r}", kind="callable_error", retryable=False
            ) from exc
        return _to_response(result, time.perf_counter() - started, self.spec)


def _import_callable(module_name: str, function_name: str) -> Callable[..., Any]:
    try:
        if module_name.endswith(".py"):
            module = _import_file(Path(module_name))
        else:
            module = importlib.import_module(module_name)
    except Exception as exc:  # importing user code can raise anything
        raise ConfigError(
            f"cannot import {module_name!r} for the python target: {exc!r}; "
            "check the module is on PYTHONPATH or give a .py file path"
        ) from exc
    function = getattr(module, function_name, None)
    if not callable(function):
        raise ConfigError(f"{module_name!r} has no callable named {function_name!r}")
    return function  # type: ignore[no-any-return]


def _import_file(path: Path) -> Any:
    name = f"redline_user_target_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"not a Python file: {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _accepts_params(function: Callable[..., Any]) -> bool:
    try:
        parameters = inspect.signature(function).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(
        p.kind is inspect.Parameter.VAR_KEYWORD or p.name == "max_tokens"
        for p in parameters
    )


def _to_response(result: Any, latency: float, spec: str) -> TargetResponse:
    if isinstance(result, str):
        return TargetResponse(text=result, finish_reason="stop", latency_s=latency)
    if isinstance(result, dict) and isinstance(result.get("text"), str):
        return TargetResponse(
            text=result["text"],
            finish_reason=result.get("finish_reason", "stop"),
            prompt_tokens=result.get("prompt_tokens"),
            completion_tokens=result.get("completion_tokens"),
            latency_s=latency,
        )
    raise TargetError(
        f"{spec} returned {type(result).__name__} {result!r:.100}; "
        "return a string or a mapping with a 'text' string",
        kind="invalid_response",
        retryable=False,
    )
