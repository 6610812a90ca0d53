"""The classifier narrows an ask's words once to the words its tests can find, then tests the small set.

That is only right while every word list and phrase those tests read is inside the narrowing set; these
tests fail when a list is added or grown without it (the answers would silently change).
"""

from __future__ import annotations

import pytest

from litellm_slm_router.core.classifier import critical, score, score_words
from litellm_slm_router.core.classifier import risk_words as rw
from litellm_slm_router.core.classifier import risk_words_ext as ext
from litellm_slm_router.core.classifier.text import PhraseIndex, holds_any, words


def test_rule_gate_reads_only_words_it_narrows_to() -> None:
    read_by_gate = [rw.RISK_VERB_SET, critical._ANY_OBJECT_WORD, ext.CLI_TOOLS, critical._GERUNDS,
                    critical._PARTICIPLES, ext.NEED_WORDS, critical._PARTICLE_HEADS, rw.EXEC_WORDS, rw.LIGHT_VERBS,
                    critical._ACTION_NOUNS, frozenset({"live"}), *ext.PARTICLE_VERBS.values(),
                    critical._LITERALS.needed, critical._RISK_PHRASES.needed,
                    *(phrases.needed for phrases in critical._OBJECT_PHRASES.values()),
                    *rw.RISK_OBJECTS.values()]
    for vocabulary in read_by_gate:
        assert set(vocabulary) <= critical._SCANNED


def test_score_reads_only_words_it_narrows_to() -> None:
    read_by_score = [score_words.CODE, score_words.NUMBER_WORDS, score_words.MATH, score_words.HARD,
                     score_words.PROOF, score_words.ANALYTIC, score_words.CONSTRAINT, score_words.DELIVERABLE,
                     score_words.BREVITY, score_words.SIMPLE, score_words.CREATIVE, score_words.FRACTIONS,
                     score._STEP_PHRASES.needed, score._RELATIONS.needed, score._ADVICE_PHRASES.needed,
                     score._BREVITY_PHRASES.needed]
    for vocabulary in read_by_score:
        assert set(vocabulary) <= score._VOCABULARY


def test_each_verb_knows_every_object_word_of_its_kinds() -> None:
    for verb, kinds in rw.RISK_VERBS.items():
        for kind in kinds:
            assert critical._OBJECT_WORDS[kind] <= critical._VERB_OBJECT_WORDS[verb]


def test_phrase_index_needs_every_word_but_the_last_and_its_key() -> None:
    index = PhraseIndex(["delete the prod database", "wire money"])
    assert {"delete", "the", "prod", "wire"} <= index.needed
    lower = "please delete the prod databases now"
    full = frozenset(words(lower))
    assert index.first(lower, full & index.needed) == index.first(lower, full) == "delete the prod database"


@pytest.mark.parametrize(("text", "parts", "expected"), [
    ("costs 4 dollars", "0123456789", True), ("no digits", "0123456789", False), ("", "abc", False),
    ("€5 now", "$€£¥", True), ("how many are left", ("how m", "combien"), True), ("count them", ("how m",), False),
])
def test_holds_any(text: str, parts: str | tuple[str, ...], expected: bool) -> None:
    assert holds_any(text, parts) is expected
