"""Rule-based detector of personal data and secrets in model outputs.

Each detector pairs a regular expression with a validation step (Luhn, ISO 13616
mod-97, national-id check letters, address ranges, JSON headers, Shannon
entropy) so that look-alike numbers and identifiers are rejected or scored low.
:func:`find_pii` returns the spans so that a guard can redact them. Findings
and verdict rationales hold offsets and short reasons, never the matched text.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from redline.classifiers._base import (
    Classifier,
    ClassifierInput,
    Verdict,
    check_threshold,
    register_classifier,
)

CATEGORIES = (
    "email",
    "phone",
    "payment_card",
    "iban",
    "national_id",
    "ip_address",
    "secret",
)

# Score for a match whose shape fits but which is often something else, such as
# a private IP address or a number grouped like thousands. It stays below the
# default threshold so the span is reported to callers but not flagged.
WEAK = 0.3

_MAX_RATIONALE_FINDINGS = 10


@dataclass(frozen=True, slots=True)
class Finding:
    """One span of personal data or a secret in a text.

    Attributes:
        category: One of :data:`CATEGORIES`.
        start: Offset of the first character of the span.
        end: Offset one past the last character, as in ``text[start:end]``.
        confidence: Likelihood in [0, 1] that the span is real personal data
            or a secret rather than a look-alike.
        detail: Short reason, such as ``Luhn-valid Visa``. It never contains
            the span's text.
    """

    category: str
    start: int
    end: int
    confidence: float
    detail: str


# --- e-mail -----------------------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9._%+-]{1,64}"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}"
    r"(?![\w-])"
)


def _find_emails(text: str) -> Iterator[Finding]:
    for match in _EMAIL.finditer(text):
        local = match.group().split("@", 1)[0]
        if local.startswith(".") or local.endswith(".") or ".." in local:
            continue
        yield Finding("email", match.start(), match.end(), 0.9, "address")


# --- phone numbers ----------------------------------------------------------

_PHONE = re.compile(
    r"(?<![\w+.\-/@])(?<!\d[ .-])"
    r"(?:"
    # International: "+", a country code, then digit groups with or without
    # separators, such as +44 20 7946 0958 or +14155552671.
    r"\+\d{1,3}(?:[ .-]?(?:\(\d{1,5}\)|\d{1,5})){1,6}"
    r"|"
    # National: an area code in brackets or a group of 2-5 digits, then at
    # least one separated group, such as (415) 555-2671 or 020 7946 0958.
    r"(?:\(\d{2,5}\)[ .-]?|\d{2,5}[ .-])\d{2,5}(?:[ .-]\d{2,5}){0,4}"
    r")"
    r"(?![\w@/]|[.-]\d)"
)
_PHONE_SEPARATORS = re.compile(r"[ .\-()]+")
_DATE_LIKE = re.compile(r"\d{4}[-. ]\d{1,2}[-. ]\d{1,2}|\d{1,2}[-. ]\d{1,2}[-. ]\d{4}")
_IPV4_LIKE = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_NANP = re.compile(r"\(?\d{3}\)?[ .-]?\d{3}[ .-]\d{4}")
_SSN_SHAPE = re.compile(r"\d{3}([ -])\d{2}\1\d{4}")
_PHONE_CONTEXT = re.compile(
    r"(?i)(?:phone|tel|call|mobile|cell|fax|whatsapp|sms|contact)\W{0,3}\S{0,10}\s*$"
)


def _find_phones(text: str) -> Iterator[Finding]:
    return _scan(_PHONE, text, _judge_phone)


def _judge_phone(match: re.Match[str]) -> Finding | None:
    confidence, detail = _phone_confidence(match.group())
    if confidence <= 0.0:
        return None
    before = match.string[max(0, match.start() - 24) : match.start()]
    if _PHONE_CONTEXT.search(before):
        confidence = min(0.9, confidence + 0.3)
        detail += ", phone keyword before it"
    return Finding("phone", match.start(), match.end(), confidence, detail)


def _phone_confidence(candidate: str) -> tuple[float, str]:
    """Score a phone-shaped match, or return 0.0 to reject it."""
    groups = [group for group in _PHONE_SEPARATORS.split(candidate) if group]
    digits = "".join(group.lstrip("+") for group in groups)
    if not 8 <= len(digits) <= 15:
        return 0.0, ""
    if candidate.startswith("+"):
        return 0.8, "E.164 international format"
    if _DATE_LIKE.fullmatch(candidate) or _IPV4_LIKE.fullmatch(candidate):
        return 0.0, ""
    if "(" in candidate or _NANP.fullmatch(candidate):
        return 0.75, "national format with area code"
    # Groups that are all four digits look like card or account chunks, a short
    # group followed by three-digit groups looks like a grouped amount, and a
    # 3-2-4 grouping is the shape of a US SSN.
    chunk_like = all(len(group) == 4 for group in groups[:-1])
    thousands_like = len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])
    ssn_like = _SSN_SHAPE.fullmatch(candidate) is not None
    if len(groups) >= 3 and not (chunk_like or thousands_like or ssn_like):
        return 0.65, "national format"
    return WEAK, "national format, ambiguous grouping"


# --- payment cards ----------------------------------------------------------

# Patterns that start with a digit and check the preceding character with a
# lookbehind after it scan faster on CPython 3.11 than a leading lookbehind.
_CARD = re.compile(
    r"\d(?<![\w-]\d)"
    r"(?:\d{3}([ -]?)\d{4}\1\d{4}\1\d{4}(?:\1\d{3})?"  # 16 or 19 digits in fours
    r"|\d{3}([ -]?)\d{6}\2\d{4,5}"  # 14 or 15 digits as 4-6-4 or 4-6-5
    r"|\d{12,18})"
    r"(?![\w-])"
)


def _find_cards(text: str) -> Iterator[Finding]:
    return _scan(_CARD, text, _judge_card)


def _judge_card(match: re.Match[str]) -> Finding | None:
    candidate = match.group()
    digits = candidate.replace(" ", "").replace("-", "")
    brand = _card_brand(digits) if _luhn_valid(digits) else None
    if brand is None:
        return None
    confidence = 0.85 if candidate == digits else 0.95
    detail = f"Luhn-valid {brand}"
    return Finding("payment_card", match.start(), match.end(), confidence, detail)


def _luhn_valid(digits: str) -> bool:
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = ord(char) - 48
        if position % 2:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _card_brand(digits: str) -> str | None:
    """Return the card brand for the number's issuer prefix (IIN) and length."""
    length = len(digits)
    prefix2, prefix3 = int(digits[:2]), int(digits[:3])
    prefix4, prefix6 = int(digits[:4]), int(digits[:6])
    if digits[0] == "4" and length in (13, 16, 19):
        return "Visa"
    if length == 16 and (51 <= prefix2 <= 55 or 2221 <= prefix4 <= 2720):
        return "Mastercard"
    if length == 15 and prefix2 in (34, 37):
        return "American Express"
    discover = (
        prefix4 == 6011
        or 644 <= prefix3 <= 649
        or prefix2 == 65
        or 622126 <= prefix6 <= 622925
    )
    if 16 <= length <= 19 and discover:
        return "Discover"
    return None


# --- IBAN -------------------------------------------------------------------

_IBAN = re.compile(
    r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?"
    r"(?![A-Za-z0-9])"
)

# Total IBAN length (ISO 13616) for common countries.
# NOTE: tests check only the GB, DE, FR and NO entries against real examples.
# Countries missing here are still accepted on the mod-97 check alone,
# with a lower score.
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AT": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20, "ES": 24,
    "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GI": 23, "GL": 18, "GR": 27,
    "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26, "IT": 27, "JO": 30,
    "KW": 30, "KZ": 20, "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
    "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MT": 31, "MU": 30, "NL": 18,
    "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24,
    "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TN": 24,
    "TR": 26, "UA": 29, "VG": 24, "XK": 20,
}  # fmt: skip


def _find_ibans(text: str) -> Iterator[Finding]:
    return _scan(_IBAN, text, _judge_iban)


def _judge_iban(match: re.Match[str]) -> Finding | None:
    compact = match.group().replace(" ", "")
    expected_length = _IBAN_LENGTHS.get(compact[:2])
    if expected_length is not None and len(compact) != expected_length:
        return None
    if not 15 <= len(compact) <= 34 or not _iban_checksum_valid(compact):
        return None
    if expected_length is None:
        confidence, detail = 0.6, "mod-97 valid, country length unknown"
    else:
        confidence, detail = 0.95, f"mod-97 valid, {compact[:2]} length"
    return Finding("iban", match.start(), match.end(), confidence, detail)


def _iban_checksum_valid(compact: str) -> bool:
    """Check ISO 13616 mod-97: move the first four characters to the end,
    replace letters by 10-35, and the number modulo 97 must be 1."""
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(char, 36)) for char in rearranged)) % 97 == 1


# --- national identity numbers ----------------------------------------------

_SSN = re.compile(r"(\d(?<![\w-]\d)\d{2})([- ]?)(\d{2})\2(\d{4})(?![\w-])")
_SSN_CONTEXT = re.compile(r"(?i)(?:ssn|social security)\W{0,20}\S{0,10}\s*$")

# UK National Insurance number: two prefix letters (D, F, I, Q, U and V are
# never used, nor O as the second letter), six digits and a suffix A-D.
_NINO = re.compile(
    r"(?<![A-Za-z0-9])([A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]) ?\d{2} ?\d{2} ?\d{2} ?[A-D]"
    r"(?![A-Za-z0-9])"
)
_NINO_UNUSED_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})

# Spanish DNI (8 digits) and NIE (X, Y or Z and 7 digits), each with a check
# letter indexed by the number modulo 23.
_DNI = re.compile(
    r"(?:\d(?<![A-Za-z0-9]\d)\d{7}|[XYZ](?<![A-Za-z0-9][XYZ])\d{7})-?[A-Z]"
    r"(?![A-Za-z0-9])"
)
_DNI_LETTERS = "TRWAGMYFPDXBNJZSQVHLCKE"


def _find_ninos(text: str) -> Iterator[Finding]:
    for match in _NINO.finditer(text):
        if match.group(1) not in _NINO_UNUSED_PREFIXES:
            yield Finding("national_id", match.start(), match.end(), 0.85, "UK NINO")


def _find_dnis(text: str) -> Iterator[Finding]:
    for match in _DNI.finditer(text):
        compact = match.group().replace("-", "")
        number = compact[:-1].replace("X", "0").replace("Y", "1").replace("Z", "2")
        if _DNI_LETTERS[int(number) % 23] == compact[-1]:
            kind = "NIE" if compact[0] in "XYZ" else "DNI"
            detail = f"Spanish {kind} with valid check letter"
            yield Finding("national_id", match.start(), match.end(), 0.85, detail)


def _find_ssns(text: str) -> Iterator[Finding]:
    for match in _SSN.finditer(text):
        area, separator, group, serial = match.groups()
        if area in ("000", "666") or area[0] == "9":
            continue
        if group == "00" or serial == "0000":
            continue
        if separator == "-":
            confidence, detail = 0.85, "US SSN"
        elif separator == " ":
            confidence, detail = 0.6, "US SSN, space-separated"
        else:
            # Nine bare digits count as an SSN only after an SSN keyword.
            before = text[max(0, match.start() - 40) : match.start()]
            if not _SSN_CONTEXT.search(before):
                continue
            confidence, detail = 0.8, "US SSN, SSN keyword before it"
        yield Finding("national_id", match.start(), match.end(), confidence, detail)


# --- IP addresses -----------------------------------------------------------

_IPV4 = re.compile(r"\d(?<![\w.]\d)\d{0,2}(?:\.\d{1,3}){3}(?!\w|\.\d)")
# IPv6 candidates must start with a hex digit, so "::1"-style forms are missed.
_IPV6 = re.compile(
    r"[0-9A-Fa-f](?<![\w:.][0-9A-Fa-f])[0-9A-Fa-f]{0,3}(?::[0-9A-Fa-f]{0,4}){2,7}"
    r"(?![\w:])"
)
_VERSION_CONTEXT = re.compile(
    r"(?i)(?:version|release|build|firmware|ver\.?)\s*[:=]?\s*$"
)


def _find_ipv4_addresses(text: str) -> Iterator[Finding]:
    for match in _IPV4.finditer(text):
        octets = match.group().split(".")
        if any(int(octet) > 255 or octet != str(int(octet)) for octet in octets):
            continue  # an octet above 255 or with a leading zero
        before = text[max(0, match.start() - 20) : match.start()]
        if _VERSION_CONTEXT.search(before):
            yield Finding(
                "ip_address", match.start(), match.end(), 0.1, "IPv4, version-like"
            )
            continue
        yield _ip_finding(ipaddress.IPv4Address(match.group()), match)


def _find_ipv6_addresses(text: str) -> Iterator[Finding]:
    for match in _IPV6.finditer(text):
        candidate = match.group()
        if sum(1 for group in candidate.split(":") if group) < 3:
            continue
        try:
            address = ipaddress.IPv6Address(candidate)
        except ValueError:
            continue
        yield _ip_finding(address, match)


def _ip_finding(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, match: re.Match[str]
) -> Finding:
    """Score public addresses above the threshold and reserved ranges below it."""
    family = f"IPv{address.version}"
    if address.is_global:
        return Finding("ip_address", match.start(), match.end(), 0.7, family)
    detail = f"{family}, private, loopback, documentation or reserved range"
    return Finding("ip_address", match.start(), match.end(), WEAK, detail)


# --- API keys and other secrets ---------------------------------------------

# Vendor formats as (markers, pattern, confidence, detail). A pattern runs only
# when the text contains one of its literal markers, and it is anchored so that
# it does not start or end inside a longer token.
_VENDOR_SECRETS = [
    (
        ("AKIA", "ASIA"),
        re.compile(r"(?<![A-Za-z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])"),
        0.9,
        "AWS access key id",
    ),
    (
        ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
        re.compile(r"(?<![\w-])gh[pousr]_[A-Za-z0-9]{36}(?![\w-])"),
        0.95,
        "GitHub token",
    ),
    (
        ("github_pat_",),
        re.compile(r"(?<![\w-])github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}(?![\w-])"),
        0.95,
        "GitHub fine-grained token",
    ),
    (
        ("xox",),
        re.compile(r"(?<![\w-])xox[baprs]-[0-9A-Za-z]+(?:-[0-9A-Za-z]+)+(?![\w-])"),
        0.9,
        "Slack token",
    ),
    (
        ("k_live_",),
        re.compile(r"(?<![\w-])[rs]k_live_[0-9A-Za-z]{24,99}(?![\w-])"),
        0.95,
        "Stripe live key",
    ),
    (
        ("AIza",),
        re.compile(r"(?<![\w-])AIza[0-9A-Za-z_-]{35}(?![\w-])"),
        0.9,
        "Google API key",
    ),
]
_OPENAI_KEY = re.compile(r"(?<![\w-])sk-[A-Za-z0-9_-]{32,300}(?![\w-])")
_JWT = re.compile(
    r"(?<![\w-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*(?![\w-])"
)
_PEM_BEGIN = re.compile(r"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----")
_PEM_BODY = re.compile(r"[A-Za-z0-9+/=\s:,-]*")
_BEARER = re.compile(r"(?<![\w-])[Bb]earer +([A-Za-z0-9._~+/-]{20,}=*)")

# A credential-like key (password, db_password, SECRET_KEY, api-key, token...)
# assigned with =, :, := or => to a value, optionally quoted. The match starts
# at the keyword because only the value's span is reported.
_ASSIGNMENT = re.compile(
    r"(?i)(?:passw(?:or)?d|pwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key)"
    r"(?:[_.-][A-Za-z0-9]+){0,3}"
    r"[\"']?\s*(?::=|=>|[:=])\s*[\"']?"
    r"(?P<value>[^\s\"'`,;]{4,200})"
)
_PLACEHOLDER_MARKERS = (
    "<", ">", "${", "{{", "%s", "...", "xxx", "***", "your", "example", "sample",
    "changeme", "change_me", "placeholder", "redacted", "dummy", "todo", "fixme",
    "none", "null", "password", "secret", "token", "environ", "getenv", "env.",
)  # fmt: skip
_ASSIGNMENT_KEYWORDS = ("pass", "pwd", "secret", "token", "key")
_IDENTIFIER_PATH = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_MIN_ASSIGNED_SECRET_LENGTH = 8
# Bits per character. Dictionary words and simple values such as "password1"
# fall below it; random keys of 8 or more characters are usually above 3.3.
_ENTROPY_THRESHOLD = 3.0


def _find_secrets(text: str) -> Iterator[Finding]:
    for markers, pattern, confidence, detail in _VENDOR_SECRETS:
        if any(marker in text for marker in markers):
            for match in pattern.finditer(text):
                yield Finding("secret", match.start(), match.end(), confidence, detail)
    if "sk-" in text:
        yield from _find_openai_keys(text)
    if "eyJ" in text:
        yield from _find_jwts(text)
    if "-----BEGIN" in text:
        yield from _find_pem_keys(text)
    if "earer" in text:
        yield from _find_bearer_tokens(text)
    lowered = text.lower()
    if any(keyword in lowered for keyword in _ASSIGNMENT_KEYWORDS):
        yield from _find_assigned_secrets(text)


def _find_openai_keys(text: str) -> Iterator[Finding]:
    for match in _OPENAI_KEY.finditer(text):
        key = match.group()[3:]
        if _has_letter_and_digit(key) and _shannon_entropy(key) >= 3.5:
            yield Finding(
                "secret", match.start(), match.end(), 0.85, "OpenAI-style API key"
            )


def _find_jwts(text: str) -> Iterator[Finding]:
    for match in _JWT.finditer(text):
        header = _decode_base64url_json(match.group().split(".", 1)[0])
        if isinstance(header, dict) and "alg" in header:
            yield Finding(
                "secret", match.start(), match.end(), 0.9, "JWT with JSON header"
            )


def _decode_base64url_json(part: str) -> object:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        return json.loads(raw)
    except ValueError:  # covers binascii.Error, UnicodeDecodeError, JSONDecodeError
        return None


def _find_pem_keys(text: str) -> Iterator[Finding]:
    for match in _PEM_BEGIN.finditer(text):
        end_marker = f"-----END {match.group(1)}PRIVATE KEY-----"
        end = text.find(end_marker, match.end())
        if end >= 0:
            yield Finding(
                "secret",
                match.start(),
                end + len(end_marker),
                0.99,
                "PEM private key block",
            )
            continue
        # A truncated block still leaks key material, so its span runs to the
        # end of the base64 body that follows the header.
        body = _PEM_BODY.match(text, match.end())
        body_end = body.end() if body else match.end()
        yield Finding(
            "secret", match.start(), body_end, 0.95, "PEM private key, no END line"
        )


def _find_assigned_secrets(text: str) -> Iterator[Finding]:
    for match in _ASSIGNMENT.finditer(text):
        value = match.group("value")
        start, end = match.span("value")
        lowered = value.lower()
        if any(marker in lowered for marker in _PLACEHOLDER_MARKERS):
            continue
        if "(" in value or _IDENTIFIER_PATH.fullmatch(value) or len(set(value)) < 3:
            continue
        entropy = _shannon_entropy(value)
        if len(value) >= _MIN_ASSIGNED_SECRET_LENGTH and entropy >= _ENTROPY_THRESHOLD:
            detail = f"high-entropy value ({entropy:.1f} bits/char) of a credential key"
            yield Finding("secret", start, end, 0.75, detail)
        elif not value.isalpha():
            detail = "low-entropy value of a credential key"
            yield Finding("secret", start, end, WEAK, detail)


def _find_bearer_tokens(text: str) -> Iterator[Finding]:
    for match in _BEARER.finditer(text):
        token = match.group(1)
        if _shannon_entropy(token) >= _ENTROPY_THRESHOLD:
            start, end = match.span(1)
            yield Finding("secret", start, end, 0.75, "high-entropy bearer token")


def _has_letter_and_digit(value: str) -> bool:
    return any(char.isdigit() for char in value) and any(
        char.isalpha() for char in value
    )


def _shannon_entropy(value: str) -> float:
    """Return the Shannon entropy of the value's characters in bits per character."""
    length = len(value)
    return -sum(
        count / length * math.log2(count / length) for count in Counter(value).values()
    )


# --- combining findings -----------------------------------------------------

_DIGIT = re.compile(r"\d")
# Phone, card, SSN and DNI numbers all contain a run of at least 7 digits with
# optional separators, so texts without one skip those four scans.
_DIGIT_RUN = re.compile(r"\d[\d .()-]{5,}\d")
_Detector = Callable[[str], Iterator[Finding]]
_DIGIT_RUN_DETECTORS: tuple[_Detector, ...] = (
    _find_phones,
    _find_cards,
    _find_ssns,
    _find_dnis,
)


def find_pii(text: str) -> list[Finding]:
    """Find personal data and secrets in a text.

    A finding that lies wholly inside a finding with a higher or equal
    confidence is dropped, so a 13-15 digit card number is not also reported
    as a phone number. Partly overlapping findings are all kept.

    Returns:
        Findings sorted by start offset, including weak ones below any
        threshold.
    """
    findings: list[Finding] = []
    if "@" in text:
        findings.extend(_find_emails(text))
    if _DIGIT.search(text):
        if _DIGIT_RUN.search(text):
            for detector in _DIGIT_RUN_DETECTORS:
                findings.extend(detector(text))
        findings.extend(_find_ibans(text))
        findings.extend(_find_ninos(text))
        findings.extend(_find_ipv4_addresses(text))
    if "::" in text or text.count(":") >= 7:
        findings.extend(_find_ipv6_addresses(text))
    findings.extend(_find_secrets(text))
    return _drop_contained(findings)


def _drop_contained(findings: list[Finding]) -> list[Finding]:
    """Drop findings inside a stronger one, comparing only overlapping groups."""
    kept: list[Finding] = []
    group: list[Finding] = []
    group_end = -1
    for finding in sorted(findings, key=lambda f: (f.start, -f.end)):
        if group and finding.start >= group_end:
            kept.extend(_drop_contained_in_group(group))
            group = []
        group.append(finding)
        group_end = max(group_end, finding.end)
    kept.extend(_drop_contained_in_group(group))
    return sorted(kept, key=lambda f: (f.start, f.end))


def _drop_contained_in_group(group: list[Finding]) -> list[Finding]:
    if len(group) == 1:
        return group
    kept: list[Finding] = []
    for finding in sorted(group, key=lambda f: (-f.confidence, f.start - f.end)):
        if not any(
            other.start <= finding.start and finding.end <= other.end for other in kept
        ):
            kept.append(finding)
    return kept


def _scan(
    pattern: re.Pattern[str],
    text: str,
    judge: Callable[[re.Match[str]], Finding | None],
) -> Iterator[Finding]:
    """Yield the findings that ``judge`` accepts among the pattern's matches.

    Unlike :meth:`re.Pattern.finditer`, a match that ``judge`` rejects is
    retried one character later, so it does not hide a valid match that
    starts inside it, such as a card number after an unrelated digit group.
    """
    position = 0
    while match := pattern.search(text, position):
        finding = judge(match)
        if finding is None:
            position = match.start() + 1
        else:
            yield finding
            position = match.end()


@register_classifier
class PIIClassifier(Classifier):
    """Detector of personal data and secrets built from validated patterns.

    It finds e-mail addresses, phone numbers, Luhn-valid payment cards, IBANs
    with a valid mod-97 check, US SSNs, UK NINOs, Spanish DNI/NIE numbers,
    public IP addresses, vendor API keys, JWTs, PEM private keys and
    high-entropy values assigned to credential keys. Its score is the highest
    finding confidence and ``scores`` contains the highest per category.
    """

    name = "pii"
    kind = "content"
    description = (
        "Rule-based detector of personal data and secrets "
        "(e-mail, phone, cards, IBAN, national ids, IPs, API keys)"
    )

    def __init__(self, threshold: float = 0.5):
        self.threshold = check_threshold(
            threshold, "pii", include_low=False, include_high=True
        )

    @property
    def version(self) -> str:  # type: ignore[override]
        return f"1@{self.threshold:g}"

    def classify_batch(self, items: Sequence[ClassifierInput]) -> list[Verdict]:
        return [self._verdict(find_pii(item.text)) for item in items]

    def _verdict(self, findings: list[Finding]) -> Verdict:
        scores = dict.fromkeys(CATEGORIES, 0.0)
        for finding in findings:
            scores[finding.category] = max(scores[finding.category], finding.confidence)
        score = max(scores.values())
        flagged = score >= self.threshold
        return Verdict(
            classifier=self.name,
            label="pii" if flagged else "clean",
            flagged=flagged,
            score=score,
            scores=scores,
            rationale=self._rationale(findings),
        )

    def _rationale(self, findings: list[Finding]) -> str:
        strong = [f for f in findings if f.confidence >= self.threshold]
        if not strong:
            if not findings:
                return "no personal data or secrets found"
            categories = sorted({f.category for f in findings})
            return (
                f"no finding at or above {self.threshold:g}; "
                f"{len(findings)} weaker ({', '.join(categories)})"
            )
        parts = [
            f"{f.category} ({f.detail}) at {f.start}-{f.end}"
            for f in strong[:_MAX_RATIONALE_FINDINGS]
        ]
        if len(strong) > _MAX_RATIONALE_FINDINGS:
            parts.append(f"and {len(strong) - _MAX_RATIONALE_FINDINGS} more")
        return "; ".join(parts)
