"""Strategy interface, attack attempts, parameters and the strategy registry."""

from __future__ import annotations

import abc
import asyncio
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from redline.errors import ConfigError
from redline.suites import Case
from redline.targets import Message

ENTRY_POINT_GROUP = "redline.strategies"

FAMILIES: tuple[str, ...] = (
    "encoding",
    "obfuscation",
    "framing",
    "injection",
    "augmentation",
    "translation",
    "template",
)
"""Families a strategy can belong to, used to group listings and results."""

ROLES = ("system", "user", "assistant")


class StrategyParams(BaseModel):
    """Base of the typed, validated parameters of a strategy.

    Subclasses declare one field per parameter with a default and a
    docstring. Unknown names, wrong types and out-of-range values are
    rejected; :class:`Strategy` turns the error into a ConfigError that names
    the strategy, the parameter and the accepted values.
    """

    model_config = ConfigDict(
        frozen=True, extra="forbid", strict=True, use_attribute_docstrings=True
    )

    def to_dict(self) -> dict[str, Any]:
        """Return the parameters as JSON-ready data."""
        return self.model_dump(mode="json")


class NoParams(StrategyParams):
    """Parameters of a strategy that takes none."""


@dataclass(frozen=True, slots=True)
class Variant:
    """One rewrite of a conversation produced by one strategy step.

    Attributes:
        messages: Chat messages to send, each with ``role`` and ``content``.
        decoder: How to decode the target's response, such as
            ``{"kind": "base64"}``, or None when the response needs no decoding.
        label: Which of the step's outputs this is, such as a template name
            or a variant index; empty when the step has one output.
    """

    messages: tuple[Mapping[str, str], ...]
    decoder: Mapping[str, Any] | None = None
    label: str = ""


@dataclass(frozen=True, slots=True)
class AttackAttempt:
    """One attack message list ready to send, and how to read the response.

    Attributes:
        chain: Strategy names in the order they were applied.
        params: Parameters of each strategy in ``chain``, as plain data.
        seed: Seed of the random draws that produced the messages.
        messages: Exact chat messages to send to the target.
        decoder: Descriptor for :func:`redline.attacks.decode_response`, or
            None when the response is read as it is. Several decoding steps are
            given as ``{"kind": "chain", "steps": [...]}``, in decoding order.
        variants: Label of the output each step chose, parallel to ``chain``.
    """

    chain: tuple[str, ...]
    params: tuple[Mapping[str, Any], ...]
    seed: int
    messages: tuple[Mapping[str, str], ...]
    decoder: Mapping[str, Any] | None = None
    variants: tuple[str, ...] = ()

    @property
    def strategy(self) -> str:
        """Chain in spec form, such as ``base64+roleplay``."""
        return "+".join(self.chain)

    @property
    def prompt(self) -> str:
        """Content of the last user message."""
        return self.messages[last_user_index(self.messages)]["content"]

    def to_dict(self) -> dict[str, Any]:
        """Return the attempt as JSON-ready data."""
        return {
            "chain": list(self.chain),
            "params": [dict(p) for p in self.params],
            "seed": self.seed,
            "messages": [dict(m) for m in self.messages],
            "decoder": dict(self.decoder) if self.decoder is not None else None,
            "variants": list(self.variants),
        }


class Strategy(abc.ABC):
    """Base class of every single-turn attack strategy.

    Subclasses set the class attributes, declare :attr:`Params`, and
    implement :meth:`transform`, or :meth:`atransform` when they need I/O.
    A transform must take every random draw from the ``rng`` it is given, so
    the same seed and the same messages give byte-identical output.

    Args:
        **params: Values for the fields of :attr:`Params`.

    Raises:
        ConfigError: A parameter is unknown, of the wrong type or out of range.
    """

    name: ClassVar[str]
    """Registry name, used in specs such as ``base64+roleplay``."""
    description: ClassVar[str]
    """One-line description for listings."""
    family: ClassVar[str]
    """One of :data:`FAMILIES`."""
    Params: ClassVar[type[StrategyParams]] = NoParams
    """Parameter model; its fields are the accepted parameters."""
    randomized: ClassVar[bool] = False
    """Whether the output depends on the seed. Strategies whose parameters
    decide it override this with a property."""
    is_async: ClassVar[bool] = False
    """Whether the strategy needs :meth:`aattempts` because it calls a model."""
    requires_configuration: ClassVar[bool] = False
    """Whether the strategy needs parameters, so it cannot be built by name alone."""

    def __init__(self, **params: Any):
        self.params = build_params(self.name, self.Params, params)

    def transform(
        self, messages: Sequence[Message], rng: random.Random
    ) -> list[Variant]:
        """Rewrite a conversation into one or more variants.

        Raises:
            RuntimeError: The strategy is async; use :meth:`atransform`.
            NotImplementedError: The subclass implements neither method.
        """
        if self.is_async:
            raise RuntimeError(
                f"strategy {self.name!r} calls a model; "
                "use 'await strategy.aattempts(...)'"
            )
        raise NotImplementedError(
            f"strategy {self.name!r} implements neither transform nor atransform"
        )

    async def atransform(
        self, messages: Sequence[Message], rng: random.Random
    ) -> list[Variant]:
        """Rewrite a conversation; the default runs :meth:`transform` inline."""
        return self.transform(messages, rng)

    def attempts(
        self, case: Case | Sequence[Message], seed: int
    ) -> list[AttackAttempt]:
        """Build the attack attempts for a case with this strategy alone."""
        return StrategyChain([self]).attempts(case, seed)

    async def aattempts(
        self, case: Case | Sequence[Message], seed: int
    ) -> list[AttackAttempt]:
        """Build the attack attempts for a case, awaiting model calls."""
        return await StrategyChain([self]).aattempts(case, seed)

    def identity(self) -> dict[str, Any]:
        """Return the name and parameters, as stored with each attempt."""
        return {"name": self.name, "params": self.params.to_dict()}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.params!r})"


class StrategyChain:
    """Strategies applied one after another, left to right.

    In ``base64+roleplay`` the request is first encoded in base64, and the
    result is then wrapped in a role-play frame. When a step returns several
    variants, each is passed on to the next step, so the attempts are the
    product of the steps' outputs. Decoders of the steps are applied to the
    response in reverse order.
    """

    def __init__(self, steps: Sequence[Strategy]):
        if not steps:
            raise ConfigError("a strategy chain needs at least one strategy")
        self.steps: tuple[Strategy, ...] = tuple(steps)

    @property
    def name(self) -> str:
        """Chain in spec form, such as ``base64+roleplay``."""
        return "+".join(step.name for step in self.steps)

    @property
    def is_async(self) -> bool:
        """Whether a step calls a model, so :meth:`aattempts` is needed."""
        return any(step.is_async for step in self.steps)

    def attempts(
        self, case: Case | Sequence[Message], seed: int
    ) -> list[AttackAttempt]:
        """Build the attack attempts for a case.

        Raises:
            RuntimeError: A step is async and an event loop is running in
                this thread. Await :meth:`aattempts` there instead.
        """
        if not self.is_async:
            messages, rng = _start(case, seed)
            variants = [_Partial(messages, (), ())]
            for step in self.steps:
                variants = [
                    partial.extend(output)
                    for partial in variants
                    for output in _checked(step, step.transform(partial.messages, rng))
                ]
            return [partial.finish(self.steps, seed) for partial in variants]
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.aattempts(case, seed))
        raise RuntimeError(
            f"strategy {self.name!r} calls a model and an event loop is running; "
            "use 'await strategy.aattempts(...)' instead"
        )

    async def aattempts(
        self, case: Case | Sequence[Message], seed: int
    ) -> list[AttackAttempt]:
        """Build the attack attempts for a case, awaiting model calls in order."""
        messages, rng = _start(case, seed)
        variants = [_Partial(messages, (), ())]
        for step in self.steps:
            extended = []
            for partial in variants:
                outputs = await step.atransform(partial.messages, rng)
                extended += [partial.extend(out) for out in _checked(step, outputs)]
            variants = extended
        return [partial.finish(self.steps, seed) for partial in variants]

    def __repr__(self) -> str:
        return f"StrategyChain({list(self.steps)!r})"


@dataclass(frozen=True, slots=True)
class _Partial:
    messages: tuple[Mapping[str, str], ...]
    decoders: tuple[Mapping[str, Any], ...]
    labels: tuple[str, ...]

    def extend(self, variant: Variant) -> _Partial:
        decoders = self.decoders
        if variant.decoder is not None:
            decoders = decoders + (variant.decoder,)
        return _Partial(variant.messages, decoders, self.labels + (variant.label,))

    def finish(self, steps: Sequence[Strategy], seed: int) -> AttackAttempt:
        decoder: Mapping[str, Any] | None = None
        if len(self.decoders) == 1:
            decoder = self.decoders[0]
        elif self.decoders:
            steps_in_decoding_order = [dict(d) for d in reversed(self.decoders)]
            decoder = {"kind": "chain", "steps": steps_in_decoding_order}
        return AttackAttempt(
            chain=tuple(step.name for step in steps),
            params=tuple(step.params.to_dict() for step in steps),
            seed=seed,
            messages=self.messages,
            decoder=decoder,
            variants=self.labels,
        )


def _start(
    case: Case | Sequence[Message], seed: int
) -> tuple[tuple[Mapping[str, str], ...], random.Random]:
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ConfigError(f"attack seed must be an integer, got {seed!r}")
    messages = case.messages if isinstance(case, Case) else case
    checked = tuple(_checked_message(m, i) for i, m in enumerate(messages))
    last_user_index(checked)
    return checked, random.Random(seed)


def _checked_message(message: Message, index: int) -> Mapping[str, str]:
    role = message.get("role") if isinstance(message, Mapping) else None
    content = message.get("content") if isinstance(message, Mapping) else None
    if role not in ROLES or not isinstance(content, str):
        raise ConfigError(
            f"message {index} must be a mapping with 'role' (one of "
            f"{', '.join(ROLES)}) and string 'content', got {message!r:.100}"
        )
    return {"role": role, "content": content}


def _checked(step: Strategy, variants: list[Variant]) -> list[Variant]:
    if not variants:
        raise RuntimeError(f"strategy {step.name!r} returned no variants")
    return variants


def last_user_index(messages: Sequence[Message]) -> int:
    """Return the index of the last user message.

    Raises:
        ConfigError: No message has the user role.
    """
    for index in range(len(messages) - 1, -1, -1):
        if messages[index]["role"] == "user":
            return index
    raise ConfigError("an attack needs at least one user message to rewrite")


def request_of(messages: Sequence[Message]) -> str:
    """Return the content of the last user message, the request an attack rewrites."""
    return messages[last_user_index(messages)]["content"]


def replace_request(
    messages: Sequence[Message], content: str
) -> tuple[Mapping[str, str], ...]:
    """Return ``messages`` with the content of the last user message replaced."""
    index = last_user_index(messages)
    replaced = [dict(m) for m in messages]
    replaced[index]["content"] = content
    return tuple(replaced)


def build_params(
    strategy_name: str, model: type[StrategyParams], values: Mapping[str, Any]
) -> StrategyParams:
    """Validate parameter values against ``model``.

    Raises:
        ConfigError: Names the strategy, the first invalid parameter, the
            value given and what is accepted.
    """
    accepted = ", ".join(model.model_fields) or "none"
    unknown = [key for key in values if key not in model.model_fields]
    if unknown:
        raise ConfigError(
            f"strategy {strategy_name!r} has no parameter {unknown[0]!r}; "
            f"accepted parameters: {accepted}"
        )
    try:
        return model(**values)
    except ValidationError as exc:
        error = exc.errors()[0]
        location = ".".join(str(part) for part in error["loc"])
        if error["type"] == "missing":
            raise ConfigError(
                f"strategy {strategy_name!r} is missing parameter {location!r}; "
                f"accepted parameters: {accepted}"
            ) from None
        raise ConfigError(
            f"invalid parameter {location!r} of strategy {strategy_name!r}: "
            f"{error['msg']}, got {error.get('input')!r}"
        ) from None


StrategyT = TypeVar("StrategyT", bound=type[Strategy])
_REGISTRY: dict[str, type[Strategy]] = {}
_entry_points_loaded = False


def register_strategy(cls: StrategyT) -> StrategyT:
    """Class decorator that adds a strategy to the registry under its name.

    Raises:
        ConfigError: The name contains ``+`` or the family is not one of
            :data:`FAMILIES`.
    """
    if "+" in cls.name or not cls.name:
        raise ConfigError(f"strategy name {cls.name!r} must be non-empty without '+'")
    if cls.family not in FAMILIES:
        raise ConfigError(
            f"strategy {cls.name!r} has family {cls.family!r}; "
            f"use one of: {', '.join(FAMILIES)}"
        )
    _REGISTRY[cls.name] = cls
    return cls


def strategy_names() -> list[str]:
    """Return the names of all registered strategies, plugins included."""
    _load_entry_points()
    return sorted(_REGISTRY)


def strategy_class(name: str) -> type[Strategy]:
    """Return the registered strategy class called ``name``.

    Raises:
        ConfigError: No strategy has that name; the message lists the names.
    """
    _load_entry_points()
    cls = _REGISTRY.get(name)
    if cls is None:
        raise ConfigError(
            f"unknown strategy {name!r}; available: {', '.join(sorted(_REGISTRY))}"
        )
    return cls


StrategySpec = str | Mapping[str, Any] | Sequence[str | Mapping[str, Any]]


def create_strategy(spec: StrategySpec) -> StrategyChain:
    """Build a strategy chain from a spec.

    A spec is a name (``"base64"``), names joined by ``+`` and applied left
    to right (``"base64+roleplay"``), a mapping with ``name`` and optional
    ``params`` (``{"name": "many_shot", "params": {"shots": 4}}``), or a list
    of names and mappings applied left to right.

    Raises:
        ConfigError: A name is unknown or a parameter is invalid.
    """
    if isinstance(spec, str):
        parts: list[str | Mapping[str, Any]] = list(spec.split("+"))
    elif isinstance(spec, Mapping):
        parts = [spec]
    elif isinstance(spec, Sequence):
        parts = list(spec)
    else:
        raise ConfigError(
            f"invalid strategy spec {spec!r}; give a name such as 'base64', "
            "a mapping with 'name' and 'params', or a list of them"
        )
    return StrategyChain([_create_step(part) for part in parts])


def _create_step(part: str | Mapping[str, Any]) -> Strategy:
    params: Mapping[str, Any] = {}
    if isinstance(part, str):
        name = part.strip()
        if not name:
            raise ConfigError(
                "empty strategy name in spec; join names with a single '+'"
            )
    elif isinstance(part, Mapping):
        extra = set(part) - {"name", "params"}
        given_name, given_params = part.get("name"), part.get("params") or {}
        if (
            extra
            or not isinstance(given_name, str)
            or not isinstance(given_params, Mapping)
        ):
            raise ConfigError(
                f"invalid strategy spec {dict(part)!r}; use "
                "{'name': NAME, 'params': {PARAMETER: VALUE}}"
            )
        name, params = given_name, given_params
    else:
        raise ConfigError(
            f"invalid strategy spec part {part!r}; give a name or a mapping"
        )
    return strategy_class(name)(**params)


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        entry_point.load()
