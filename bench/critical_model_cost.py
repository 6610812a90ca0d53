"""What the learned critical model (core/classifier/critical_model.py) costs per decision, in one process.

    python bench/critical_model_cost.py

For decision_cost.py's prose at 10 / 100 / 2,000 words: the model's own work (features and score),
classify+select with the model deciding and with the word rules alone (``critical: 1.0``; the two
alternating, the order swapped every round), and LiteLLM's heuristic in the same rounds. Each figure
is the median over 6 rounds of a p50.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from routing_quality import litellm_complexity_router
from stakes_cost import cases, compare, row, selection_setup


def main() -> int:
    from litellm_slm_router import ClassifierThresholds, TaskComplexityClassifier, select
    from litellm_slm_router.core.classifier.critical_model import model_features, window
    from litellm_slm_router.core.classifier.text import words

    options, view, budget = selection_setup()
    theirs = litellm_complexity_router()
    rules_alone = TaskComplexityClassifier(ClassifierThresholds(critical=1.0))
    classifiers = {"on": TaskComplexityClassifier(), "off": rules_alone}
    model = classifiers["on"].critical_model

    print("| prompt | model's own work (us) | classify+select, rules alone (us) | with the model (us) | ratio "
          "| LiteLLM classify (us) | with the model vs LiteLLM |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for count, n, text, messages, tokens in cases():
        lower = text.lower()

        def ours(mode: str, messages: list = messages, tokens: int = tokens) -> object:
            return select(classifiers[mode].assess(messages), options, view, budget, model_group="auto",
                          prompt_tokens=tokens)

        ask_words = words(lower)

        def own(text: str = text, lower: str = lower, ask_words: list = ask_words,
                word_set: frozenset = frozenset(ask_words)) -> float:  # what assess has already
            return model.probability(model_features(text, *window(lower, ask_words, word_set), ()))

        m = compare(n, lambda mode: lambda: ours(mode), own, lambda text=text: theirs.classify(text))
        print(row(count, m))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
