"""Task complexity classifier: a deterministic, offline read of a chat request.

``TaskComplexityClassifier().assess(messages)`` returns an :class:`Assessment`:

- ``score`` in [0, 1] grows with how much a strong model is needed. It is a logistic function
  of a few features of the *newest user ask*: length, code, math, hard-reasoning and analysis
  vocabulary, multi-step structure and constraints; quick look-ups and creative writing pull it
  down. An earlier user turn can raise it a little (a follow-up inherits some of its topic);
  system prompts and assistant turns are not read, so a long system prompt does not push every
  request up.
- ``complexity`` is ``critical`` when the ask instructs an irreversible or high-stakes action
  (see :mod:`litellm_slm_router.lexicon`); a word problem's story ("her parents pay her $4 ...
  how much does she save?") instructs nothing. Otherwise it is the score's band.
- ``signals`` name every feature that fired, so each assessment explains itself.

Everything is compiled at import; a call does string methods, set intersections and a few
pre-compiled regex scans, most of them behind a one-character test.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from litellm_slm_router import lexicon as lx
from litellm_slm_router.complexity import TaskComplexity
from litellm_slm_router.records import fast_record

__all__ = ["Assessment", "ClassifierThresholds", "TaskComplexityClassifier", "ask_text"]


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

    moderate: float = Field(default=0.25, gt=0.0, lt=1.0)
    complex: float = Field(default=0.59, gt=0.0, lt=1.0)


# Punctuation becomes a space before splitting into words; apostrophes, hyphens inside words,
# '+', '#', '$', '€', '£' and '/' are kept so that "c++", "c#", "$", "don't" and "two-factor" stay words.
_SEPARATORS = str.maketrans({c: " " for c in "!\"%&()*,.:;<=>?@[\\]^`{|}~“”«»‘\t\n\r"} | {"’": "'"})
# The same mapping for ASCII text as a byte table (bytes.translate is several times faster).
_ASCII_SEPARATORS = bytes(ord(_SEPARATORS[b]) if b in _SEPARATORS else b for b in range(128)) + bytes(range(128, 256))
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WIDE = re.compile(r"[\u2e80-\uffff]")
_OPERATORS = re.compile(r"\d\s*[-+*/^×÷]\s*\d|\d\s*[²³]")
_LIST_ITEM = re.compile(r"(?m)^\s*(?:[-*•]|\d+[.)])\s+")
_CODE_SYMBOLS = re.compile(r"[{};]\s*$|=>|->|::|\(\)|==|!=|\bdef |\bfn |#include|</?\w+>", re.M)
_SECRET = re.compile(
    r"\bsk-[A-Za-z0-9_\-]{16,}|\bAKIA[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{20,}|\bxox[abposr]-[A-Za-z0-9-]{10,}"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----|\b(?:password|passwd|pwd|api[_-]?key|secret|token)\s*[:=]\s*\S{6,}",
    re.I,
)
# Cheap tests that must all fail before the (slower) secret regex can be skipped: a secret-like word
# among the ask's words, or a key-like prefix in its text (see _may_hold_key).
_SECRET_WORDS = frozenset({"password", "passwd", "pwd", "secret", "token", "api_key", "apikey", "api-key",
                           "secret_key", "access_key", "auth_token"})
_SENTENCES_KEPT = re.compile(r"([.!?;:]+(?:\s|$)|[\n。！？；]+)")
_URGENT = frozenset({"please", "now", "asap", "immediately", "pls"})
_CJK_SENTENCES = re.compile(r"[。！!\n]+")
_TOKENS = re.compile(r"\d+(?:,\d+)+|[^\s,()\[\]{}\"“”«»]+|,")
_STRIP = "'\"`*.:!?¿¡"
_FENCE = re.compile(r"```.*?(?:```|$)", re.S)
_MATERIAL = re.compile(r":\s|\n\s*\n")
_DASHES = frozenset({"—", "–", "-", "--"})
_EXEC = "execute"
_CONFIRMATIONS = lx._w("yes yep yeah ok okay sure proceed confirm confirmed approved approve go do it "
                       "ja oui sí si sim")


def _words(lower: str) -> list[str]:
    """The words of a lower-cased text (punctuation as in ``_SEPARATORS``)."""
    if lower.isascii():
        return lower.encode("ascii").translate(_ASCII_SEPARATORS).decode("ascii").split()
    return lower.translate(_SEPARATORS).split()


def ask_text(content: Any) -> str:
    """The text of one message's ``content`` (a string or a list of typed parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, Mapping):
                text = part.get("text")
                if isinstance(text, str):
                    parts.append(text)
        return "\n".join(parts)
    return ""


def _split_conversation(messages: Sequence[Any] | str | None) -> tuple[str, str, int]:
    """(newest user ask, the user ask before it, number of earlier user turns)."""
    if messages is None:
        return "", "", 0
    if isinstance(messages, str):
        return messages, "", 0
    user_texts: list[str] = []
    fallback = ""
    for message in messages:
        if type(message) is not dict and not isinstance(message, Mapping):
            continue
        role = message.get("role")
        if role == "user":
            user_texts.append(ask_text(message.get("content")))
        elif role not in ("system", "developer") and not fallback:
            fallback = ask_text(message.get("content"))
    if not user_texts:
        return fallback, "", 0
    previous = user_texts[-2] if len(user_texts) > 1 else ""
    return user_texts[-1], previous, len(user_texts) - 1


class TaskComplexityClassifier:
    """Deterministic, offline classifier of how much model a chat request needs."""

    def __init__(self, thresholds: ClassifierThresholds | None = None) -> None:
        self.thresholds = thresholds or ClassifierThresholds()
        if self.thresholds.moderate >= self.thresholds.complex:
            raise ValueError(
                "classifier thresholds: 'moderate' must be below 'complex' "
                f"(got moderate={self.thresholds.moderate}, complex={self.thresholds.complex})"
            )

    # ------------------------------------------------------------------ public API

    def assess(self, messages: Sequence[Any] | str | None) -> Assessment:
        """Assess a chat ``messages`` list (or a bare prompt string)."""
        ask, previous, earlier_turns = _split_conversation(messages)
        lower = ask.lower()
        words = _words(lower)
        word_set = _KNOWN.intersection(words)
        signals: list[str] = []
        needs: list[str] = []
        z = _need_logit(ask, lower, words, word_set, signals, needs)
        if previous:
            prev_lower = previous.lower()
            prev_words = _words(prev_lower)
            prev_z = _need_logit(previous, prev_lower, prev_words, _KNOWN.intersection(prev_words), [], [])
            if prev_z > z:
                z += 0.4 * (prev_z - z)
                signals.append(f"context:earlier_turns={earlier_turns}")
        score = 1.0 / (1.0 + math.exp(-z))

        actions = _critical_actions(ask, lower, word_set)
        if not actions and previous and len(words) <= 8 and word_set & _CONFIRMATIONS:
            prev_lower = previous.lower()
            prev_set = _KNOWN.intersection(_words(prev_lower))
            if _critical_actions(previous, prev_lower, prev_set):
                actions = ["confirms_previous_critical_ask"]
        if actions:
            signals.extend(f"critical:{a}" for a in actions)
            return fast_record(Assessment, {
                "complexity": TaskComplexity.CRITICAL,
                "score": round(max(score, 0.9), 4),
                "signals": tuple(signals),
                "needs": (*needs, "reasoning") if "reasoning" not in needs else tuple(needs),
                "words": len(words),
            })
        if score < self.thresholds.moderate:
            level = TaskComplexity.SIMPLE
        elif score < self.thresholds.complex:
            level = TaskComplexity.MODERATE
        else:
            level = TaskComplexity.COMPLEX
        return fast_record(Assessment, {
            "complexity": level, "score": round(score, 4), "signals": tuple(signals), "needs": tuple(needs),
            "words": len(words),
        })


# ---------------------------------------------------------------------- score


def _has_digit(text: str) -> bool:
    return ("0" in text or "1" in text or "2" in text or "3" in text or "4" in text or "5" in text or "6" in text
            or "7" in text or "8" in text or "9" in text)


def _need_logit(
    raw: str, lower: str, words: list[str], word_set: frozenset[str], signals: list[str], needs: list[str]
) -> float:
    n_words = len(words)
    z = -2.2
    if not raw.isascii():
        # Scripts without spaces between words: count about two characters a word.
        wide = len(_WIDE.findall(raw))
        if wide:
            n_words += wide // 2
            if any(h in raw for h in lx.CJK_HARD):
                z += 1.6
                signals.append("hard:cjk")
            if any(d in raw for d in lx.CJK_DELIVERABLE):
                z += 0.5
    # Length: continuous and slowly growing (longer asks need stronger models, with diminishing weight).
    z += min(0.5 * math.log1p(len(raw) / 50.0), 2.2)
    if n_words >= 60:
        signals.append(f"length:{n_words}w")

    # Code: pasted code counts by its size; numbers and symbols inside it are not math.
    prose = raw
    code_lines = 0
    fenced = 0
    if "`" in raw and "```" in raw:  # a one-character test first: much cheaper
        blocks = _FENCE.findall(raw)
        fenced = len(blocks)
        code_lines = sum(b.count("\n") for b in blocks)
        prose = _FENCE.sub(" ", raw)
    code_words = len(word_set & lx.CODE)
    symbols = len(_CODE_SYMBOLS.findall(raw)) if ("(" in raw or "{" in raw or ";" in raw or "=" in raw
                                                  or "<" in raw or "#" in raw) else 0
    code = (min(code_words + 2 * fenced + min(symbols, 3) + min(code_lines / 8.0, 3.0), 7) / 7.0
            if code_words or fenced or symbols else 0.0)

    # "Summarise this: <pasted text>": math and structure are read in the instruction, not the material.
    material = _MATERIAL.search(prose) if (":" in prose or ("\n" in prose and "\n\n" in prose)) else None
    if material and material.start() < len(prose) // 2:
        head_tokens = _tokens(prose[: material.start()].lower())
        if head_tokens and (_opening(head_tokens) in ("ask", "write", "topic") or lx.ARTEFACTS.intersection(
                head_tokens) or (len(head_tokens) >= 3 and not lx.MATH.intersection(head_tokens))):
            prose = prose[: material.start()]
            signals.append("material")

    # Math: every quantity and every operation cue is roughly one more step to get right.
    numbers = len(_NUMBER.findall(prose)) if _has_digit(prose) else 0
    quantities = numbers + len(word_set & lx.NUMBER_WORDS)
    math_words = len(word_set & lx.MATH)
    operators = (len(_OPERATORS.findall(prose)) + ("=" in prose)) if numbers else 0
    if "√" in prose or "∫" in prose or "∑" in prose:
        operators += 1
    is_math = bool((quantities >= 2 and (math_words or operators or "?" in prose))
                   or (math_words >= 2 and quantities) or operators)
    if is_math and not (fenced or symbols) and word_set & lx.CODE <= lx.CODE_EVERYDAY:
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
    hard = word_set & lx.HARD
    if hard:
        z += 1.7 + 0.45 * (min(len(hard), 3) - 1) + (0.8 if hard & lx.PROOF else 0.0)
        signals.append("hard:" + ",".join(sorted(hard)[:3]))
        if "reasoning" not in needs:
            needs.append("reasoning")
    if is_math and not code:
        return z
    analytic = len(word_set & lx.ANALYTIC)
    if analytic:
        z += 1.2 * min(analytic, 3) / 3.0
        signals.append(f"analysis:{analytic}")

    # Structure: list items, several questions, step phrases, constraints.
    items = len(_LIST_ITEM.findall(prose)) if "\n" in prose else 0
    questions = prose.count("?")
    steps = _STEP_PHRASES.count(lower, word_set)
    constraints = len(word_set & lx.CONSTRAINT)
    structure = min(items + max(questions - 1, 0) + 2 * steps + constraints, 8) / 8.0
    if structure:
        z += 1.0 * structure
        signals.append(f"structure:{items}i/{questions}q/{steps}p/{constraints}c")

    # Asked for a deliverable (a text, code, a plan, a checklist) rather than a fact.
    if n_words > 6 and word_set & lx.DELIVERABLE:
        z += 0.7
        signals.append("deliverable")
    if _ADVICE_PHRASES.first(lower, word_set):
        z += 0.5
        signals.append("advice")

    # Pull-downs: a request to be brief; short look-ups and greetings; creative writing. A word
    # problem that mentions a story or a trip is still a math problem, so the last two skip it.
    if word_set & lx.BREVITY or _BREVITY_PHRASES.first(lower, word_set):
        z -= 0.4
        signals.append("brief")
    if n_words <= 12 and (word_set & lx.SIMPLE or lower.startswith(lx.SIMPLE_OPENINGS)):
        z -= 1.2
        signals.append("lookup")
    creative = len(word_set & lx.CREATIVE)
    if creative:
        z -= 0.9 * min(creative, 2) / 2.0
        signals.append(f"creative:{creative}")
    return z


# ---------------------------------------------------------------------- critical


def _may_hold_key(raw: str) -> bool:
    """A superset of _SECRET's key patterns, by substring tests (faster than a regex alternation).

    One-character tests come first: they are several times cheaper than a longer substring's.
    """
    return (("-" in raw and ("sk-" in raw or "xox" in raw or "-----BEGIN" in raw))
            or ("_" in raw and "gh" in raw) or ("K" in raw and "AKIA" in raw))


def _critical_actions(raw: str, lower: str, word_set: frozenset[str]) -> list[str]:
    """Irreversible or high-stakes actions the ask instructs, as ``kind(object)`` strings."""
    found: list[str] = []
    if (word_set & _SECRET_WORDS or _may_hold_key(raw)) and _SECRET.search(raw):
        found.append("secret(in_prompt)")
    if not _worth_scanning(lower, word_set):
        if not lower.isascii():
            _scan_cjk(lower, found)
        return found
    code = ""
    scan = lower.replace("never mind", "nevermind")
    if "`" in scan and "```" in scan:
        code = " ".join(_FENCE.findall(scan))
        scan = _FENCE.sub(" . ", scan)
    # "Summarise this: <pasted text>": only the opening instruction is read, the material is not.
    material = _MATERIAL.search(scan)
    if material:
        head = scan[: material.start()]
        head_tokens = _tokens(head)
        if head_tokens and (_opening(head_tokens) in ("ask", "write", "topic")
                            or lx.ARTEFACTS.intersection(head_tokens)):
            scan = head
    literal = next((c for c in lx.COMMAND_LITERALS if c in scan), "")
    destructive_code = next((c for c in lx.CODE_DESTRUCTIVE if c in code), "") if code else ""
    parts = _SENTENCES_KEPT.split(scan)
    # "... How much does she make?": a word problem (numbers, and a question for a quantity or at the
    # end), whose statements describe a situation.
    word_problem = (("?" in scan or "？" in scan) and len(_NUMBER.findall(scan)) >= 2
                    and (scan.rstrip().endswith(("?", "？")) or any(q in scan for q in lx.QUANTITY_QUESTIONS)))
    for k in range(0, len(parts), 2):
        tokens = _tokens(parts[k])
        if tokens:
            question = k + 1 < len(parts) and ("?" in parts[k + 1] or "？" in parts[k + 1])
            _scan_sentence(tokens, found, literal, destructive_code, question, word_problem)
    if not lower.isascii():
        _scan_cjk(lower, found)
    return found


_ACTION_NOUNS = frozenset(lx.ACTION_NOUNS)


# Words too common to file a phrase under: nearly every ask has them, so a phrase filed under one
# would be searched for in nearly every ask.
_COMMON = lx._w("a the and or for in on of to as at by is i we how what what's should more less en em all")


class _PhraseIndex:
    """Finds which of many phrases occur in a text without scanning the text for each one.

    Each phrase is filed under one of its words, the first one that is not in ``_COMMON``. A phrase
    is searched for (as a substring, so "edge case" still matches "edge cases") only when that word
    and all its other words but the last are among the text's words. So a phrase filed under its
    last word needs that word whole ("and then" is not found in "and thence"), and no phrase is found
    inside a longer word ("in detail" is not in "admin details").
    """

    __slots__ = ("by_word", "needed", "words")

    def __init__(self, phrases: Iterable[str]) -> None:
        by_word: dict[str, list[tuple[str, frozenset[str]]]] = {}
        for phrase in phrases:
            words = phrase.translate(_SEPARATORS).split()
            key = next((w for w in words if w not in _COMMON), words[0])
            by_word.setdefault(key, []).append((phrase, frozenset(words[:-1]) - {key}))
        self.by_word = {w: tuple(v) for w, v in by_word.items()}
        self.words = frozenset(self.by_word)
        # Every word the index looks for (the classifier keeps only the ask's words it needs).
        self.needed = self.words.union(*(others for entries in self.by_word.values() for _, others in entries))

    def count(self, lower: str, word_set: frozenset[str]) -> int:
        n = 0
        for w in word_set & self.words:
            for phrase, others in self.by_word[w]:
                if others <= word_set and phrase in lower:
                    n += 1
        return n

    def occurrences(self, lower: str, word_set: frozenset[str]) -> int:
        """How many times the phrases occur as whole words (not just whether they do)."""
        words = word_set & self.words
        if not words:
            return 0
        padded = f" {lower} "
        return sum(padded.count(f" {phrase} ") for w in words for phrase, _ in self.by_word[w])

    def first(self, lower: str, word_set: frozenset[str]) -> str:
        for w in word_set & self.words:
            for phrase, others in self.by_word[w]:
                if others <= word_set and phrase in lower:
                    return phrase
        return ""


_LITERALS = _PhraseIndex(lx.COMMAND_LITERALS)
_STEP_PHRASES = _PhraseIndex(lx.MULTI_STEP_PHRASES)
_RELATIONS = _PhraseIndex(lx.MATH_RELATIONS)
_ADVICE_PHRASES = _PhraseIndex(lx.ADVICE_PHRASES)
_BREVITY_PHRASES = _PhraseIndex(lx.BREVITY_PHRASES)
_RISK_PHRASES = _PhraseIndex(lx.RISK_PHRASES)
_OBJECT_PHRASES = {kind: _PhraseIndex(phrases) for kind, phrases in lx.RISK_OBJECT_PHRASES.items()}
# Every word any rule looks for. The classifier keeps only an ask's words that are in here, so the
# rules' set operations work on a handful of words instead of the whole ask (same results, less work).
_KNOWN = frozenset().union(
    lx.CODE, lx.NUMBER_WORDS, lx.MATH, lx.HARD, lx.PROOF, lx.ANALYTIC, lx.CONSTRAINT, lx.DELIVERABLE,
    lx.BREVITY, lx.SIMPLE, lx.CREATIVE, lx.RISK_VERB_SET, lx.EXEC_WORDS, lx.LIGHT_VERBS, _ACTION_NOUNS,
    _SECRET_WORDS, _CONFIRMATIONS, {"live"}, *lx.RISK_OBJECTS.values(),
    *(index.needed for index in (_LITERALS, _STEP_PHRASES, _RELATIONS, _ADVICE_PHRASES, _BREVITY_PHRASES,
                                 _RISK_PHRASES, *_OBJECT_PHRASES.values())),
)


# Per kind, every word that can hint at its dangerous object (single words and the words phrases are filed under).
_OBJECT_WORDS = {kind: lx.RISK_OBJECTS[kind] | _OBJECT_PHRASES[kind].words for kind in lx.RISK_OBJECTS}
_ANY_OBJECT_WORD = frozenset().union(*_OBJECT_WORDS.values())
# Per kind, the risky verbs that can do it.
_KIND_VERBS = {kind: frozenset(v for v, kinds in lx.RISK_VERBS.items() if kind in kinds) for kind in lx.RISK_OBJECTS}


def _worth_scanning(lower: str, word_set: frozenset[str]) -> bool:
    """Whether the sentence-level scan can find anything: a risky verb *and* a hint of an object of
    its kind (a cheap superset of what the scan accepts)."""
    verbs = word_set & lx.RISK_VERB_SET
    if verbs:
        named = word_set & _ANY_OBJECT_WORD
        if named:
            for kind, kind_verbs in _KIND_VERBS.items():
                of_kind = named & _OBJECT_WORDS[kind]
                if of_kind and verbs & kind_verbs and (
                        of_kind & lx.RISK_OBJECTS[kind] or _OBJECT_PHRASES[kind].first(lower, word_set)):
                    return True
        # Objects named without a listed word: production, an amount, an admin account, a path.
        if verbs & _KIND_VERBS[lx.DEPLOY] and (verbs & lx.DEPLOY_ITSELF or "prod" in lower):
            return True
        if verbs & _KIND_VERBS[lx.MONEY] and ("$" in lower or "€" in lower or "£" in lower or "¥" in lower):
            return True
        if verbs & _KIND_VERBS[lx.ADMIN] and "admin" in lower:
            return True
        if verbs & _KIND_VERBS[lx.DELETE] and "/" in lower:
            return True
    if _LITERALS.first(lower, word_set):
        return True
    if word_set & lx.EXEC_WORDS and ("prod" in lower or "live" in word_set or "```" in lower):
        return True
    if word_set & lx.LIGHT_VERBS and word_set & _ACTION_NOUNS:
        return True
    return bool(_RISK_PHRASES.first(lower, word_set))


def _tokens(text: str) -> list[str]:
    return [t for t in (raw.strip(_STRIP) for raw in _TOKENS.findall(text)) if t]


def _opening(tokens: list[str]) -> str:
    """A sentence's opening: 'ask', 'do', 'write', 'topic' or '' (a plain instruction or statement)."""
    i = 0
    while i < len(tokens) and (tokens[i] in lx.FILLERS or tokens[i] == ","):
        i += 1
    if i >= len(tokens):
        return ""
    first = tokens[i]
    second = tokens[i + 1] if i + 1 < len(tokens) else ""
    third = tokens[i + 2] if i + 2 < len(tokens) else ""
    pair = (first, second)
    if pair in lx.DO_BIGRAMS:
        return "do"
    if pair in lx.ASK_BIGRAMS:
        if first in ("i", "i'd") and third not in ("to", "know", "understand", "learn"):
            return ""
        if first == "show" and third not in ("how", "what", "why", "which"):
            return "write"
        return "ask"
    if first in lx.ASK_OPENERS or first in lx.ASK_MODAL_FIRST:
        return "ask"
    if first in lx.WRITE_VERBS:
        return "write"
    if first in lx.TOPIC_VERBS:
        return "topic"
    return ""


def _scan_sentence(tokens: list[str], found: list[str], literal: str, destructive_code: str,
                   question: bool = False, word_problem: bool = False) -> None:
    frame = _opening(tokens)
    if frame == "ask":
        return
    # Only verbs that lead their clause instruct in a word problem's story and in a sentence ending in
    # "?" that asks nothing ("delete the orders table on prod, ok?"); a real question offers an
    # alternative or asks ("drop it or truncate it?", "which is better?").
    if frame == "write" and lx.ARTEFACTS.intersection(tokens) and not lx.EXEC_WORDS.intersection(tokens):
        return  # a request to write code or a document, not to run it
    # Clauses end at commas, dashes and clause-break words (and at "and" before another verb).
    clauses: list[list[str]] = [[]]
    for i, t in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if (t in _DASHES or t == "," or t in lx.CLAUSE_BREAKS
                or (t == "and" and (nxt in lx.RISK_VERBS or nxt in lx.EXEC_WORDS))):
            clauses.append([])
        else:
            clauses[-1].append(t)
    leading_only = word_problem
    if question and frame != "do" and not _URGENT.intersection(tokens):
        # "As discussed, what's the difference between DROP TABLE and TRUNCATE?" asks in its second clause.
        if not lx.QUESTION_CUES.isdisjoint(tokens) or any(c and _opening(c) == "ask" for c in clauses):
            return
        leading_only = True
    sentence_text = " " + " ".join(tokens) + " "
    # A destructive command in a plain instruction ("DROP TABLE users", "set verify=False and push it").
    if literal and frame in ("", "do") and literal in sentence_text:
        before = sentence_text[: sentence_text.find(literal)].split()
        if not any(t in lx.NEGATIONS or t.endswith("n't") for t in before):
            _add(found, f"execute({literal.strip()})")
    for clause in clauses:
        if not clause or clause[0] in lx.HYPOTHETICAL or clause[0] in lx.TOPIC_VERBS:
            continue
        clause_text = " " + " ".join(clause) + " "
        verbs: list[tuple[int, tuple[str, ...]]] = []
        for j, t in enumerate(clause):
            if t in lx.RISK_VERBS or t in lx.EXEC_WORDS:
                verbs.append((j, lx.RISK_VERBS.get(t, ()) + ((_EXEC,) if t in lx.EXEC_WORDS else ())))
            elif t in lx.LIGHT_VERBS:
                nouns = [lx.ACTION_NOUNS[n] for n in clause[j + 1: j + 4] if n in lx.ACTION_NOUNS]
                if nouns:
                    verbs.append((j, (nouns[0],)))
        for phrase, kinds in lx.RISK_PHRASES.items():
            at = clause_text.find(" " + phrase + " ")
            if at >= 0:
                verbs.append((clause_text.count(" ", 0, at), kinds))
        if not verbs:
            continue
        negated_from = next(
            (j for j, t in enumerate(clause) if t in lx.NEGATIONS or t.endswith("n't")), len(clause)
        )
        for position, kinds in verbs:
            if position > negated_from or (position and clause[position - 1] in lx.SUBJECTS):
                continue
            if position > 1 and clause[position - 1] == "to" and _intent_before(clause, position - 1):
                continue  # "she agreed to pay": what somebody else means to do, not an instruction
            if leading_only and not _leads(clause, position):
                continue  # "her parents pay her $4 ... how much?": a statement, the verb does not lead
            for kind in kinds:
                obj = _object_for(kind, clause, clause_text, tokens, literal, destructive_code)
                if obj:
                    _add(found, f"{kind}({obj})")


def _intent_before(clause: list[str], to: int) -> bool:
    """Whether "to <verb>" at ``clause[to]`` follows what somebody else wants, agreed or has to do ("she
    agreed to pay", "wants me to pay", "uses his bonus to pay"), with no "you" named as the doer."""
    return not lx.INTENT_BEFORE_TO.isdisjoint(clause[max(to - 3, 0): to]) and "you" not in clause[:to]


def _leads(clause: list[str], position: int) -> bool:
    """Whether the verb at ``position`` leads its clause: it opens it after nothing but LEADING words,
    follows "and" ("skip the canary and roll out ..."), or comes after a "you"."""
    before = clause[:position]
    return not before or before[-1] in ("and", "&") or "you" in before or lx.LEADING.issuperset(before)


def _add(found: list[str], action: str) -> None:
    if action not in found:
        found.append(action)


def _object_for(
    kind: str, clause: list[str], clause_text: str, sentence: list[str], literal: str, destructive_code: str
) -> str:
    """The object that makes ``kind`` dangerous here, or '' when there is none."""
    if kind == _EXEC:
        if literal:
            return literal.strip()
        if any(t.startswith("prod") or t == "live" for t in sentence):
            return "production"
        if destructive_code:
            return f"code:{destructive_code.strip('(')}"
        return ""
    if kind == lx.DEPLOY:
        hit = next((t for t in sentence if t.startswith("prod") or t in lx.RISK_OBJECTS[kind]), "")
        if hit:
            return hit
        joined = " ".join(sentence)
        phrase = next((p for p in lx.RISK_OBJECT_PHRASES[kind] if p in joined), "")
        if phrase:
            return phrase
        # "deploy" itself means production unless a harmless target is named.
        if lx.DEPLOY_ITSELF.intersection(clause) and not lx.NON_PROD_TARGETS.intersection(sentence):
            return "production(implied)"
        return ""
    # Money and secrets may be named anywhere in the sentence; other objects in the same clause.
    scope = sentence if kind in (lx.MONEY, lx.SECRET) else clause
    tokens = set(scope)
    if kind == lx.DELETE and tokens & lx.HARMLESS_DELETE_OBJECTS and not any(t.startswith("prod") for t in tokens):
        return ""
    hit = tokens & lx.RISK_OBJECTS[kind]
    if hit:
        return sorted(hit)[0]
    if kind == lx.ADMIN:
        return next((t for t in scope if "admin" in t), "")
    text = " " + " ".join(scope) + " "
    if kind == lx.MONEY and any(c in text for c in "$€£¥"):
        return "amount"
    if kind == lx.DELETE and any(t.startswith("/") or t.startswith("gs://") or t.startswith("s3://") for t in scope):
        return "path"
    return next((p for p in lx.RISK_OBJECT_PHRASES[kind] if p in text), "")


def _scan_cjk(lower: str, found: list[str]) -> None:
    for sentence in _CJK_SENTENCES.split(lower):
        if not sentence or sentence.isascii():
            continue
        if any(a in sentence for a in lx.CJK_ASK):
            continue
        for verb, kind in lx.CJK_RISK_VERBS.items():
            pos = sentence.find(verb)
            if pos < 0:
                continue
            if any(0 <= sentence.find(n) < pos for n in lx.CJK_NEGATIONS):
                continue
            obj = next((o for o in lx.CJK_OBJECTS[kind] if o in sentence and o != verb), "")
            if obj:
                action = f"{kind}({obj})"
                if action not in found:
                    found.append(action)
