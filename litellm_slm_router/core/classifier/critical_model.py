"""A learned read of critical requests, over the word rules' findings: the decider of ``critical``.

The word rules (:mod:`.critical`, :mod:`.stakes`) are one author's lists; on requests written by other
authors they found 0.2-0.9 of the critical ones (BENCHMARKS.md, section 1), worst outside English. This model
is a logistic regression over sparse features of the newest user ask, trained on the project's
labelled sets (``bench/train_critical.py`` writes :mod:`.critical_weights`):

- the ask's words (``w:``), five-letter word starts (``p:``, so "refund", "refunds" and "refunded"
  share one) and, for scripts written without spaces (Japanese, Chinese, Thai, ...), character pairs
  (``c:``); a long ask is read at its head and its tail (word pairs were tried: three times the
  weights for no better figures);
- what the rules found (``R:``, ``K:``): an action they call critical, and its kind;
- a question mark (``q``).

Tried and dropped, as they moved nothing when each author's set was left out of training: how the
first sentence opens (ask, write, do), the high-stakes families the ask names (production, money,
a bulk audience, ...), whether it names a sandbox, word pairs (three times the weights).

The model's bias is fixed below zero (``BIAS`` in the weights): an ask with nothing the model knows
(an empty ask, a language it has not seen) is not critical, the features have to show it. The ask is
critical when the probability reaches ``ClassifierThresholds.critical``; the features that pushed it
up most are named in the signal, so the decision still explains itself. A word problem's story ("a
shop pays $4 an item ... how much?") is left to the rules, which read its question.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from itertools import repeat
from typing import NamedTuple

__all__ = ["AskFeatures", "CriticalModel", "model_features", "window"]

_HEAD, _TAIL = 160, 80  # a long ask: its first and last words (the instruction is usually at one end)
_WORD_START = 5
# Scripts written without spaces between words: Thai and Lao, and CJK onwards.
_UNSPACED = re.compile("[\u0e00-\u0eff\u2e80-\U0010ffff]")


def window(lower: str, ask_words: Sequence[str], word_set: AbstractSet[str]) -> tuple[str, AbstractSet[str]]:
    """What the model reads of an ask, as its text and the set of its words: all of it, or a long
    one's first and last words (``word_set`` is the set of ``ask_words``)."""
    if len(ask_words) <= _HEAD + _TAIL:
        return lower, word_set
    tokens = [*ask_words[:_HEAD], *ask_words[-_TAIL:]]
    return " ".join(tokens), frozenset(tokens)


class AskFeatures(NamedTuple):
    """An ask's features by kind: its words, word starts and character pairs, and the rest by name."""

    words: AbstractSet[str]
    starts: AbstractSet[str]
    pairs: AbstractSet[str]
    other: AbstractSet[str]  # named with their prefix: "R:critical", "K:money", "q"

    def names(self) -> set[str]:
        """Every feature by its full name (``w:refund``, ``p:refun``, ``c:削除``, ``K:money``...)."""
        return ({"w:" + w for w in self.words} | {"p:" + p for p in self.starts} | {"c:" + c for c in self.pairs}
                | set(self.other))


def model_features(raw: str, text: str, word_set: AbstractSet[str], rule_kinds: Iterable[str]) -> AskFeatures:
    """The model's features of one ask: ``text`` and ``word_set`` are what :func:`window` reads of it,
    ``raw`` the ask itself, ``rule_kinds`` what the word rules found."""
    starts = {w[:_WORD_START] for w in word_set if len(w) > _WORD_START}
    pairs: set[str] = set()
    if not text.isascii() and _UNSPACED.search(text):
        for w in word_set:
            if _UNSPACED.search(w):
                pairs.update(w[i:i + 2] for i in range(len(w) - 1))
    other: set[str] = set()
    for kind in rule_kinds:
        other.add("R:critical")
        other.add("K:" + kind.split("(", 1)[0])
    if "?" in raw:
        other.add("q")
    return AskFeatures(word_set, starts, pairs, other)


class CriticalModel:
    """Weights by feature name (as :meth:`AskFeatures.names` spells them) and a bias; ``probability`` is
    a logistic function of the weights of an ask's features. The weights are kept in one table per
    kind of feature, so an ask's words are looked up as they are, without building each one's name."""

    def __init__(self, weights: Mapping[str, float], bias: float) -> None:
        self.weights = weights
        self.bias = bias
        tables: dict[str, dict[str, float]] = {"w:": {}, "p:": {}, "c:": {}, "": {}}
        for name, weight in weights.items():
            kind = name[:2] if name[:2] in tables else ""
            tables[kind][name[len(kind):]] = weight
        self._words, self._starts, self._pairs, self._other = tables["w:"], tables["p:"], tables["c:"], tables[""]

    def logit(self, features: AskFeatures) -> float:
        z = self.bias
        for table, found in ((self._words, features.words), (self._starts, features.starts),
                             (self._pairs, features.pairs), (self._other, features.other)):
            if found:
                z += sum(map(table.get, found, repeat(0.0)))  # one lookup per feature; unknown ones weigh 0
        return z

    def probability(self, features: AskFeatures) -> float:
        z = self.logit(features)
        return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))

    def reasons(self, features: AskFeatures, top: int = 3) -> list[str]:
        """The features that raised the probability most, strongest first."""
        get = self.weights.get
        raised = sorted((f for f in features.names() if get(f, 0.0) > 0), key=lambda f: (-get(f, 0.0), f))
        return raised[:top]
