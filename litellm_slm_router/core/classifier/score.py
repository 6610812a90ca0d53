"""The score: how much a strong model helps with an ask, as a logistic function's input (a logit).

Length is the base; code, math, hard-reasoning and analysis vocabulary, multi-step structure and
constraints raise it; requests to be brief, short look-ups and creative writing lower it. Every
feature that fires is named in ``signals``.
"""

from __future__ import annotations

import math
import re

from litellm_slm_router.core.classifier import risk_words, score_words
from litellm_slm_router.core.classifier.text import PhraseIndex, opening, sentence_tokens

__all__ = ["FENCE", "MATERIAL", "NUMBER", "need_logit"]

NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
FENCE = re.compile(r"```.*?(?:```|$)", re.S)  # a fenced code block (to the end if it is not closed)
MATERIAL = re.compile(r":\s|\n\s*\n")  # where pasted material starts ("Summarise this: ...")
_WIDE = re.compile(r"[\u2e80-\uffff]")  # CJK and other scripts without spaces between words
_OPERATORS = re.compile(r"\d\s*[-+*/^×÷]\s*\d|\d\s*[²³]")
_LIST_ITEM = re.compile(r"(?m)^\s*(?:[-*•]|\d+[.)])\s+")
_CODE_SYMBOLS = re.compile(r"[{};]\s*$|=>|->|::|\(\)|==|!=|\bdef |\bfn |#include|</?\w+>", re.M)
_STEP_PHRASES = PhraseIndex(score_words.MULTI_STEP_PHRASES)
_RELATIONS = PhraseIndex(score_words.MATH_RELATIONS)
_ADVICE_PHRASES = PhraseIndex(score_words.ADVICE_PHRASES)
_BREVITY_PHRASES = PhraseIndex(score_words.BREVITY_PHRASES)


def need_logit(
    raw: str, lower: str, words: list[str], word_set: frozenset[str], signals: list[str], needs: list[str]
) -> float:
    n_words = len(words)
    z = -2.2
    if not raw.isascii():
        # Scripts without spaces between words: count about two characters a word.
        wide = len(_WIDE.findall(raw))
        if wide:
            n_words += wide // 2
            if any(h in raw for h in score_words.CJK_HARD):
                z += 1.6
                signals.append("hard:cjk")
            if any(d in raw for d in score_words.CJK_DELIVERABLE):
                z += 0.5
    # Length: continuous and slowly growing (longer asks need stronger models, with diminishing weight).
    z += min(0.5 * math.log1p(len(raw) / 50.0), 2.2)
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
    code_words = len(word_set & score_words.CODE)
    # Code symbols count only in a text that has one of these characters (so "->" or "::" alone in
    # prose is not code).
    symbols = len(_CODE_SYMBOLS.findall(raw)) if any(c in raw for c in "({;=<#") else 0
    code = (min(code_words + 2 * fenced + min(symbols, 3) + min(code_lines / 8.0, 3.0), 7) / 7.0
            if code_words or fenced or symbols else 0.0)

    # "Summarise this: <pasted text>": math and structure are read in the instruction, not the material.
    material = MATERIAL.search(prose) if ":" in prose or "\n\n" in prose else None  # else it cannot match
    if material and material.start() < len(prose) // 2:
        head_tokens = sentence_tokens(prose[: material.start()].lower())
        if head_tokens and (opening(head_tokens) in ("ask", "write", "topic") or risk_words.ARTEFACTS.intersection(
                head_tokens) or (len(head_tokens) >= 3 and not score_words.MATH.intersection(head_tokens))):
            prose = prose[: material.start()]
            signals.append("material")

    # Math: every quantity and every operation cue is roughly one more step to get right.
    numbers = len(NUMBER.findall(prose)) if any(digit in prose for digit in "0123456789") else 0
    quantities = numbers + len(word_set & score_words.NUMBER_WORDS)
    math_words = len(word_set & score_words.MATH)
    operators = (len(_OPERATORS.findall(prose)) + ("=" in prose)) if numbers else 0
    if "√" in prose or "∫" in prose or "∑" in prose:
        operators += 1
    is_math = bool((quantities >= 2 and (math_words or operators or "?" in prose))
                   or (math_words >= 2 and quantities) or operators)
    if is_math and not (fenced or symbols) and word_set & score_words.CODE <= score_words.CODE_EVERYDAY:
        code = 0.0  # a word problem about a "class" or a "library": ordinary English, not code
    if code:
        z += 1.3 * code
        signals.append(f"code:{code_words}w/{fenced}b/{code_lines}l/{symbols}s")
        if code >= 0.3:
            needs.append("code")
    if is_math:
        # A word problem: its difficulty is how many steps it takes (every quantity and operation
        # cue is one more), not the wording around them, so the writing-task features below do not
        # apply to it.
        relations = _RELATIONS.occurrences(lower, word_set) + prose.count("%")
        steps = quantities + 0.7 * math_words + operators + relations
        z += 0.7 * math.log1p(max(steps - 2.0, 0.0))
        signals.append(f"math:{quantities}q/{math_words}w/{operators}o/{relations}r")
        if steps >= 4:
            needs.append("reasoning")

    # Hard reasoning and analysis vocabulary: one hard word is already a strong sign.
    hard = word_set & score_words.HARD
    if hard:
        z += 1.7 + 0.45 * (min(len(hard), 3) - 1) + (0.8 if hard & score_words.PROOF else 0.0)
        signals.append("hard:" + ",".join(sorted(hard)[:3]))
        if "reasoning" not in needs:
            needs.append("reasoning")
    if is_math and not code:
        return z
    analytic = len(word_set & score_words.ANALYTIC)
    if analytic:
        z += 1.2 * min(analytic, 3) / 3.0
        signals.append(f"analysis:{analytic}")

    # Structure: list items, several questions, step phrases, constraints.
    items = len(_LIST_ITEM.findall(prose)) if "\n" in prose else 0
    questions = prose.count("?")
    steps = _STEP_PHRASES.count(lower, word_set)
    constraints = len(word_set & score_words.CONSTRAINT)
    structure = min(items + max(questions - 1, 0) + 2 * steps + constraints, 8) / 8.0
    if structure:
        z += 1.0 * structure
        signals.append(f"structure:{items}i/{questions}q/{steps}p/{constraints}c")

    # Asked for a deliverable (a text, code, a plan, a checklist) rather than a fact.
    if n_words > 6 and word_set & score_words.DELIVERABLE:
        z += 0.7
        signals.append("deliverable")
    if _ADVICE_PHRASES.first(lower, word_set):
        z += 0.5
        signals.append("advice")

    # Pull-downs: a request to be brief; short look-ups and greetings; creative writing. A word
    # problem that mentions a story or a trip is still a math problem, so the last two skip it.
    if word_set & score_words.BREVITY or _BREVITY_PHRASES.first(lower, word_set):
        z -= 0.4
        signals.append("brief")
    if n_words <= 12 and (word_set & score_words.SIMPLE or lower.startswith(score_words.SIMPLE_OPENINGS)):
        z -= 1.2
        signals.append("lookup")
    creative = len(word_set & score_words.CREATIVE)
    if creative:
        z -= 0.9 * min(creative, 2) / 2.0
        signals.append(f"creative:{creative}")
    return z
