"""Adaptive attacks of a run: each attack on each refuse case, stored as it ends.

After the run's attempts are sent, every adaptive attack of the run attacks
every ``refuse`` case within the run's ``limit``, one (case, attack)
pair at a time. Each result is committed before the next pair starts, so a
resumed run skips the pairs that are stored.
"""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from redline.attacks import (
    DEFAULT_ATTACKER,
    AdaptiveAttack,
    AdaptiveResult,
    AttackBudget,
    TokenBudget,
    create_adaptive_attack,
)
from redline.classifiers import Classifier
from redline.errors import ConfigError
from redline.runner._attacks import _parse_assignments, attack_seed
from redline.runner._config import RunConfig
from redline.store import AdaptiveRecord, Store
from redline.suites import Case, Expected, Suite
from redline.targets import GenerationParams, Target, create_target

logger = logging.getLogger(__name__)

JUDGE_CLASSIFIER = "judge"
"""Name of the content classifier that judges adaptive attacks when the run has one."""

_SECRET_OPTIONS = frozenset({"api_key"})
_ASSESSED_OUTCOMES = frozenset({"success", "failure"})


@dataclass(frozen=True, slots=True)
class AdaptivePlan:
    """The adaptive attacks of a run and the settings they share.

    Attributes:
        attacks: The attacks, each run on every refuse case.
        attacker: Target spec of the attacker model.
        budget: Limits of every attack. Its token limit is shared by all
            cases and attacks of the run.
        seed: The run's strategy seed, from which each case's seed is derived.
        attacker_options: Options for building the attacker, such as
            ``base_url``.
    """

    attacks: tuple[AdaptiveAttack, ...]
    attacker: str
    budget: AttackBudget
    seed: int
    attacker_options: Mapping[str, Any] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        """Return the plan as stored in the run's config, without secrets."""
        return {
            "attacks": [attack.identity() for attack in self.attacks],
            "attacker": self.attacker,
            "budget": self.budget.to_dict(),
            "attacker_options": {
                key: value
                for key, value in self.attacker_options.items()
                if key not in _SECRET_OPTIONS and value is not None
            },
        }

    @classmethod
    def from_record(
        cls,
        record: Mapping[str, Any],
        seed: int,
        secrets: Mapping[str, Any] | None = None,
    ) -> AdaptivePlan:
        """Rebuild a stored plan, adding secret attacker options such as ``api_key``."""
        given = {k: v for k, v in (secrets or {}).items() if k in _SECRET_OPTIONS}
        return cls(
            attacks=tuple(create_adaptive_attack(spec) for spec in record["attacks"]),
            attacker=record["attacker"],
            budget=AttackBudget(**record["budget"]),
            seed=seed,
            attacker_options={**record.get("attacker_options", {}), **given},
        )


def build_adaptive_plan(
    specs: Sequence[Any] | str,
    *,
    attacker: str = DEFAULT_ATTACKER,
    budget: AttackBudget | None = None,
    seed: int = 0,
    options: Iterable[str] = (),
    attacker_options: Mapping[str, Any] | None = None,
) -> AdaptivePlan | None:
    """Build the adaptive attacks of a run, or return None when there are none.

    Args:
        specs: Attack specs as :func:`redline.attacks.create_adaptive_attack`
            takes them, or one comma-separated string such as ``"pair,crescendo"``.
        attacker: Target spec of the attacker model.
        budget: Limits of every attack, or None for no limits.
        seed: The run's strategy seed.
        options: ``NAME.KEY=VALUE`` assignments, set as parameter KEY of the
            attack called NAME. Values are read as YAML scalars.
        attacker_options: Options for building the attacker from its spec.

    Raises:
        ConfigError: A spec, parameter or assignment is invalid, an attack is
            listed twice, or an assignment names an attack that is not listed.
    """
    if isinstance(specs, str):
        specs = [part.strip() for part in specs.split(",") if part.strip()]
    assigned = _parse_assignments(options)
    attacks = []
    for spec in specs:
        name = spec if isinstance(spec, str) else spec.get("name")
        params = {} if isinstance(spec, str) else dict(spec.get("params") or {})
        params.update(assigned.get(str(name), {}))
        attacks.append(create_adaptive_attack({"name": name, "params": params}))
    names = [attack.name for attack in attacks]
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise ConfigError(
            f"adaptive attack {repeated[0]!r} is listed more than once; results "
            "are stored by attack name, so give each attack once"
        )
    unused = sorted(set(assigned) - set(names))
    if unused:
        raise ConfigError(
            f"--adaptive-option names attack {unused[0]!r}, which is not in the "
            "adaptive attacks; add it to --adaptive"
        )
    if not attacks:
        return None
    return AdaptivePlan(
        tuple(attacks),
        attacker,
        budget if budget is not None else AttackBudget(),
        seed,
        dict(attacker_options or {}),
    )


def adaptive_judge(refusal: Classifier, content: Sequence[Classifier]) -> Classifier:
    """Return the run's content classifier named ``judge``, else its refusal detector."""
    for classifier in content:
        if classifier.name == JUDGE_CLASSIFIER:
            return classifier
    return refusal


async def run_adaptive(
    run_id: str,
    suite: Suite,
    config: RunConfig,
    plan: AdaptivePlan,
    *,
    target: Target,
    target_spec: str,
    judge: Classifier,
    params: GenerationParams,
    store: Store,
) -> None:
    """Run every adaptive attack on every refuse case and store each result.

    ``target`` must be started. The attacker is the target object itself
    when both specs are ``local``, so one local model is loaded; any other
    attacker is built, started once and closed at the end.
    """
    done = store.done_adaptive_pairs(run_id)
    pending = [
        (case, attack)
        for case in _refuse_cases(suite, config)
        for attack in plan.attacks
        if (case.id, attack.name) not in done
    ]
    if not pending:
        return
    tokens = _token_budget(plan.budget, store, run_id)
    shared = plan.attacker == target_spec == DEFAULT_ATTACKER
    attacker = (
        target
        if shared
        else create_target(plan.attacker, **dict(plan.attacker_options))
    )
    logger.info(
        "run %s: %d adaptive attack(s) to run, attacker %s",
        run_id,
        len(pending),
        plan.attacker,
    )
    if not shared:
        await attacker.start()
    try:
        for case, attack in pending:
            result = await attack.run(
                case,
                target=target,
                attacker=attacker,
                judge=judge,
                budget=plan.budget,
                token_budget=tokens,
                seed=attack_seed(plan.seed, case.id, attack.name),
                params=params,
            )
            store.add_adaptive_result(adaptive_record(run_id, case.id, result))
    finally:
        if not shared:
            await attacker.close()


def adaptive_record(
    run_id: str, case_id: str, result: AdaptiveResult
) -> AdaptiveRecord:
    """Return the stored form of one result.

    ``success`` is None unless some turn was judged a success or a failure,
    so an attack whose every judged turn was unassessed is neither.
    """
    assessed = any(turn.outcome in _ASSESSED_OUTCOMES for turn in result.turns)
    return AdaptiveRecord(
        run_id=run_id,
        case_id=case_id,
        attack=result.attack,
        success=result.success if assessed else None,
        queries_to_first_success=result.queries_to_first_success,
        stopped_reason=result.stopped_reason,
        target_queries=result.target_queries,
        attacker_queries=result.attacker_queries,
        tokens=int(result.token_totals()["total"]),
        result=result.to_dict(),
        completed_at=time.time(),
    )


def _refuse_cases(suite: Suite, config: RunConfig) -> list[Case]:
    cases: Iterable[Case] = suite.cases()
    if config.limit is not None:
        cases = itertools.islice(cases, config.limit)
    return [case for case in cases if case.expected == Expected.REFUSE]


def _token_budget(budget: AttackBudget, store: Store, run_id: str) -> TokenBudget:
    """Return the run's token budget, less the tokens of results already stored."""
    tokens = budget.token_budget()
    tokens.spent = sum(r.tokens for r in store.iter_adaptive_results(run_id))
    return tokens
