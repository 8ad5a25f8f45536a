"""Test cases, suites and the hazard taxonomy they are labelled with."""

from __future__ import annotations

import enum
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


class Expected(str, enum.Enum):
    """Behaviour a safe system shows on a case."""

    REFUSE = "refuse"
    """A harmful request that a safe system declines or safely deflects."""
    COMPLY = "comply"
    """A benign request, however risky it looks, that must be answered."""


class Severity(str, enum.Enum):
    """Harm if a system fails the case, from least to most serious."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


@dataclass(frozen=True, slots=True)
class Hazard:
    """One hazard category of the taxonomy.

    Attributes:
        slug: Identifier used in suite files, such as ``violent_crimes``.
        code: The Llama Guard 3 code, such as ``S1``, so judges that answer
            with codes map onto the same categories.
        title: Human-readable name.
    """

    slug: str
    code: str
    title: str


# The 14 categories of the MLCommons hazard taxonomy as used by Llama Guard 3
# (Llama Guard 3 model card, 2024), with its S-codes.
HAZARDS: tuple[Hazard, ...] = (
    Hazard("violent_crimes", "S1", "Violent crimes"),
    Hazard("non_violent_crimes", "S2", "Non-violent crimes"),
    Hazard("sex_related_crimes", "S3", "Sex-related crimes"),
    Hazard("child_sexual_exploitation", "S4", "Child sexual exploitation"),
    Hazard("defamation", "S5", "Defamation"),
    Hazard("specialized_advice", "S6", "Specialized advice"),
    Hazard("privacy", "S7", "Privacy"),
    Hazard("intellectual_property", "S8", "Intellectual property"),
    Hazard("indiscriminate_weapons", "S9", "Indiscriminate weapons (CBRNE)"),
    Hazard("hate", "S10", "Hate"),
    Hazard("suicide_self_harm", "S11", "Suicide and self-harm"),
    Hazard("sexual_content", "S12", "Sexual content"),
    Hazard("elections", "S13", "Elections"),
    Hazard("code_interpreter_abuse", "S14", "Code interpreter abuse"),
)
HAZARDS_BY_SLUG: Mapping[str, Hazard] = {h.slug: h for h in HAZARDS}
HAZARDS_BY_CODE: Mapping[str, Hazard] = {h.code: h for h in HAZARDS}


@dataclass(frozen=True, slots=True)
class Case:
    """One test case: a request sent to the target and the behaviour expected.

    Attributes:
        id: Identifier, unique within its suite.
        messages: Chat messages sent to the target, each a mapping with
            ``role`` and ``content``. A case given as a plain prompt contains
            one user message.
        category: Hazard slug from :data:`HAZARDS`. A benign case carries the
            category it superficially resembles.
        expected: Behaviour a safe system shows.
        severity: Harm if a system fails the case.
        tags: Free-form labels for filtering and reporting.
        source: Provenance of the case text.
    """

    id: str
    messages: tuple[Mapping[str, str], ...]
    category: str
    expected: Expected
    severity: Severity
    tags: tuple[str, ...] = ()
    source: str = ""

    @property
    def prompt(self) -> str:
        """Content of the last user message."""
        for message in reversed(self.messages):
            if message["role"] == "user":
                return message["content"]
        return self.messages[-1]["content"]

    def canonical(self) -> dict[str, Any]:
        """Return the case as plain data with a fixed key order, for hashing and storage."""
        return {
            "id": self.id,
            "messages": [dict(m) for m in self.messages],
            "category": self.category,
            "expected": self.expected.value,
            "severity": self.severity.value,
            "tags": sorted(self.tags),
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class SuiteInfo:
    """Identity of a suite, known after one validating pass over its cases.

    Attributes:
        name: Suite name.
        version: Version string given by the suite's author.
        fingerprint: sha256 hex digest over the canonical JSON of every case,
            in file order, so any change to any case changes it.
        case_count: Number of cases.
        path: File the suite was read from.
        description: Free text from the suite file.
    """

    name: str
    version: str
    fingerprint: str
    case_count: int
    path: str
    description: str = ""
    categories: tuple[str, ...] = field(default=())


class Suite:
    """A validated suite whose cases stream from disk on each iteration.

    Cases are re-read on every call of :meth:`cases`, so memory does not grow
    with the number of cases in JSONL suites.
    """

    def __init__(self, info: SuiteInfo, reader: Any):
        self.info = info
        self._reader = reader

    def cases(self) -> Iterator[Case]:
        """Yield the cases in file order."""
        return self._reader()

    def __repr__(self) -> str:
        return (
            f"Suite(name={self.info.name!r}, version={self.info.version!r}, "
            f"cases={self.info.case_count})"
        )
