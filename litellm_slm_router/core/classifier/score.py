"""The score: how much a strong model helps with an ask, as a logistic function's input (a logit).

:func:`features` reads an ask into named numbers; :func:`logit` is their weighted sum. Length (the
log of the word count) is the backbone, so the score ranks at least as well as length does; code,
math steps, hard-reasoning and analysis vocabulary, structure and constraints add to it; requests to
be brief, short look-ups and creative writing take from it. :data:`DEFAULT_WEIGHTS` are set by hand;
a weight file fitted on an operator's own outcomes (``slm-router fit``) replaces them. Every feature
that fires is named in ``signals``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

from litellm_slm_router.core.classifier import risk_words, score_words
from litellm_slm_router.core.classifier.text import PhraseIndex, holds_any, opening, sentence_tokens

_STRIP = ",;()[]{}\"'"

__all__ = ["DEFAULT_WEIGHTS", "FEATURES", "FENCE", "MATERIAL", "NUMBER", "SURFACE", "features", "logit", "need_logit",
           "uses_surface"]

NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
FENCE = re.compile(r"```.*?(?:```|$)", re.S)  # a fenced code block (to the end if it is not closed)
MATERIAL = re.compile(r":\s|\n\s*\n")  # where pasted material starts ("Summarise this: ...")
_WIDE = re.compile(r"[\u2e80-\uffff]")  # CJK and other scripts without spaces between words
_FRACTION = re.compile(r"\d\s*/\s*\d")
_OPERATORS = re.compile(r"\d\s*[-+*/^×÷]\s*\d|\d\s*[²³]")
_LIST_ITEM = re.compile(r"(?m)^\s*(?:[-*•]|\d+[.)])\s+")
_CODE_SYMBOLS = re.compile(r"[{};]\s*$|=>|->|::|\(\)|==|!=|\bdef |\bfn |#include|</?\w+>", re.M)
_STEP_PHRASES = PhraseIndex(score_words.MULTI_STEP_PHRASES)
_RELATIONS = PhraseIndex(score_words.MATH_RELATIONS)
_ADVICE_PHRASES = PhraseIndex(score_words.ADVICE_PHRASES)
_BREVITY_PHRASES = PhraseIndex(score_words.BREVITY_PHRASES)
# Every word features() looks up: its word lists, and every word its phrases need. An ask's words are
# narrowed to these once, so each list's test looks among a few words instead of all the ask's.
_VOCABULARY = frozenset().union(
    score_words.CODE, score_words.NUMBER_WORDS, score_words.MATH, score_words.HARD, score_words.ANALYTIC,
    score_words.CONSTRAINT, score_words.DELIVERABLE, score_words.BREVITY, score_words.SIMPLE, score_words.CREATIVE,
    score_words.FRACTIONS, _STEP_PHRASES.needed, _RELATIONS.needed, _ADVICE_PHRASES.needed, _BREVITY_PHRASES.needed)

# The features, in a fixed order (a fitted weight file names the same ones). Each is 0 when absent.
FEATURES: tuple[str, ...] = (
    "bias",         # 1 for every ask
    "log_words",    # log(1 + words): the backbone
    "code",         # 0..1: code words, fenced blocks, code symbols and pasted lines
    "math",         # 1 for a word problem
    "math_steps",   # log(1 + quantities + operations + relations beyond two) in a word problem
    "fractions",    # log(1 + fractions and ratios) in a word problem: proportional reasoning
    "hard",         # 1 when hard-reasoning vocabulary is present
    "hard_extra",   # 0..2: more distinct hard words
    "proof",        # 1 for a request for a proof or a formal derivation
    "analytic",     # 0..1: analysis vocabulary (not read in a word problem)
    "structure",    # 0..1: list items, several questions, step phrases, constraints
    "deliverable",  # 1: a text, code, a plan or a checklist is asked for
    "advice",       # 1: a request for advice
    "brief",        # 1: a request to be brief
    "lookup",       # 1: a short look-up or greeting
    "creative",     # 0..1: creative writing
    "cjk_hard",     # 1: hard vocabulary in Chinese or Japanese
    # Surface features, weight 0 by default: there for a fitted weight file to use.
    "log_chars",    # log(1 + characters)
    "sentences",    # log(1 + sentences)
    "questions",    # question marks
    "numbers",      # log(1 + numbers written in digits, outside pasted material and code)
    "big_number",   # log10(1 + the largest of them)
    "decimals",     # numbers with a decimal part
    "money",        # currency signs
    "percent",      # percent signs
)
SURFACE: frozenset[str] = frozenset(FEATURES[FEATURES.index("log_chars"):])

# Hand-set weights. Length carries the ranking on its own: 0.6 per unit of log word count, i.e. a
# prompt twice as long gains 0.42; the cues add on top of it (or take from it), never replace it. A
# word problem needs a stronger model than prose of its length (small models slip on arithmetic),
# the more so the more steps and fractions it has.
DEFAULT_WEIGHTS: dict[str, float] = {
    "bias": -3.6,
    "log_words": 0.6,
    "code": 1.3,
    "math": 1.0,
    "math_steps": 0.6,
    "fractions": 0.6,
    "hard": 1.7,
    "hard_extra": 0.45,
    "proof": 0.8,
    "analytic": 1.2,
    "structure": 1.0,
    "deliverable": 0.7,
    "advice": 0.5,
    "brief": -0.4,
    "lookup": -1.2,
    "creative": -0.9,
    "cjk_hard": 1.6,
}


def logit(values: Mapping[str, float], weights: Mapping[str, float] = DEFAULT_WEIGHTS) -> float:
    """The weighted sum of the features (a feature without a weight counts 0)."""
    return sum(weights.get(name, 0.0) * value for name, value in values.items() if value)


def need_logit(raw: str, lower: str, words: list[str], word_set: frozenset[str], signals: list[str],
               needs: list[str], weights: Mapping[str, float] = DEFAULT_WEIGHTS) -> float:
    """The logit of an ask under ``weights``; ``signals`` and ``needs`` get what fired."""
    return logit(features(raw, lower, words, word_set, signals, needs), weights)


def uses_surface(weights: Mapping[str, float]) -> bool:
    """Whether a weight set gives any :data:`SURFACE` feature a weight (the hand-set weights do not)."""
    return any(weights.get(name) for name in SURFACE)


def features(raw: str, lower: str, words: list[str], word_set: frozenset[str],
             signals: list[str] | None = None, needs: list[str] | None = None,
             surface: bool = True) -> dict[str, float]:
    """The named features of an ask (:data:`FEATURES`); what fires is added to ``signals`` and ``needs``.
    With ``surface`` false, the surface counts (:data:`SURFACE`) are left out: they cost a pass over
    the text each and weigh nothing unless a fitted weight file uses them."""
    if signals is None:
        signals = []
    if needs is None:
        needs = []
    f: dict[str, float] = {"bias": 1.0}
    n_words = len(words)
    if not raw.isascii():
        # Scripts without spaces between words: count about two characters a word.
        wide = len(_WIDE.findall(raw))
        if wide:
            n_words += wide // 2
            if any(h in raw for h in score_words.CJK_HARD):
                f["cjk_hard"] = 1.0
                signals.append("hard:cjk")
            if any(d in raw for d in score_words.CJK_DELIVERABLE):
                f["deliverable"] = 1.0
    f["log_words"] = math.log1p(n_words)
    if surface:
        f["log_chars"] = math.log1p(len(raw))
        f["sentences"] = math.log1p(raw.count(". ") + raw.count("? ") + raw.count("! ") + raw.count("\n")
                                    + (raw.rstrip()[-1:] in (".", "?", "!")))
    if n_words >= 60:
        signals.append(f"length:{n_words}w")

    # Code: pasted code counts by its size; numbers and symbols inside it are not math.
    prose = raw
    code_lines = 0
    fenced = 0
    if "```" in raw:
        blocks = FENCE.findall(raw)
        fenced = len(blocks)
        code_lines = sum(b.count("\n") for b in blocks)
        prose = FENCE.sub(" ", raw)
    known = word_set & _VOCABULARY  # the ask's words that any list below has (see _VOCABULARY)
    code_words = len(known & score_words.CODE)
    # Code symbols count only in a text that has one of these characters (so "->" or "::" alone in
    # prose is not code).
    symbols = len(_CODE_SYMBOLS.findall(raw)) if holds_any(raw, "({;=<#") else 0
    code = (min(code_words + 2 * fenced + min(symbols, 3) + min(code_lines / 8.0, 3.0), 7) / 7.0
            if code_words or fenced or symbols else 0.0)

    # "Summarise this: <pasted text>": math and structure are read in the instruction, not the material.
    material = MATERIAL.search(prose) if ":" in prose or "\n\n" in prose else None  # else it cannot match
    prose_words, prose_set, prose_known = words, word_set, known
    # A question after the material ("... in it: red, white ... How many?") is the ask itself.
    if material and material.start() < len(prose) // 2 and not prose.rstrip().endswith("?"):
        head_tokens = sentence_tokens(prose[: material.start()].lower())
        if head_tokens and (opening(head_tokens) in ("ask", "write", "topic") or risk_words.ARTEFACTS.intersection(
                head_tokens) or (len(head_tokens) >= 3 and not score_words.MATH.intersection(head_tokens)
                                 and not score_words.NUMBER_WORDS.intersection(head_tokens)
                                 and not any(t[0].isdigit() for t in head_tokens))):
            prose = prose[: material.start()]
            prose_words = [t.strip(_STRIP) for t in head_tokens]
            prose_set = frozenset(prose_words)
            prose_known = prose_set & _VOCABULARY
            signals.append("material")

    # Math: every quantity and every operation cue is roughly one more step to get right.
    found = NUMBER.findall(prose) if holds_any(prose, "0123456789") else []
    numbers = len(found)
    questions = prose.count("?")
    if surface:
        if found:
            f["numbers"] = math.log1p(numbers)
            f["big_number"] = math.log10(1.0 + max(float(n.replace(",", "")) if n.count(".") <= 1 else 0.0
                                                   for n in found))
            f["decimals"] = float(sum("." in n for n in found))
        f["questions"] = float(questions)
        if "%" in prose:
            f["percent"] = float(prose.count("%"))
        money = sum(prose.count(c) for c in "$€£¥")
        if money:
            f["money"] = float(money)
    quantities = numbers + len(prose_known & score_words.NUMBER_WORDS)
    if "-" in prose:  # "three-fourths", "one-eighth", "twenty-five"
        quantities += sum(1 for t in prose_set if "-" in t and score_words.NUMBER_WORDS.intersection(t.split("-")))
    math_words = len(prose_known & score_words.MATH)
    operators = (len(_OPERATORS.findall(prose)) + ("=" in prose)) if numbers else 0
    if "√" in prose or "∫" in prose or "∑" in prose:
        operators += 1
    is_math = bool((quantities >= 2 and (math_words or operators or "?" in prose))
                   or (math_words >= 2 and quantities) or operators)
    if is_math and not (fenced or symbols) and known & score_words.CODE <= score_words.CODE_EVERYDAY:
        code = 0.0  # a word problem about a "class" or a "library": ordinary English, not code
    elif is_math and code and math_words < 2:
        is_math = False  # numbers in a query, a regex or a pasted listing are data, not a word problem
    if code:
        f["code"] = code
        signals.append(f"code:{code_words}w/{fenced}b/{code_lines}l/{symbols}s")
        if code >= 0.3:
            needs.append("code")
    if is_math:
        # A word problem: its difficulty is how many steps it takes (every quantity and operation
        # cue is one more), not the wording around them, so the writing-task features below do not
        # apply to it.
        relations = _RELATIONS.occurrences(lower, known) + prose.count("%")
        steps = quantities + 0.7 * math_words + operators + relations
        f["math"] = 1.0
        f["math_steps"] = math.log1p(max(steps - 2.0, 0.0))
        fractions = _count_fractions(prose, prose_words, prose_known)
        signals.append(f"math:{quantities}q/{math_words}w/{operators}o/{relations}r")
        if fractions:
            f["fractions"] = math.log1p(fractions)
            signals.append(f"fractions:{fractions}")
        if steps >= 4:
            needs.append("reasoning")

    # Hard reasoning and analysis vocabulary: one hard word is already a strong sign.
    hard = known & score_words.HARD
    if hard:
        f["hard"] = 1.0
        f["hard_extra"] = float(min(len(hard), 3) - 1)
        if hard & score_words.PROOF:
            f["proof"] = 1.0
        signals.append("hard:" + ",".join(sorted(hard)[:3]))
        if "reasoning" not in needs:
            needs.append("reasoning")
    if is_math and not code:
        return f
    analytic = len(known & score_words.ANALYTIC)
    if analytic:
        f["analytic"] = min(analytic, 3) / 3.0
        signals.append(f"analysis:{analytic}")

    # Structure: list items, several questions, step phrases, constraints.
    items = len(_LIST_ITEM.findall(prose)) if "\n" in prose else 0
    steps = _STEP_PHRASES.count(lower, known)
    constraints = len(known & score_words.CONSTRAINT)
    structure = min(items + max(questions - 1, 0) + 2 * steps + constraints, 8) / 8.0
    if structure:
        f["structure"] = structure
        signals.append(f"structure:{items}i/{questions}q/{steps}p/{constraints}c")

    # Asked for a deliverable (a text, code, a plan, a checklist) rather than a fact.
    if n_words > 6 and known & score_words.DELIVERABLE:
        f["deliverable"] = 1.0 + f.get("deliverable", 0.0)
        signals.append("deliverable")
    if _ADVICE_PHRASES.first(lower, known):
        f["advice"] = 1.0
        signals.append("advice")

    # Pull-downs: a request to be brief; short look-ups and greetings; creative writing. A word
    # problem that mentions a story or a trip is still a math problem, so these skip it.
    if known & score_words.BREVITY or _BREVITY_PHRASES.first(lower, known):
        f["brief"] = 1.0
        signals.append("brief")
    if n_words <= 12 and (known & score_words.SIMPLE or lower.startswith(score_words.SIMPLE_OPENINGS)):
        f["lookup"] = 1.0
        signals.append("lookup")
    creative = len(known & score_words.CREATIVE)
    if creative:
        f["creative"] = min(creative, 2) / 2.0
        signals.append(f"creative:{creative}")
    return f


def _count_fractions(prose: str, prose_words: list[str], prose_known: frozenset[str]) -> int:
    """Fractions and ratios: "3/4", "half", "two-thirds" (each occurrence counts); ``prose_known`` is the
    prose's words in ``_VOCABULARY``."""
    n = len(_FRACTION.findall(prose)) if "/" in prose else 0
    if prose_known & score_words.FRACTIONS:
        n += sum(w in score_words.FRACTIONS for w in prose_words)
    if "-" in prose:
        n += sum(1 for w in prose_words if "-" in w and score_words.FRACTIONS.intersection(w.split("-")))
    return n
