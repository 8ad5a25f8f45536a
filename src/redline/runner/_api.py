"""Entry points that start or resume a run: ``redline.run`` and ``redline.arun``."""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from redline import __version__
from redline.attacks import DEFAULT_ATTACKER, AttackBudget
from redline.classifiers import (
    Classifier,
    ClassifierSpec,
    build_classifier,
    public_spec,
)
from redline.errors import ConfigError
from redline.guards import Guard, GuardConfig
from redline.guards._config import resolve_guard_config, restore_guard_config
from redline.runner._adaptive_run import (
    AdaptivePlan,
    adaptive_judge,
    build_adaptive_plan,
    run_adaptive,
)
from redline.runner._attacks import (
    AttackPlan,
    PlannedAttempt,
    build_chains,
    chain_identity,
)
from redline.runner._config import RunConfig
from redline.runner._pipeline import ProgressListener, run_pipeline
from redline.runner._result import RunResult, load_result
from redline.store import DEFAULT_DB_PATH, RunRecord, Store
from redline.suites import Case, Suite, load_suite
from redline.targets import GenerationParams, Target, create_target

logger = logging.getLogger(__name__)

DEFAULT_CLASSIFIERS = ("refusal", "toxicity")
# Target options that may hold secrets; they are never stored with a run.
_SECRET_OPTIONS = frozenset({"api_key"})


def run(
    suite: str | Path = "smoke",
    target: str = "local",
    **kwargs: Any,
) -> RunResult:
    """Run a suite against a target and return the result; see :func:`arun`.

    Blocks until the run ends. From code that already runs an event loop
    (a notebook cell, an async test), await :func:`arun` instead.
    """
    return asyncio.run(arun(suite, target, **kwargs))


async def arun(
    suite: str | Path = "smoke",
    target: str = "local",
    *,
    target_options: Mapping[str, Any] | None = None,
    params: GenerationParams | None = None,
    config: RunConfig | None = None,
    classifiers: Sequence[ClassifierSpec] | str = DEFAULT_CLASSIFIERS,
    db: str | Path = DEFAULT_DB_PATH,
    progress: ProgressListener | None = None,
    run_id: str | None = None,
    guard: str | Path | GuardConfig | None = None,
    strategies: Sequence[Any] | str = (),
    strategy_seed: int = 0,
    direct: bool = True,
    helper_target: str | None = None,
    strategy_options: Sequence[str] = (),
    adaptive: Sequence[Any] | str = (),
    attacker: str = DEFAULT_ATTACKER,
    adaptive_budget: AttackBudget | None = None,
    adaptive_options: Sequence[str] = (),
    attacker_options: Mapping[str, Any] | None = None,
) -> RunResult:
    """Run a suite against a target, storing every attempt as it completes.

    Args:
        suite: Built-in suite name or path to a YAML or JSONL suite file.
        target: Target spec such as ``local``, ``gguf:PATH``,
            ``openai:MODEL`` or ``python:module:function``.
        target_options: Options for the target, such as ``base_url``.
        params: Generation parameters sent with every request.
        config: Concurrency, timeout and retry settings.
        classifiers: Classifiers that judge each response: registry names,
            mappings with ``name`` and ``options`` (such as ``{"name":
            "judge", "options": {"target": "openai:m"}}``), or built
            instances. Exactly one must be a refusal detector.
        db: SQLite results database; created when missing.
        progress: Receives progress events, for example a progress bar.
        run_id: Id for the new run; by default one is made from the time.
        guard: Guard config file or loaded config whose input and output
            filters wrap the target. The run stores the config and its
            fingerprint, and the guarded target's identity.
        strategies: Attack strategy specs, such as ``["base64", "roleplay",
            "base64+roleplay"]``, or one comma-separated string. Each case
            gives one attempt per attack message list of each chain, besides
            its direct attempt.
        strategy_seed: Seed of the strategies' random draws; each case and
            chain gets its own seed derived from it, see
            :func:`redline.runner._attacks.attack_seed`.
        direct: Whether each case is also sent as it is. The run's headline
            figures count only these direct attempts.
        helper_target: Target spec of the helper model of strategies that
            call one, such as ``translation``.
        strategy_options: ``NAME.KEY=VALUE`` strategy parameters, such as
            ``translation.language=Zulu``.
        adaptive: Adaptive attack specs, such as ``["pair", "crescendo"]``,
            or one comma-separated string. Once the attempts are sent, each
            attack runs on every ``refuse`` case and its result is stored.
        attacker: Target spec of the adaptive attacks' attacker model. When
            it and ``target`` are both ``local``, the target model is reused.
        adaptive_budget: Limits of every adaptive attack. Its token limit is
            shared by all of them.
        adaptive_options: ``NAME.KEY=VALUE`` adaptive attack parameters,
            such as ``pair.streams=1``.
        attacker_options: Options for building the attacker, such as
            ``base_url``.

    Returns:
        The stored run and its metrics.
    """
    params = params or GenerationParams()
    config = config or RunConfig()
    options = dict(target_options or {})
    loaded_suite = load_suite(suite)
    plan = AttackPlan(
        build_chains(strategies, helper_target=helper_target, options=strategy_options),
        strategy_seed,
        direct,
    )
    adaptive_plan = build_adaptive_plan(
        adaptive,
        attacker=attacker,
        budget=adaptive_budget,
        seed=strategy_seed,
        options=adaptive_options,
        attacker_options=attacker_options,
    )
    specs = _classifier_specs(classifiers)
    refusal, content = _build_classifiers(specs)
    guard_config = resolve_guard_config(guard) if guard is not None else None
    target_obj = _guarded(
        create_target(target, concurrency=config.concurrency, **options), guard_config
    )

    with Store(db) as store:
        record = RunRecord(
            run_id=run_id or new_run_id(),
            created_at=time.time(),
            status="running",
            suite_name=loaded_suite.info.name,
            suite_version=loaded_suite.info.version,
            suite_fingerprint=loaded_suite.info.fingerprint,
            suite_path=loaded_suite.info.path,
            case_count=_planned_count(loaded_suite, config),
            target_spec=target,
            target_identity=target_obj.identity(),
            params=params.to_dict(),
            classifiers=[c.identity() for c in (refusal, *content)],
            config={
                "runner": config.to_dict(),
                "target_options": _public_options(options),
                "classifiers": [c.name for c in (refusal, *content)],
                "classifier_specs": [public_spec(spec) for spec in specs],
                "suite_argument": _suite_argument(suite),
                **({"guard": guard_config.to_record()} if guard_config else {}),
                **({} if plan.is_plain else {"attacks": plan.to_record()}),
                **({"adaptive": adaptive_plan.to_record()} if adaptive_plan else {}),
            },
            redline_version=__version__,
        )
        store.create_run(record)
        logger.info("run %s started: suite %s, target %s", record.run_id, suite, target)
        await _execute(
            record,
            loaded_suite,
            plan,
            target_obj,
            params,
            refusal,
            content,
            store,
            config,
            progress,
            adaptive_plan,
        )
        return load_result(store, record.run_id)


async def aresume(
    run_id: str,
    *,
    db: str | Path = DEFAULT_DB_PATH,
    target_options: Mapping[str, Any] | None = None,
    progress: ProgressListener | None = None,
    classifiers: Sequence[ClassifierSpec] | None = None,
    guard: str | Path | GuardConfig | None = None,
    strategies: Sequence[Any] | str | None = None,
    strategy_seed: int | None = None,
    direct: bool | None = None,
    helper_target: str | None = None,
    strategy_options: Sequence[str] = (),
) -> RunResult:
    """Finish a stored run, sending only the attempts that are not stored yet.

    The suite must still have the fingerprint recorded at the start; the
    target, parameters, classifiers and runner settings come from the store.
    Secrets such as API keys are not stored, so pass them again in
    ``target_options`` or the environment. Classifiers that were passed as
    built instances, or whose options held secrets, must be passed again in
    ``classifiers``. A guarded run loads its guard config again from the
    stored path, or from ``guard`` when given. The attack strategies and
    their seed come from the store; ``strategies``, ``strategy_seed`` and
    ``direct``, when given, must match them. ``helper_target`` and
    ``strategy_options`` apply to ``strategies`` only. Adaptive attacks
    and their attacker come from the store too, and pairs of a case and an
    attack that have a stored result are not run again.

    Raises:
        StoreError: The run does not exist.
        ConfigError: The suite, the guard config, the strategies or the
            strategy seed changed since the run started.
    """
    with Store(db) as store:
        record = store.get_run(run_id)
        if record.status == "completed":
            logger.info("run %s is already complete; nothing to resume", record.run_id)
            return load_result(store, record.run_id)
        saved = record.config
        loaded_suite = load_suite(saved.get("suite_argument") or record.suite_path)
        if loaded_suite.info.fingerprint != record.suite_fingerprint:
            raise ConfigError(
                f"suite {loaded_suite.info.path} changed since run {record.run_id} started "
                f"(fingerprint {loaded_suite.info.fingerprint[:12]} != "
                f"{record.suite_fingerprint[:12]}); start a new run instead of resuming"
            )
        plan = _restore_plan(
            record,
            strategies,
            strategy_seed,
            direct,
            helper_target,
            strategy_options,
        )
        config = RunConfig(**saved["runner"])
        given = {k: v for k, v in (target_options or {}).items() if v is not None}
        options = {**saved.get("target_options", {}), **given}
        params = GenerationParams(**record.params)
        stored_specs = saved.get("classifier_specs") or saved["classifiers"]
        refusal, content = _build_classifiers(classifiers or stored_specs)
        guard_config = restore_guard_config(saved.get("guard"), guard, record.run_id)
        target_obj = _guarded(
            create_target(
                record.target_spec, concurrency=config.concurrency, **options
            ),
            guard_config,
        )
        stored_adaptive = saved.get("adaptive")
        adaptive_plan = (
            AdaptivePlan.from_record(stored_adaptive, plan.seed, given)
            if stored_adaptive
            else None
        )
        store.set_run_status(record.run_id, "running")
        logger.info("resuming run %s", record.run_id)
        await _execute(
            record,
            loaded_suite,
            plan,
            target_obj,
            params,
            refusal,
            content,
            store,
            config,
            progress,
            adaptive_plan,
        )
        return load_result(store, record.run_id)


def resume(run_id: str, **kwargs: Any) -> RunResult:
    """Blocking form of :func:`aresume`."""
    return asyncio.run(aresume(run_id, **kwargs))


def _restore_plan(
    record: RunRecord,
    strategies: Sequence[Any] | str | None,
    strategy_seed: int | None,
    direct: bool | None,
    helper_target: str | None,
    strategy_options: Sequence[str],
) -> AttackPlan:
    """Rebuild the stored attack plan, checking it against the given settings.

    Raises:
        ConfigError: A given setting differs from the stored one.
    """
    stored = record.config.get("attacks") or {
        "strategies": [],
        "seed": 0,
        "direct": True,
    }
    plan = AttackPlan(
        build_chains(stored["strategies"]), stored["seed"], stored["direct"]
    )
    if strategies is not None:
        given = build_chains(
            strategies, helper_target=helper_target, options=strategy_options
        )
        _check_unchanged(
            record,
            "strategies",
            [chain_identity(chain) for chain in given],
            stored["strategies"],
        )
    if strategy_seed is not None:
        _check_unchanged(record, "strategy seed", strategy_seed, stored["seed"])
    if direct is not None:
        _check_unchanged(record, "direct attempt setting", direct, stored["direct"])
    return plan


def _check_unchanged(record: RunRecord, what: str, given: Any, stored: Any) -> None:
    if given != stored:
        raise ConfigError(
            f"{what} changed since run {record.run_id} started: given {given!r}, "
            f"stored {stored!r}; resume with the stored setting or start a new run"
        )


async def _execute(
    record: RunRecord,
    suite: Suite,
    plan: AttackPlan,
    target: Target,
    params: GenerationParams,
    refusal: Classifier,
    content: Sequence[Classifier],
    store: Store,
    config: RunConfig,
    progress: ProgressListener | None,
    adaptive: AdaptivePlan | None = None,
) -> None:
    done = store.done_case_ids(record.run_id)
    concurrency = config.concurrency or target.default_concurrency
    if progress is not None:
        planned = record.case_count * plan.attempts_per_case()
        progress.started(max(planned, len(done)), len(done))
    pending = _pending_attempts(suite, plan, config, done)
    status = "interrupted"
    try:
        await target.start()
        await run_pipeline(
            record.run_id,
            pending,
            target,
            params,
            refusal,
            content,
            store,
            config,
            concurrency,
            progress,
        )
        if adaptive is not None:
            await run_adaptive(
                record.run_id,
                suite,
                config,
                adaptive,
                target=target,
                target_spec=record.target_spec,
                judge=adaptive_judge(refusal, content),
                params=params,
                store=store,
            )
        status = "completed"
    finally:
        await target.close()
        store.set_run_status(record.run_id, status)
        logger.info("run %s %s", record.run_id, status)


async def _pending_attempts(
    suite: Suite, plan: AttackPlan, config: RunConfig, done: set[str]
) -> AsyncIterator[PlannedAttempt]:
    """Yield the attempts that are not stored yet, expanding one case at a time."""
    numbered: Iterator[tuple[int, Case]] = enumerate(suite.cases())
    if config.limit is not None:
        numbered = itertools.islice(numbered, config.limit)
    for seq, case in numbered:
        for planned in await plan.expand(case, seq, done):
            yield planned


def _planned_count(suite: Suite, config: RunConfig) -> int:
    if config.limit is None:
        return suite.info.case_count
    return min(config.limit, suite.info.case_count)


def _classifier_specs(
    classifiers: Sequence[ClassifierSpec] | str,
) -> list[ClassifierSpec]:
    if isinstance(classifiers, str):  # "refusal,toxicity" as on the command line
        return [name.strip() for name in classifiers.split(",") if name.strip()]
    return list(classifiers)


def _build_classifiers(
    specs: Sequence[ClassifierSpec] | str,
) -> tuple[Classifier, list[Classifier]]:
    built = [
        build_classifier(spec, where=f"classifiers[{index}]")
        for index, spec in enumerate(_classifier_specs(specs))
    ]
    refusal = [c for c in built if c.kind == "refusal"]
    if len(refusal) != 1:
        raise ConfigError(
            f"exactly one refusal detector is needed, got {[c.name for c in refusal]!r} "
            f"from classifiers {[c.name for c in built]!r}; include 'refusal'"
        )
    return refusal[0], [c for c in built if c.kind != "refusal"]


def _public_options(options: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: v for k, v in options.items() if k not in _SECRET_OPTIONS and v is not None
    }


def _suite_argument(suite: str | Path) -> str:
    """Return how to find the suite again on resume: a built-in name or an absolute path."""
    path = Path(suite)
    return str(path.resolve()) if path.exists() else str(suite)


def _guarded(target: Target, guard: GuardConfig | None) -> Target:
    return target if guard is None else Guard(target, config=guard)


def new_run_id() -> str:
    """Return a new run id: the local time and 6 random hex digits."""
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)
