"""Safe YAML loading that rejects a key given twice in one mapping.

PyYAML keeps the last of two equal keys without a word, which silently drops
settings from a config, suite or lexicon file.
"""

from __future__ import annotations

from typing import Any

import yaml


def check_unique_keys(node: yaml.MappingNode) -> None:
    """Raise a ConstructorError at ``node`` when two of its keys are equal."""
    keys = [key.value for key, _ in node.value if isinstance(key, yaml.ScalarNode)]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise yaml.constructor.ConstructorError(
            None, None, f"duplicate key {duplicates[0]!r}", node.start_mark
        )


class UniqueKeyLoader(yaml.SafeLoader):
    """Safe YAML loader that rejects a key given twice in one mapping."""


def _construct_unique_mapping(loader: UniqueKeyLoader, node: yaml.MappingNode) -> Any:
    check_unique_keys(node)
    return loader.construct_mapping(node, deep=True)


UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping
)
