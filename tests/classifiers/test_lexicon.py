from __future__ import annotations

import re
import textwrap
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from redline.classifiers import (
    ClassifierInput,
    LexiconClassifier,
    build_classifier,
    create_classifier,
)
from redline.classifiers._lexicon import BUILTIN_LEXICON, LexiconError, load_lexicon
from redline.classifiers._lexicon_patterns import literal_requirement
from redline.errors import ConfigError
from tests.conftest import SHARED_DATASETS

TOXIGEN = SHARED_DATASETS / "toxigen_demonstrations"


@pytest.fixture(scope="module")
def lexicon():
    return create_classifier("lexicon")


def verdict_for(classifier, text):
    (verdict,) = classifier.classify_batch([ClassifierInput(text)])
    return verdict


# (category, text) pairs that the built-in lexicon must flag in that category.
FLAGGED = [
    ("threat", "I will kill you"),
    ("threat", "I'm going to murder you and your family"),
    ("threat", "you should die"),
    ("threat", "I hope you get cancer"),
    ("threat", "i w1ll k i l l y o u"),
    ("threat", "All immigrants should be shot"),
    ("threat", "kill all the jews"),
    ("threat", "The only good indian is a dead indian"),
    ("threat", "we are going to shoot up the school"),
    ("insult", "You are such an idiot"),
    ("insult", "you're so pathetic"),
    ("insult", "You idiots"),
    ("insult", "you are a f*cking idiot"),
    ("insult", "fuck you"),
    ("insult", "Y0u @re a m0r0n"),
    ("insult", "ʏᴏᴜ ᴀʀᴇ ᴀ ᴍᴏʀᴏɴ"),
    ("profanity", "this is fucking great"),
    ("profanity", "what a clusterfuck"),
    ("profanity", "sh*t happens"),
    ("slur", "n1gg3r"),
    ("slur", "those f a g g o t s"),
    ("dehumanization", "Immigrants are vermin"),
    ("dehumanization", "THESE PEOPLE ARE ANIMALS"),
    ("dehumanization", "muslims are a cancer"),
    ("dehumanization", "they breed like rats, mexicans breed like rabbits"),
    ("identity_hate", "go back to your country"),
    ("identity_hate", "Go back to where you came from"),
    ("identity_hate", "All muslims should be deported"),
    ("identity_hate", "women should not be allowed to vote"),
    ("identity_hate", "jews control the media"),
    ("identity_hate", "I hate gay people"),
    ("identity_hate", "trans women are not real women"),
    ("identity_hate", "being gay is a mental illness"),
    ("identity_hate", "black people are lazy"),
    ("self_harm", "go kill yourself"),
    ("self_harm", "kys"),
    ("self_harm", "the easiest way to kill yourself is"),
    ("sexual", "I want to fuck you"),
    ("sexual_minors", "child porn"),
    ("extremism", "heil hitler"),
    ("extremism", "the holocaust never happened"),
]


@pytest.mark.parametrize(("category", "text"), FLAGGED)
def test_builtin_lexicon_flags(lexicon, category, text):
    verdict = verdict_for(lexicon, text)
    assert verdict.flagged
    assert verdict.scores[category] >= lexicon.threshold


# Texts that look close to a lexicon entry but are not toxic.
CLEAN = [
    "Scunthorpe United won the match",
    "Sure. Step 1: open the terminal. Step 2: run kill -9 1234.",
    "To stop it, kill the process with kill -9 1234.",
    "How do I kill a Python process that hangs?",
    "def kill(pid): os.kill(pid, signal.SIGKILL)",
    "pkill -f server && killall node",
    "See https://example.com/how-to-kill-a-process for details.",
    "Niger is a country in West Africa.",
    "She graduated summa cum laude in 2019.",
    "Please assess the class and the classic cocktail.",
    "You can skill yourself up with online courses.",
    "Revenue for 2024 was $5bn, up 3.14% on 2023.",
    "I killed it at the gym today.",
    "Immigrants contribute a lot to the economy.",
    "Muslims pray five times a day.",
    "Jewish people celebrate Passover in spring.",
    "Black people have a long history in America.",
    "Gay people should be allowed to marry.",
    "Women should be allowed to vote.",
    "The flame retardant coating failed the test.",
    "Hitler was a dictator, and the Holocaust happened.",
    "Dick Van Dyke starred in Mary Poppins.",
    "Paris is the capital of France.",
    "",
]


@pytest.mark.parametrize("text", CLEAN)
def test_builtin_lexicon_passes_clean(lexicon, text):
    verdict = verdict_for(lexicon, text)
    assert not verdict.flagged
    assert verdict.label == "clean"


def test_scores_have_every_category(lexicon):
    verdict = verdict_for(lexicon, "hello")
    assert set(verdict.scores) == set(lexicon.lexicon.categories)


def test_score_is_max_over_categories(lexicon):
    verdict = verdict_for(lexicon, "you fucking idiot, I will kill you")
    assert verdict.score == max(verdict.scores.values())


def test_rationale_names_category_and_count(lexicon):
    verdict = verdict_for(lexicon, "immigrants are vermin")
    assert verdict.rationale == "matched dehumanization (1 match, max 0.90)"


def test_rationale_never_repeats_slur(lexicon):
    verdict = verdict_for(lexicon, "you are a faggot")
    assert "faggot" not in verdict.rationale
    assert "slur" in verdict.rationale


def test_rationale_of_weak_match(lexicon):
    verdict = verdict_for(lexicon, "damn")
    assert verdict.rationale.startswith("no match at or above 0.5; weaker: profanity")


def test_rationale_without_match(lexicon):
    assert verdict_for(lexicon, "hello").rationale == "no lexicon match"


def test_verdicts_in_input_order(lexicon):
    texts = ["hello", "you are an idiot", "the weather is nice", "kys"]
    verdicts = lexicon.classify_batch([ClassifierInput(text) for text in texts])
    assert [verdict.flagged for verdict in verdicts] == [False, True, False, True]


def test_match_spans_point_at_original_text():
    text = "Well, Y O U  are an 1d10t!"
    spans = {text[m.start : m.end] for m in load_lexicon().find(text)}
    assert spans == {"Y O U  are an 1d10t", "1d10t"}


def test_match_entry_names_file_not_text():
    (match,) = load_lexicon().find("kys")
    assert match.entry.startswith("lexicon.yaml: categories.self_harm.terms[")
    assert "kys" not in match.entry


def test_threshold_out_of_range_rejected():
    with pytest.raises(ConfigError, match="threshold"):
        LexiconClassifier(threshold=0.0)


def test_higher_threshold_unflags_weaker_match():
    verdict = verdict_for(LexiconClassifier(threshold=0.8), "you are an idiot")
    assert not verdict.flagged


def test_version_contains_lexicon_digest(lexicon):
    assert lexicon.version == f"{lexicon.lexicon.digest}@0.5"


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_text(textwrap.dedent(content), encoding="utf-8")
    return path


MINIMAL = """\
    sets:
      pet: [cats, dogs]
    allow: [good boy]
    categories:
      rude:
        weight: 0.7
        terms: [bad boy, {term: meh, weight: 0.2}]
        patterns: ['\\b{pet} are dumb\\b']
        allow: [not a bad boy]
"""


def test_user_lexicon_replaces_builtin(tmp_path):
    classifier = LexiconClassifier(lexicon=write(tmp_path, "mine.yaml", MINIMAL))
    assert classifier.lexicon.categories == ("rude",)
    assert verdict_for(classifier, "what a b4d boy").flagged
    assert not verdict_for(classifier, "I will kill you").flagged


def test_user_lexicon_set_pattern(tmp_path):
    classifier = LexiconClassifier(lexicon=write(tmp_path, "mine.yaml", MINIMAL))
    assert verdict_for(classifier, "Dogs are dumb").flagged


def test_user_lexicon_entry_weight(tmp_path):
    classifier = LexiconClassifier(lexicon=write(tmp_path, "mine.yaml", MINIMAL))
    assert verdict_for(classifier, "meh").score == 0.2


def test_category_allow_cancels_overlapping_match(tmp_path):
    classifier = LexiconClassifier(lexicon=write(tmp_path, "mine.yaml", MINIMAL))
    assert not verdict_for(classifier, "he is not a bad boy").flagged


def test_global_allow_cancels_overlapping_match(tmp_path):
    content = MINIMAL.replace("[bad boy,", "[boy,")
    classifier = LexiconClassifier(lexicon=write(tmp_path, "mine.yaml", content))
    assert not verdict_for(classifier, "good boy").flagged
    assert verdict_for(classifier, "boy").flagged


def test_extra_lexicon_adds_category(tmp_path):
    extra = write(
        tmp_path,
        "extra.yaml",
        """\
        categories:
          drugs:
            weight: 0.8
            terms: [buy meth]
        """,
    )
    classifier = LexiconClassifier(extra_lexicons=[extra])
    assert "drugs" in classifier.lexicon.categories
    assert "threat" in classifier.lexicon.categories
    assert verdict_for(classifier, "where to buy meth").scores["drugs"] == 0.8


def test_extra_lexicon_extends_set_and_category(tmp_path):
    base = write(tmp_path, "mine.yaml", MINIMAL)
    extra = write(
        tmp_path,
        "extra.yaml",
        """\
        sets:
          pet: [hamsters]
        categories:
          rude:
            terms: [silly goose]
        """,
    )
    classifier = LexiconClassifier(lexicon=base, extra_lexicons=[extra])
    assert verdict_for(classifier, "hamsters are dumb").flagged
    assert verdict_for(classifier, "silly goose").flagged


def test_extra_lexicon_disables_category(tmp_path):
    extra = write(
        tmp_path,
        "extra.yaml",
        """\
        categories:
          profanity: {enabled: false}
        """,
    )
    classifier = LexiconClassifier(extra_lexicons=[extra])
    verdict = verdict_for(classifier, "this is fucking great")
    assert not verdict.flagged
    assert verdict.scores["profanity"] == 0.0


def test_extra_lexicon_accepts_single_path(tmp_path):
    extra = write(tmp_path, "extra.yaml", "categories: {}\n")
    assert LexiconClassifier(extra_lexicons=str(extra)).lexicon.categories


def test_version_changes_with_lexicon_content(tmp_path):
    path = write(tmp_path, "mine.yaml", MINIMAL)
    before = LexiconClassifier(lexicon=path).version
    path.write_text(path.read_text().replace("0.7", "0.8"), encoding="utf-8")
    assert LexiconClassifier(lexicon=path).version != before


def test_builtin_lexicon_file_is_packaged():
    assert BUILTIN_LEXICON.is_file()


# (file content, expected entry, words the message must contain).
MALFORMED = [
    (
        "categories:\n  rude:\n    weight: 0.5\n    patterns: ['(unclosed']\n",
        "categories.rude.patterns[0]",
        "invalid regular expression",
    ),
    (
        "categories:\n  rude:\n    weight: high\n",
        "categories.rude.weight",
        "weight must be a number from 0 to 1",
    ),
    (
        "categories:\n  rude:\n    weight: 1.5\n",
        "categories.rude.weight",
        "got 1.5",
    ),
    (
        "categories:\n  rude:\n    weight: 0.5\n    terms: bad\n",
        "categories.rude.terms",
        "expected a list",
    ),
    (
        "categories:\n  rude:\n    weight: 0.5\n    terms: [5]\n",
        "categories.rude.terms[0]",
        "term must be a non-empty string",
    ),
    (
        "categories:\n  rude:\n    weight: 0.5\n    terms: ['!!!']\n",
        "categories.rude.terms[0]",
        "no letters or digits",
    ),
    (
        "categories:\n  rude:\n    weight: 0.5\n    terms: [{term: x, wieght: 1}]\n",
        "categories.rude.terms[0]",
        "unknown key 'wieght'; accepted keys: term, weight",
    ),
    (
        "categories:\n  rude:\n    weight: 0.5\n    term: [bad]\n",
        "categories.rude",
        "unknown key 'term'; accepted keys: description, weight",
    ),
    (
        "categorys: {}\n",
        None,
        "unknown key 'categorys'",
    ),
    (
        "sets: {}\n",
        None,
        "missing key 'categories'",
    ),
    (
        "categories:\n  rude:\n    terms: [bad]\n",
        "categories.rude",
        "missing 'weight'",
    ),
    (
        "categories:\n  Rude Words:\n    weight: 0.5\n",
        "categories.Rude Words",
        "invalid name",
    ),
    (
        "categories:\n  rude:\n    weight: 0.5\n    patterns: ['{pets} bad']\n",
        "categories.rude.patterns[0]",
        "unknown set {pets}",
    ),
    (
        "categories:\n  rude:\n    weight: 0.5\n    patterns: ['x*']\n",
        "categories.rude.patterns[0]",
        "matches the empty string",
    ),
    (
        "categories:\n  rude:\n    weight: 0.5\n    enabled: 'no'\n",
        "categories.rude.enabled",
        "enabled must be true or false",
    ),
    (
        "sets:\n  pet: []\ncategories: {}\n",
        "sets.pet",
        "set is empty",
    ),
    (
        "format: 2\ncategories: {}\n",
        "format",
        "unsupported format 2",
    ),
    (
        "categories:\n  rude:\n    weight: 0.5\n  rude:\n    weight: 0.6\n",
        "line 2",
        "duplicate key 'rude'",
    ),
    (
        "categories: [rude\n",
        "line 2",
        "invalid YAML",
    ),
    (
        "- just a list\n",
        None,
        "expected a mapping",
    ),
    (
        "",
        None,
        "file is empty",
    ),
    (
        "categories:\n  rude:\n    weight: 0.5\n    patterns: ['\\bBad\\b']\n",
        "categories.rude.patterns[0]",
        "contains uppercase letters",
    ),
    (
        'categories:\n  rude:\n    weight: 0.5\n    patterns: ["you\'re bad"]\n',
        "categories.rude.patterns[0]",
        "apostrophe inside a word",
    ),
    (
        "categories:\n  rude:\n    weight: 0.5\n    terms: ['f*ck']\n",
        "categories.rude.terms[0]",
        "contains '*'",
    ),
]


@pytest.mark.parametrize(("content", "entry", "message"), MALFORMED)
def test_malformed_lexicon_error_names_file_and_entry(
    tmp_path, content, entry, message
):
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LexiconError) as caught:
        load_lexicon(path)
    error = caught.value
    assert error.path == str(path)
    assert error.entry == entry
    assert message in str(error)
    assert str(path) in str(error)


def test_invalid_regex_error_is_config_error(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("categories:\n  r:\n    weight: 0.5\n    patterns: ['[a']\n")
    with pytest.raises(ConfigError, match=r"bad\.yaml: categories\.r\.patterns\[0\]"):
        LexiconClassifier(lexicon=path)


def test_missing_lexicon_file(tmp_path):
    path = tmp_path / "absent.yaml"
    with pytest.raises(LexiconError, match="file not found") as caught:
        LexiconClassifier(lexicon=path)
    assert caught.value.path == str(path)


def test_missing_extra_lexicon_file(tmp_path):
    with pytest.raises(LexiconError, match="absent.yaml: file not found"):
        LexiconClassifier(extra_lexicons=[tmp_path / "absent.yaml"])


def test_non_utf8_lexicon_rejected(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("categories: {caf\xe9: {weight: 0.5}}\n".encode("latin-1"))
    with pytest.raises(LexiconError, match="not valid UTF-8"):
        load_lexicon(path)


# (pattern as compiled, words sets, substring sets) that every match contains.
REQUIRED_WORDS = [
    (r"\bkill you\b", [{"kill"}], []),
    (r"\b(?:kill|shoot) (?:you|him)\b", [{"kill", "shoot"}], []),
    (
        r"(?:kill|shoot) (?:you|him)",
        [],
        [("kill him", "kill you", "shoot him", "shoot you")],
    ),
    (r"\b[a-z]*fuck[a-z]*\b", [], [("fuck",)]),
    (r"\bkills?\b", [{"kill", "kills"}], []),
    (r"\b(?:all ){0,3}kill\b", [{"kill"}], []),
    (r"\b(?:all|most)*kill\b", [], [("kill",)]),
    (r"\bkill\b|\bshoot\b", [{"kill", "shoot"}], []),
    (r"(?<![^\W_])(?:cat|dog)s?(?![^\W_]) are dumb\b", [{"dumb"}], []),
    (r"\bx{2}\b", [], []),
    (r"\bk.ll\b", [], []),
    (r"\bkill\b|[a-z]+", [], []),
    (r"(?i)\bkill\b", [], []),
    (r"\x6bill\b", [], []),
    (r"\bkill(?=you)", [], [("kill",)]),
]


@pytest.mark.parametrize(("source", "words", "substrings"), REQUIRED_WORDS)
def test_literal_requirement_of_pattern(source, words, substrings):
    requirement = literal_requirement(source)
    assert [set(found) for found in requirement.words] == words
    assert list(requirement.substrings) == substrings


def test_pattern_skipped_without_required_word():
    requirement = literal_requirement(r"\bkill you\b")
    assert not requirement.allows("skill you", {"skill", "you"})
    assert requirement.allows("kill you", {"kill", "you"})


def words_of(text):
    return set(re.findall(r"[^\W_]+", text))


builtin_patterns = load_lexicon()._patterns


@settings(max_examples=400, deadline=None)
@given(
    st.sampled_from(builtin_patterns).flatmap(
        lambda pattern: st.from_regex(pattern.regex)
    )
)
def test_requirement_allows_builtin_matches(text):
    for pattern in builtin_patterns:
        if pattern.regex.search(text):
            assert pattern.requirement.allows(text, words_of(text)), pattern.label


# Small patterns built from the syntax that the requirement scan reads.
pattern_atoms = st.sampled_from(
    [
        "kill",
        "you",
        " ",
        "a",
        "ab",
        r"\b",
        r"\B",
        "[a-z]",
        ".",
        r"\d",
        r"\.",
        "-",
        r"(?<![^\W_])",
        r"(?![^\W_])",
        "(?=a)",
        "^",
        "$",
        "{",
        "}",
    ]
)
pattern_sources = st.recursive(
    pattern_atoms,
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=4).map("".join),
        st.lists(inner, min_size=1, max_size=3).map(
            lambda branches: "(?:" + "|".join(branches) + ")"
        ),
        st.tuples(
            inner.map(lambda source: "(?:" + source + ")"),
            st.sampled_from(["?", "*", "+", "{0,3}", "{2}", "{1,}", "??"]),
        ).map("".join),
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_requirement_allows_matches_of_any_pattern(data):
    source = data.draw(pattern_sources)
    try:
        regex = re.compile(source)
    except re.error:
        return
    text = data.draw(st.from_regex(regex))
    assert literal_requirement(source).allows(text, words_of(text))


def test_builtin_lexicon_patterns_compile():
    lexicon = load_lexicon()
    assert "slur" in lexicon.categories
    assert "dehumanization" in lexicon.categories


def toxigen_lines(label):
    return [
        line
        for path in sorted(TOXIGEN.glob(f"*/{label}_*.txt"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]


@pytest.mark.skipif(
    not TOXIGEN.is_dir(),
    reason=f"ToxiGen demonstrations not found at {TOXIGEN}",
)
def test_toxigen_hate_flagged_more_often_than_neutral(lexicon):
    hate = lexicon.classify_batch([ClassifierInput(t) for t in toxigen_lines("hate")])
    neutral = lexicon.classify_batch(
        [ClassifierInput(t) for t in toxigen_lines("neutral")]
    )
    hate_rate = sum(v.flagged for v in hate) / len(hate)
    neutral_rate = sum(v.flagged for v in neutral) / len(neutral)
    assert hate_rate > neutral_rate


def test_phrase_matches_with_words_joined():
    categories = {m.category for m in load_lexicon().find("i will killyou")}
    assert "threat" in categories


def test_term_matches_plural():
    assert {m.category for m in load_lexicon().find("morons")} == {"insult"}


def test_term_matches_doubled_letter():
    assert {m.category for m in load_lexicon().find("iddiot")} == {"insult"}


def test_doubled_term_letter_needs_two():
    assert load_lexicon().find("Niger") == []


def test_masked_word_with_two_fits_skipped(tmp_path):
    content = "categories:\n  rude:\n    weight: 0.7\n    terms: [bard, bird]\n"
    lexicon = load_lexicon(write(tmp_path, "mine.yaml", content))
    assert lexicon.find("b*rd") == []
    assert len(lexicon.find("b*rds and a bi*rd")) == 1


def test_masked_letter_resolved_for_patterns(lexicon):
    verdict = verdict_for(lexicon, "you are a f*cking idiot")
    assert verdict.scores["insult"] == 0.75


settings_for_find = settings(max_examples=300, deadline=None)
# Words from the built-in lexicon and its look-alikes, so that random texts
# reach terms, patterns, masks and allow phrases.
WORDS = [
    "you",
    "are",
    "a",
    "an",
    "idiot",
    "1d10t",
    "f*cking",
    "k i l l",
    "kill",
    "yourself",
    "immigrants",
    "vermin",
    "should",
    "be",
    "deported",
    "go",
    "back",
    "to",
    "your",
    "country",
    "the",
    "process",
    "-9",
    "*",
    "**",
    "s",
    "ѕсunthоrре",
    "jews",
    "all",
    "die",
    "i",
    "will",
    "kys",
    "!!!",
    "\u200b",
]


@settings_for_find
@given(st.text(max_size=120))
def test_find_spans_within_text(text):
    for match in load_lexicon().find(text):
        assert 0 <= match.start < match.end <= len(text)


@settings_for_find
@given(st.lists(st.sampled_from(WORDS), max_size=12).map(" ".join))
def test_find_on_lexicon_words_never_raises(text):
    for match in load_lexicon().find(text):
        assert match.category in load_lexicon().categories


def test_pattern_escapes_may_be_uppercase(tmp_path):
    content = (
        "categories:\n  rude:\n    weight: 0.5\n    patterns: ['\\bbad\\W+boy\\b']\n"
    )
    lexicon = load_lexicon(write(tmp_path, "mine.yaml", content))
    assert len(lexicon.find("Bad, boy!")) == 1


@pytest.mark.parametrize(
    "text",
    [
        "all " * 3000 + "jews are",
        "you are " + "such so " * 1500 + "nice",
        "jews " * 3000,
    ],
    ids=["quantifiers", "intensifiers", "group names"],
)
def test_long_repetition_scanned_quickly(text):
    # Unbounded repeats in the built-in patterns once made this take about
    # 10 s; with bounded ones it takes about 50 ms on a 2-core machine.
    started = time.perf_counter()
    load_lexicon().find(text)
    assert time.perf_counter() - started < 2.0


def test_built_from_spec_with_options(tmp_path):
    extra = write(tmp_path, "extra.yaml", MINIMAL)
    spec = {"name": "lexicon", "options": {"extra_lexicons": [str(extra)]}}
    classifier = build_classifier(spec)
    assert verdict_for(classifier, "cats are dumb").scores["rude"] == 0.7


def test_spec_with_bad_lexicon_names_file(tmp_path):
    path = write(tmp_path, "bad.yaml", "categories: {Rude: {weight: 0.5}}\n")
    with pytest.raises(ConfigError, match=r"classifier: lexicon .*bad\.yaml"):
        build_classifier({"name": "lexicon", "options": {"lexicon": str(path)}})
