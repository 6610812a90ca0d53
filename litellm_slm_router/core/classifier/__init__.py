"""Task complexity classifier: a deterministic, offline read of a chat request.

``TaskComplexityClassifier().assess(messages)`` returns an :class:`Assessment`:

- ``score`` in [0, 1] grows with how much a strong model is needed: a logistic function of the
  features of the *newest user ask* (:mod:`.score`: ``features()`` and ``logit()``), under the
  hand-set ``DEFAULT_WEIGHTS`` or a weight set fitted on an operator's own outcomes (``weights=``).
  An earlier user turn can raise it a little (a
  follow-up inherits some of its topic); system prompts and assistant turns are not read, so a long
  system prompt does not push every request up.
- ``complexity`` is ``critical`` when the ask instructs an irreversible or high-stakes action. The
  word rules (:mod:`.critical`, :mod:`.stakes`) name the actions they find; a learned model
  (:mod:`.critical_model`) reads the ask together with those findings and decides. A secret pasted
  into the ask, and a short "yes, go ahead" to an earlier critical ask, are critical whatever it says.
  Otherwise the level is the score's band (:class:`ClassifierThresholds`).
- ``signals`` name every feature that fired, so each assessment explains itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from litellm_slm_router.core.classifier import critical_weights
from litellm_slm_router.core.classifier.confirmation import CONFIRMATIONS, bare_confirmation, bare_greeting
from litellm_slm_router.core.classifier.critical import critical_actions
from litellm_slm_router.core.classifier.critical_model import AskFeatures, CriticalModel, model_features, window
from litellm_slm_router.core.classifier.score import DEFAULT_WEIGHTS, FEATURES, features, logit, uses_surface
from litellm_slm_router.core.classifier.stakes import is_word_problem, stakes_action
from litellm_slm_router.core.classifier.text import ask_text, split_conversation, turns, words
from litellm_slm_router.core.levels import TaskComplexity

__all__ = ["DEFAULT_WEIGHTS", "FEATURES", "Assessment", "ClassifierThresholds", "TaskComplexityClassifier",
           "ask_text", "check_weights", "critical_features_of", "features", "features_of", "logit", "rule_findings"]

# Findings that are critical whatever the model says: a secret pasted into the ask, and a short
# confirmation of an earlier critical ask.
_DEFINITIVE = frozenset({"secret(in_prompt)", "confirms_previous_critical_ask"})
# The shipped critical model, shared by every classifier (its tables take a few ms to build).
_CRITICAL_MODEL = CriticalModel(critical_weights.WEIGHTS, critical_weights.BIAS)


class Assessment(BaseModel):
    """What the classifier found in one request."""

    model_config = ConfigDict(frozen=True)

    complexity: TaskComplexity
    score: float = Field(ge=0.0, le=1.0)
    signals: tuple[str, ...] = ()
    needs: tuple[str, ...] = ()
    words: int = 0


class ClassifierThresholds(BaseModel):
    """Score bands: below ``moderate`` is simple, below ``complex`` is moderate, else complex."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    moderate: float = Field(default=0.22, gt=0.0, lt=1.0)
    complex: float = Field(default=0.59, gt=0.0, lt=1.0)
    # The learned critical model's cut-off on its probability; 1.0 leaves the decision to the word
    # rules alone (every action they name is critical).
    critical: float = Field(default=critical_weights.THRESHOLD, gt=0.0, le=1.0)
    # A JSON weight file written by ``slm-router fit`` (read by the config loader, not here).
    weights: str | None = None
    # A JSON file written by ``slm-router train-critical``: the critical model re-fitted on an operator's
    # own labelled requests (read by the config loader, not here).
    critical_weights: str | None = None


class TaskComplexityClassifier:
    """Deterministic, offline classifier of how much model a chat request needs."""

    def __init__(self, thresholds: ClassifierThresholds | None = None,
                 weights: Mapping[str, float] | None = None, critical_model: CriticalModel | None = None) -> None:
        self.thresholds = thresholds or ClassifierThresholds()
        self.weights: Mapping[str, float] = DEFAULT_WEIGHTS if weights is None else check_weights(weights)
        self.critical_model = _CRITICAL_MODEL if critical_model is None else critical_model
        self._surface = uses_surface(self.weights)  # the hand-set weights give the surface counts none
        if self.thresholds.moderate >= self.thresholds.complex:
            raise ValueError(
                "classifier thresholds: 'moderate' must be below 'complex' "
                f"(got moderate={self.thresholds.moderate}, complex={self.thresholds.complex})"
            )

    def assess(self, messages: Sequence[Any] | str | None) -> Assessment:
        """Assess a chat ``messages`` list (or a bare prompt string)."""
        ask, previous, earlier_turns = split_conversation(messages)
        lower = ask.lower()
        ask_words = words(lower)
        word_set = frozenset(ask_words)
        signals: list[str] = []
        needs: list[str] = []
        z = logit(features(ask, lower, ask_words, word_set, signals, needs, self._surface), self.weights)
        if previous:
            previous_lower = previous.lower()
            previous_words = words(previous_lower)
            previous_z = logit(features(previous, previous_lower, previous_words, frozenset(previous_words),
                                        surface=self._surface), self.weights)
            if previous_z > z:
                z += 0.4 * (previous_z - z)
                signals.append(f"context:earlier_turns={earlier_turns}")
        score = 1.0 / (1.0 + math.exp(-z))

        if bare_confirmation(word_set):  # "yes please", "ok – go": what it confirms decides
            actions = ["confirms_previous_critical_ask"] if self._confirms_critical(messages) else []
        else:
            actions = rule_findings(ask, lower, word_set, previous, len(ask_words))
        critical = self._critical(ask, lower, ask_words, word_set, actions)
        if critical:
            signals.extend(critical)
            if "reasoning" not in needs:
                needs.append("reasoning")
            return Assessment(complexity=TaskComplexity.CRITICAL, score=round(max(score, 0.9), 6),
                              signals=tuple(signals), needs=tuple(needs), words=len(ask_words))
        signals.extend(f"critical_overruled:{a}" for a in actions)
        return Assessment(complexity=self.level_of(score), score=round(score, 6), signals=tuple(signals),
                          needs=tuple(needs), words=len(ask_words))

    def _critical(self, ask: str, lower: str, ask_words: list[str], word_set: frozenset[str],
                  actions: list[str]) -> list[str]:
        """The ``critical:`` signals of a critical ask, or [] when it is not critical."""
        read = None if any(a in _DEFINITIVE for a in actions) else self._model_read(ask, lower, ask_words,
                                                                                      word_set, actions)
        if read is None:
            return [f"critical:{a}" for a in actions]
        found, p = read
        if p < self.thresholds.critical:
            return []
        reasons = ",".join(self.critical_model.reasons(found))
        return [f"critical:{a}" for a in actions] + [f"critical:model(p={p:.2f};{reasons})"]

    def _confirms_critical(self, messages: Sequence[Any] | str | None) -> bool:
        """Whether the newest user turn, a bare confirmation, confirms a critical act: one the assistant's
        turn just before it proposes, or the newest earlier user ask that is not a confirmation itself."""
        conversation = turns(messages)
        newest = max((i for i, (role, _) in enumerate(conversation) if role == "user"), default=0)
        earlier = conversation[:newest]  # before the newest user turn, past an assistant turn begun after it
        if earlier and earlier[-1][0] != "user" and self._flags(earlier[-1][1]):
            return True
        for role, text in reversed(earlier):
            if role == "user":
                lower = text.lower()
                if not bare_confirmation(frozenset(words(lower))):
                    return self._flags(text)
        return False

    def _flags(self, text: str) -> bool:
        """Whether ``text``, read as an ask by itself, is critical: by the word rules, or by the critical model."""
        lower = text.lower()
        ask_words = words(lower)
        word_set = frozenset(ask_words)
        findings = rule_findings(text, lower, word_set, "", len(ask_words))
        if findings:
            return True
        read = self._model_read(text, lower, ask_words, word_set, findings)
        return read is not None and read[1] >= self.thresholds.critical

    def _model_read(self, ask: str, lower: str, ask_words: list[str], word_set: frozenset[str],
                    actions: list[str]) -> tuple[AskFeatures, float] | None:
        """The critical model's features of an ask and its probability, or None when the model is off or
        leaves the ask to the rules (:func:`_model_reads`). Whether the ask is a word problem is looked up
        only when the rules or the model call it critical: otherwise it is not critical either way."""
        read = None if self.thresholds.critical >= 1.0 else _model_window(lower, ask_words, word_set)
        if read is None:
            return None
        found = model_features(ask, *read, actions)
        p = self.critical_model.probability(found)
        if (actions or p >= self.thresholds.critical) and is_word_problem(read[0]):
            return None
        return found, p

    def level_of(self, score: float) -> TaskComplexity:
        """The level of a non-critical ask with this score (the score bands)."""
        if score < self.thresholds.moderate:
            return TaskComplexity.SIMPLE
        if score < self.thresholds.complex:
            return TaskComplexity.MODERATE
        return TaskComplexity.COMPLEX


def rule_findings(ask: str, lower: str, word_set: frozenset[str], previous: str, ask_words: int) -> list[str]:
    """The actions the word rules call critical, as ``kind(object)`` strings."""
    actions = critical_actions(ask, lower, word_set)
    if not actions:
        stakes = stakes_action(lower, word_set)
        actions = [stakes] if stakes else []
    if not actions and previous and ask_words <= 8 and word_set & CONFIRMATIONS:
        previous_lower = previous.lower()
        if critical_actions(previous, previous_lower, frozenset(words(previous_lower))):
            actions = ["confirms_previous_critical_ask"]
    return actions


def _model_reads(lower: str, ask_words: list[str], word_set: frozenset[str]) -> tuple[str, AbstractSet[str]] | None:
    """What the critical model reads of an ask (:func:`.critical_model.window`), or None when it leaves
    the ask to the rules: an empty ask, a bare confirmation ("yes please": critical only when the ask
    before it is), a bare greeting ("Hello!"), and a word problem's story."""
    read = _model_window(lower, ask_words, word_set)
    return None if read is None or is_word_problem(read[0]) else read


def _model_window(lower: str, ask_words: list[str], word_set: frozenset[str]) -> tuple[str, AbstractSet[str]] | None:
    """:func:`_model_reads` before its word-problem test: None for an empty ask, a bare confirmation and a
    bare greeting."""
    if not ask_words or bare_confirmation(word_set) or bare_greeting(word_set):
        return None
    return window(lower, ask_words, word_set)


def critical_features_of(messages: Sequence[Any] | str | None) -> set[str] | None:
    """The critical model's features of a request's newest user ask, by name (what
    ``bench/train_critical.py`` trains on), or None when the model leaves the ask to the rules."""
    ask, previous, _ = split_conversation(messages)
    lower = ask.lower()
    ask_words = words(lower)
    word_set = frozenset(ask_words)
    read = _model_reads(lower, ask_words, word_set)
    if read is None:
        return None
    findings = rule_findings(ask, lower, word_set, previous, len(ask_words))
    return model_features(ask, *read, findings).names()


def features_of(messages: Sequence[Any] | str | None) -> dict[str, float]:
    """The features of a request's newest user ask: what the score weighs, and what ``slm-router fit``
    fits its weights on."""
    ask = split_conversation(messages)[0]
    lower = ask.lower()
    ask_words = words(lower)
    return features(ask, lower, ask_words, frozenset(ask_words))


def check_weights(weights: Mapping[str, float]) -> dict[str, float]:
    """A weight set as floats, refusing names that are not features (a typo would silently count 0)."""
    unknown = sorted(set(weights) - set(FEATURES))
    if unknown:
        raise ValueError(f"classifier weights: unknown feature(s) {', '.join(unknown)} (known: {', '.join(FEATURES)})")
    out = {name: float(value) for name, value in weights.items()}
    if not all(math.isfinite(v) for v in out.values()):
        raise ValueError("classifier weights must be finite numbers")
    return out
