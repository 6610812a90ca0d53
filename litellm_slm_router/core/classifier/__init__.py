"""Task complexity classifier: a deterministic, offline read of a chat request.

``TaskComplexityClassifier().assess(messages)`` returns an :class:`Assessment`:

- ``score`` in [0, 1] grows with how much a strong model is needed: a logistic function of the
  features of the *newest user ask* (:mod:`.score`: ``features()`` and ``logit()``), under the
  hand-set ``DEFAULT_WEIGHTS`` or a weight set fitted on an operator's own outcomes (``weights=``).
  An earlier user turn can raise it a little (a
  follow-up inherits some of its topic); system prompts and assistant turns are not read, so a long
  system prompt does not push every request up.
- ``complexity`` is ``critical`` when the ask instructs an irreversible or high-stakes action
  (:mod:`.critical`); a word problem's story ("her parents pay her $4 ... how much does she save?")
  instructs nothing. Otherwise it is the score's band (:class:`ClassifierThresholds`).
- ``signals`` name every feature that fired, so each assessment explains itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from litellm_slm_router.core.classifier.critical import CONFIRMATIONS, critical_actions
from litellm_slm_router.core.classifier.score import DEFAULT_WEIGHTS, FEATURES, features, logit
from litellm_slm_router.core.classifier.stakes import stakes_action
from litellm_slm_router.core.classifier.text import ask_text, split_conversation, words
from litellm_slm_router.core.levels import TaskComplexity

__all__ = ["DEFAULT_WEIGHTS", "FEATURES", "Assessment", "ClassifierThresholds", "TaskComplexityClassifier",
           "ask_text", "check_weights", "features", "features_of", "logit"]


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
    # A JSON weight file written by ``slm-router fit`` (read by the config loader, not here).
    weights: str | None = None


class TaskComplexityClassifier:
    """Deterministic, offline classifier of how much model a chat request needs."""

    def __init__(self, thresholds: ClassifierThresholds | None = None,
                 weights: Mapping[str, float] | None = None) -> None:
        self.thresholds = thresholds or ClassifierThresholds()
        self.weights: Mapping[str, float] = DEFAULT_WEIGHTS if weights is None else check_weights(weights)
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
        z = logit(features(ask, lower, ask_words, word_set, signals, needs), self.weights)
        if previous:
            previous_lower = previous.lower()
            previous_words = words(previous_lower)
            previous_z = logit(features(previous, previous_lower, previous_words, frozenset(previous_words)),
                               self.weights)
            if previous_z > z:
                z += 0.4 * (previous_z - z)
                signals.append(f"context:earlier_turns={earlier_turns}")
        score = 1.0 / (1.0 + math.exp(-z))

        actions = critical_actions(ask, lower, word_set)
        if not actions:
            stakes = stakes_action(lower, word_set)
            actions = [stakes] if stakes else []
        if not actions and previous and len(ask_words) <= 8 and word_set & CONFIRMATIONS:
            previous_lower = previous.lower()
            if critical_actions(previous, previous_lower, frozenset(words(previous_lower))):
                actions = ["confirms_previous_critical_ask"]
        if actions:
            signals.extend(f"critical:{a}" for a in actions)
            if "reasoning" not in needs:
                needs.append("reasoning")
            return Assessment(complexity=TaskComplexity.CRITICAL, score=round(max(score, 0.9), 6),
                              signals=tuple(signals), needs=tuple(needs), words=len(ask_words))
        return Assessment(complexity=self.level_of(score), score=round(score, 6), signals=tuple(signals),
                          needs=tuple(needs), words=len(ask_words))

    def level_of(self, score: float) -> TaskComplexity:
        """The level of a non-critical ask with this score (the score bands)."""
        if score < self.thresholds.moderate:
            return TaskComplexity.SIMPLE
        if score < self.thresholds.complex:
            return TaskComplexity.MODERATE
        return TaskComplexity.COMPLEX


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
