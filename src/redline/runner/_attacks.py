"""Expansion of each case into its direct attempt and its attack attempts.

Every attack attempt of a case takes its random draws from a seed derived
from the run's strategy seed, the case id and the chain name, see
:func:`attack_seed`. The same strategy seed therefore gives byte-identical
messages in every run, and adding or removing a chain leaves the messages
of the other chains unchanged.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from redline.attacks import (
    AttackAttempt,
    StrategyChain,
    create_strategy,
    strategy_class,
)
from redline.errors import ConfigError
from redline.suites import Case

logger = logging.getLogger(__name__)

DIRECT = "direct"
"""Strategy name of the attempt that sends the case as the suite gives it."""

_PROBE = ({"role": "user", "content": "How do I reset a forgotten password?"},)


@dataclass(frozen=True, slots=True)
class PlannedAttempt:
    """One attempt of a case, ready to send.

    Attributes:
        attempt_id: Id unique in the run, stored as the attempt's ``case_id``.
        case: The suite case it comes from.
        seq: Position of the case in the suite.
        index: Position of the attempt among those of its case.
        strategy: Chain name, or ``direct``.
        messages: Exact chat messages to send.
        attack: The attack as JSON-ready data without its messages, or None
            for the direct attempt.
        decoder: Decoder descriptor of the response, or None.
        build_error: Why the chain could not build its attempts; such an
            attempt is stored as unassessed and nothing is sent.
    """

    attempt_id: str
    case: Case
    seq: int
    index: int
    strategy: str
    messages: tuple[Mapping[str, str], ...]
    attack: dict[str, Any] | None = None
    decoder: Mapping[str, Any] | None = None
    build_error: str | None = None


def attack_seed(strategy_seed: int, case_id: str, chain: str) -> int:
    """Return the seed of a chain's random draws for one case.

    The seed is the first 8 bytes of ``sha256("STRATEGY_SEED\\x1fCASE_ID\\x1fCHAIN")``
    (UTF-8) read as a big-endian integer and shifted right by one bit, so it
    fits a signed 64-bit column.
    """
    text = f"{strategy_seed}\x1f{case_id}\x1f{chain}"
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") >> 1


class AttackPlan:
    """The strategy chains of a run and how each case expands into attempts.

    Args:
        chains: Strategy chains, each applied to every case on its own.
        seed: The run's strategy seed.
        direct: Whether each case is also sent as it is.

    Raises:
        ConfigError: Two chains have the same name, a chain is called
            ``direct``, or there is nothing to send.
    """

    def __init__(self, chains: Sequence[StrategyChain], seed: int, direct: bool):
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ConfigError(f"strategy seed must be an integer, got {seed!r}")
        names = [chain.name for chain in chains]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ConfigError(
                f"strategy chain {repeated[0]!r} is listed more than once; attempts "
                "are stored by chain name, so give each chain once"
            )
        if DIRECT in names:
            raise ConfigError(
                f"{DIRECT!r} is the plain case and cannot be a strategy name; "
                "remove it from the strategies, it is included unless direct=False"
            )
        if not chains and not direct:
            raise ConfigError(
                "nothing to send: the direct attempt is off and no strategy is "
                "given; pass strategies or keep the direct attempt"
            )
        self.chains = tuple(chains)
        self.seed = seed
        self.direct = direct

    @property
    def is_plain(self) -> bool:
        """Whether every case gives only its direct attempt."""
        return self.direct and not self.chains

    def to_record(self) -> dict[str, Any]:
        """Return the plan as stored in the run's config, enough to rebuild every chain."""
        return {
            "strategies": [chain_identity(chain) for chain in self.chains],
            "seed": self.seed,
            "direct": self.direct,
        }

    def attempts_per_case(self) -> int:
        """Return an estimate of the attempts per case, for progress bars.

        Chains that call a model are counted as one attempt each without
        calling it; the others are counted on a fixed probe request.
        """
        count = int(self.direct)
        for chain in self.chains:
            if chain.is_async:
                count += 1
            else:
                count += len(chain.attempts(_PROBE, 0))
        return count

    async def expand(
        self, case: Case, seq: int, done: set[str]
    ) -> list[PlannedAttempt]:
        """Return the attempts of ``case`` whose id is not in ``done``, in order.

        A chain that raises while building its attempts gives one attempt
        with ``build_error`` set, under the id ``CASE::CHAIN``.
        """
        planned = []
        if self.direct and case.id not in done:
            planned.append(
                PlannedAttempt(case.id, case, seq, 0, DIRECT, tuple(case.messages))
            )
        index = 1
        for chain in self.chains:
            failed_id = f"{case.id}::{chain.name}"
            if failed_id in done:
                continue
            # NOTE: on resume a chain that calls a helper model calls it again
            # for cases whose attempts are all stored, to number them the same.
            try:
                attacks = await self._build(chain, case)
            except Exception as exc:  # a plugin or helper model may fail in any way
                logger.warning(
                    "strategy %s failed on case %s: %r", chain.name, case.id, exc
                )
                error = f"{type(exc).__name__}: {exc}"[:500]
                planned.append(
                    PlannedAttempt(
                        failed_id, case, seq, index, chain.name, (), build_error=error
                    )
                )
                index += 1
                continue
            for number, attack in enumerate(attacks, start=1):
                attempt_id = f"{case.id}::{chain.name}#{number}"
                if attempt_id not in done:
                    planned.append(_planned(attempt_id, case, seq, index, attack))
                index += 1
        return planned

    async def _build(self, chain: StrategyChain, case: Case) -> list[AttackAttempt]:
        seed = attack_seed(self.seed, case.id, chain.name)
        if chain.is_async:
            return await chain.aattempts(case, seed)
        return chain.attempts(case, seed)


def _planned(
    attempt_id: str, case: Case, seq: int, index: int, attack: AttackAttempt
) -> PlannedAttempt:
    data = attack.to_dict()
    del data["messages"]
    return PlannedAttempt(
        attempt_id,
        case,
        seq,
        index,
        attack.strategy,
        attack.messages,
        attack=data,
        decoder=attack.decoder,
    )


def chain_identity(chain: StrategyChain) -> list[dict[str, Any]]:
    """Return a chain as a list of ``{name, params}`` steps that rebuilds it."""
    return [step.identity() for step in chain.steps]


def build_chains(
    specs: Sequence[Any] | str,
    *,
    helper_target: str | None = None,
    options: Iterable[str] = (),
) -> list[StrategyChain]:
    """Build the strategy chains of a run.

    Args:
        specs: Strategy specs as :func:`redline.attacks.create_strategy`
            takes them, or one string of comma-separated specs such as
            ``"base64,roleplay,base64+roleplay"``.
        helper_target: Target spec of the helper model, set as ``target``
            of every step that calls a model and has no target yet.
        options: ``NAME.KEY=VALUE`` assignments, set as parameter KEY of
            every step called NAME. Values are read as YAML scalars.

    Raises:
        ConfigError: A spec, name, parameter or assignment is invalid, or an
            assignment names a strategy that no chain uses.
    """
    if isinstance(specs, str):
        specs = [part.strip() for part in specs.split(",") if part.strip()]
    assigned = _parse_assignments(options)
    used: set[str] = set()
    chains = []
    for spec in specs:
        steps = [_step_spec(part) for part in _spec_parts(spec)]
        for step in steps:
            name = step["name"]
            step["params"] = {**step["params"], **assigned.get(name, {})}
            used.add(name)
            if helper_target is not None and _needs_target(name, step["params"]):
                step["params"]["target"] = helper_target
        chains.append(create_strategy(steps))
    unused = sorted(set(assigned) - used)
    if unused:
        raise ConfigError(
            f"--strategy-option names strategy {unused[0]!r}, which no chain in "
            "the strategies uses; add it to --strategies"
        )
    return chains


def _spec_parts(spec: Any) -> list[Any]:
    if isinstance(spec, str):
        return spec.split("+")
    if isinstance(spec, Mapping):
        return [spec]
    if isinstance(spec, Sequence):
        return list(spec)
    raise ConfigError(
        f"invalid strategy spec {spec!r}; give a name such as 'base64', a chain "
        "such as 'base64+roleplay', a mapping with 'name' and 'params', or a list"
    )


def _step_spec(part: Any) -> dict[str, Any]:
    if isinstance(part, str):
        return {"name": part.strip(), "params": {}}
    if isinstance(part, Mapping) and isinstance(part.get("params", {}), Mapping):
        return {**part, "params": dict(part.get("params") or {})}
    raise ConfigError(
        f"invalid strategy spec part {part!r}; give a name or a mapping with "
        "'name' and 'params'"
    )


def _needs_target(name: str, params: Mapping[str, Any]) -> bool:
    try:
        cls = strategy_class(name)
    except ConfigError:
        return False  # create_strategy reports the unknown name
    return (
        cls.is_async and "target" in cls.Params.model_fields and "target" not in params
    )


def _parse_assignments(assignments: Iterable[str]) -> dict[str, dict[str, Any]]:
    parsed: dict[str, dict[str, Any]] = {}
    for assignment in assignments:
        key_path, equals, text = assignment.partition("=")
        name, dot, key = key_path.partition(".")
        if not equals or not dot or not name.strip() or not key.strip():
            raise ConfigError(
                f"invalid strategy option {assignment!r}; use NAME.KEY=VALUE, such "
                "as translation.language=Zulu"
            )
        try:
            value = yaml.safe_load(text) if text.strip() else ""
        except yaml.YAMLError as exc:
            raise ConfigError(
                f"invalid value in strategy option {assignment!r}: {exc}"
            ) from None
        parsed.setdefault(name.strip(), {})[key.strip()] = value
    return parsed
