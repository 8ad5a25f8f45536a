"""Single-turn attack strategies that rewrite a case, and decoders for the responses."""

from redline.attacks import (  # noqa: F401 - register strategies
    _augment,
    _encoding,
    _framing,
    _injection,
    _obfuscation,
    _template,
    _translation,
)
from redline.attacks._base import (
    ENTRY_POINT_GROUP,
    FAMILIES,
    AttackAttempt,
    Strategy,
    StrategyChain,
    StrategyParams,
    StrategySpec,
    Variant,
    create_strategy,
    register_strategy,
    strategy_class,
    strategy_names,
)
from redline.attacks._decode import (
    DECODER_KINDS,
    DecodedResponse,
    adecode_response,
    decode_response,
)
from redline.attacks._template import Template, TemplateError, load_templates
from redline.attacks._translation import HelperModel, TranslationStrategy

__all__ = [
    "DECODER_KINDS",
    "ENTRY_POINT_GROUP",
    "FAMILIES",
    "AttackAttempt",
    "DecodedResponse",
    "HelperModel",
    "Strategy",
    "StrategyChain",
    "StrategyParams",
    "StrategySpec",
    "Template",
    "TemplateError",
    "TranslationStrategy",
    "Variant",
    "adecode_response",
    "create_strategy",
    "decode_response",
    "load_templates",
    "register_strategy",
    "strategy_class",
    "strategy_names",
]
