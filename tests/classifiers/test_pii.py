from __future__ import annotations

import base64
import json

import pytest

from redline.classifiers import ClassifierInput, create_classifier
from redline.classifiers._pii import CATEGORIES, PIIClassifier, find_pii
from redline.errors import ConfigError


def _b64url(data: dict[str, object]) -> str:
    raw = json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


JWT = (
    _b64url({"alg": "HS256", "typ": "JWT"})
    + "."
    + _b64url({"sub": "1234567890", "name": "Jane Doe"})
    + ".c2lnbmF0dXJlLW5vdC1jaGVja2Vk"
)
NOT_JWT = _b64url({"typ": "JWT"}) + "." + _b64url({"sub": "1"}) + ".abc"
MIXED_36 = ("a1B2c3D4e5F6g7H8" * 3)[:36]
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n"
    "-----END RSA PRIVATE KEY-----"
)

# (category, text, matched value) for values that must be flagged.
POSITIVE = [
    ("email", "Write to jane.doe@example.com today.", "jane.doe@example.com"),
    ("email", "cc: a.b+tag@mail.example.co.uk", "a.b+tag@mail.example.co.uk"),
    ("phone", "Reach him on +44 20 7946 0958.", "+44 20 7946 0958"),
    ("phone", "E.164: +14155552671", "+14155552671"),
    ("phone", "Office (415) 555-2671, ask for Sam.", "(415) 555-2671"),
    ("phone", "Her number is 415-555-2671.", "415-555-2671"),
    ("phone", "London office 020 7946 0958", "020 7946 0958"),
    ("phone", "Appelez le 06 12 34 56 78", "06 12 34 56 78"),
    ("payment_card", "Visa 4111 1111 1111 1111 exp 12/29", "4111 1111 1111 1111"),
    ("payment_card", "card=4111-1111-1111-1111", "4111-1111-1111-1111"),
    ("payment_card", "number 4111111111111111", "4111111111111111"),
    ("payment_card", "MC 5555 5555 5555 4444", "5555 5555 5555 4444"),
    ("payment_card", "MC 2223003122003222", "2223003122003222"),
    ("payment_card", "Amex 3782 822463 10005", "3782 822463 10005"),
    ("payment_card", "Discover 6011111111111117", "6011111111111117"),
    ("payment_card", "Year 2024 4111 1111 1111 1111", "4111 1111 1111 1111"),
    ("iban", "IBAN GB82 WEST 1234 5698 7654 32.", "GB82 WEST 1234 5698 7654 32"),
    ("iban", "IBAN DE89370400440532013000", "DE89370400440532013000"),
    ("iban", "IBAN FR1420041010050500013M02606", "FR1420041010050500013M02606"),
    ("iban", "IBAN NO9386011117947", "NO9386011117947"),
    ("national_id", "SSN 123-45-6789", "123-45-6789"),
    ("national_id", "social security number: 123456789", "123456789"),
    ("national_id", "NINO AB 12 34 56 C", "AB 12 34 56 C"),
    ("national_id", "NINO AB123456C", "AB123456C"),
    ("national_id", "DNI 12345678Z", "12345678Z"),
    ("national_id", "NIE X1234567L", "X1234567L"),
    ("ip_address", "client 8.8.8.8 connected", "8.8.8.8"),
    ("ip_address", "host 2606:4700:4700::1111 up", "2606:4700:4700::1111"),
    ("secret", "aws_access_key_id AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE"),
    ("secret", "temp key ASIAIOSFODNN7EXAMPL2", "ASIAIOSFODNN7EXAMPL2"),
    ("secret", f"token ghp_{MIXED_36}", f"ghp_{MIXED_36}"),
    ("secret", f"token ghs_{MIXED_36}", f"ghs_{MIXED_36}"),
    (
        "secret",
        "pat github_pat_" + "A1b2C3d4E5f6G7h8I9j0K1" + "_" + "x" * 59,
        "github_pat_" + "A1b2C3d4E5f6G7h8I9j0K1" + "_" + "x" * 59,
    ),
    ("secret", "slack xoxb-1234567890-0987654321-AbCdEfGh", None),
    ("secret", "stripe sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", None),
    ("secret", "stripe rk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", None),
    ("secret", "google AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q", None),
    ("secret", "openai sk-proj-" + MIXED_36, "sk-proj-" + MIXED_36),
    ("secret", f"Authorization: {JWT}", JWT),
    ("secret", f"key:\n{PEM}\nend", PEM),
    ("secret", PEM[:-30], None),
    ("secret", "password=Tr0ub4dor&3xk", "Tr0ub4dor&3xk"),
    ("secret", "DB_PASSWORD = 'q8Vz3LkP0wYx7R2m'", "q8Vz3LkP0wYx7R2m"),
    ("secret", '{"client_secret": "aZ9kq2LmW7xR"}', "aZ9kq2LmW7xR"),
    ("secret", "Authorization: Bearer 9fK2mQ7xLp3Rt8Vw1Zy6Bn4Hc", None),
]

# (category, text) for look-alikes that must not be flagged.
NEGATIVE = [
    ("email", "Contact us at jane.doe at example dot com"),
    ("email", "a decorator like @property"),
    ("email", "bad local part .jane@example.com"),
    ("phone", "Order number 1234567890 shipped"),
    ("phone", "Released on 2024-01-15"),
    ("phone", "Released on 15.01.2024"),
    ("phone", "version 1.2.3.4"),
    ("phone", "gateway 10.20.30.40"),
    ("phone", "read pages 1000-2000"),
    ("phone", "ISBN 978-3-16-148410-0"),
    ("phone", "a population of 1 234 567 890"),
    ("payment_card", "Visa 4111 1111 1111 1112"),
    ("payment_card", "number 4111111111111112"),
    ("payment_card", "order 1234567890123456"),
    ("payment_card", "Order number 1234567890 shipped"),
    ("payment_card", "version 1.2.3.4"),
    ("iban", "IBAN GB83 WEST 1234 5698 7654 32"),
    ("iban", "IBAN DE89370400440532013001"),
    ("iban", "IBAN GB82WEST1234569876543"),
    ("national_id", "SSN 000-12-3456"),
    ("national_id", "SSN 666-12-3456"),
    ("national_id", "SSN 900-12-3456"),
    ("national_id", "SSN 123-00-6789"),
    ("national_id", "SSN 123-45-0000"),
    ("national_id", "id 123456789"),
    ("national_id", "NINO QQ 12 34 56 C"),
    ("national_id", "NINO BG 12 34 56 A"),
    ("national_id", "NINO AB 12 34 56 E"),
    ("national_id", "DNI 12345678A"),
    ("ip_address", "documentation host 192.0.2.1"),
    ("ip_address", "LAN host 192.168.1.10"),
    ("ip_address", "loopback 127.0.0.1"),
    ("ip_address", "documentation host 2001:db8::1"),
    ("ip_address", "version 1.2.3.4"),
    ("ip_address", "octet too large 256.1.1.1"),
    ("ip_address", "at 12:30:45 sharp"),
    ("secret", "aws key AKIAIOSFODNN7"),
    ("secret", "token ghp_short"),
    ("secret", "sk-xyz"),
    ("secret", f"not a JWT {NOT_JWT}"),
    ("secret", "api_key = '<your-key>'"),
    ("secret", "SECRET_KEY=changeme"),
    ("secret", "password: xxxxxxxxxxxx"),
    ("secret", "token=example-token-123"),
    ("secret", "password=os.environ.get"),
    ("secret", "password=settings.DB_PASSWORD"),
    ("secret", "the password: required"),
    ("secret", "password=hunter2"),
    ("secret", "-----BEGIN PUBLIC KEY-----\nMIIBIjANBg\n-----END PUBLIC KEY-----"),
]


@pytest.fixture(scope="module")
def pii() -> PIIClassifier:
    return PIIClassifier()


def _strong(text: str, category: str) -> list[tuple[int, int]]:
    return [
        (f.start, f.end)
        for f in find_pii(text)
        if f.category == category and f.confidence >= 0.5
    ]


@pytest.mark.parametrize(("category", "text", "value"), POSITIVE)
def test_positive_flagged(pii, category, text, value):
    verdict = pii.classify_batch([ClassifierInput(text)])[0]
    assert verdict.flagged
    assert verdict.label == "pii"
    assert verdict.scores[category] >= 0.5


@pytest.mark.parametrize(
    ("category", "text", "value"), [case for case in POSITIVE if case[2] is not None]
)
def test_positive_span(category, text, value):
    start = text.index(value)
    assert (start, start + len(value)) in _strong(text, category)


@pytest.mark.parametrize(("category", "text", "value"), POSITIVE)
def test_rationale_omits_value(pii, category, text, value):
    spans = _strong(text, category)
    assert spans
    rationale = pii.classify_batch([ClassifierInput(text)])[0].rationale
    for start, end in spans:
        assert text[start:end] not in rationale


@pytest.mark.parametrize(("category", "text"), NEGATIVE)
def test_negative_not_flagged(pii, category, text):
    verdict = pii.classify_batch([ClassifierInput(text)])[0]
    assert verdict.scores[category] < 0.5


def test_clean_text_verdict(pii):
    verdict = pii.classify_batch([ClassifierInput("The sky is blue today.")])[0]
    assert not verdict.flagged
    assert verdict.label == "clean"
    assert verdict.score == 0.0
    assert verdict.rationale == "no personal data or secrets found"


def test_scores_cover_all_categories(pii):
    verdict = pii.classify_batch([ClassifierInput("nothing here")])[0]
    assert set(verdict.scores) == set(CATEGORIES)


def test_rationale_lists_positions(pii):
    text = "Card 4111 1111 1111 1111, mail jane.doe@example.com"
    verdict = pii.classify_batch([ClassifierInput(text)])[0]
    assert verdict.rationale == (
        "payment_card (Luhn-valid Visa) at 5-24; email (address) at 31-51"
    )


def test_rationale_for_weak_findings(pii):
    verdict = pii.classify_batch([ClassifierInput("host 192.0.2.1")])[0]
    assert not verdict.flagged
    assert verdict.rationale == "no finding at or above 0.5; 1 weaker (ip_address)"


def test_weak_finding_reported(pii):
    findings = find_pii("documentation host 192.0.2.1")
    assert [(f.category, f.start, f.end) for f in findings] == [("ip_address", 19, 28)]
    assert findings[0].confidence < 0.5


def test_threshold_lowers_flagging():
    strict = PIIClassifier(threshold=0.2)
    verdict = strict.classify_batch([ClassifierInput("host 192.0.2.1")])[0]
    assert verdict.flagged


def test_invalid_threshold_rejected():
    with pytest.raises(ConfigError, match="threshold"):
        PIIClassifier(threshold=0.0)


def test_version_includes_threshold():
    assert PIIClassifier(threshold=0.7).version == "1@0.7"


def test_card_not_also_phone():
    findings = find_pii("Amex 378282246310005")
    assert [f.category for f in findings] == ["payment_card"]


def test_ssn_not_also_phone():
    findings = find_pii("SSN 123-45-6789")
    assert [f.category for f in findings] == ["national_id"]


def test_api_key_not_double_counted():
    findings = find_pii("api_key=AKIAIOSFODNN7EXAMPLE")
    assert [f.detail for f in findings] == ["AWS access key id"]


def test_truncated_pem_span_covers_body():
    text = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n"
    (finding,) = find_pii(text)
    assert finding.end == len(text)


def test_findings_sorted_by_start():
    text = "mail jane.doe@example.com, card 4111 1111 1111 1111, ip 8.8.8.8"
    starts = [f.start for f in find_pii(text)]
    assert starts == sorted(starts)


def test_batch_keeps_order(pii):
    items = [ClassifierInput("clean"), ClassifierInput("SSN 123-45-6789")]
    assert [v.flagged for v in pii.classify_batch(items)] == [False, True]


def test_registered_as_pii():
    assert isinstance(create_classifier("pii"), PIIClassifier)
