"""Reading a chat request as text: the newest user ask, its words, its tokens, phrase look-ups."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from litellm_slm_router.core.classifier import risk_words
from litellm_slm_router.core.classifier.score_words import words as word_list

__all__ = ["PhraseIndex", "ask_text", "asks_quantity", "holds_any", "opening", "sentence_tokens", "split_conversation",
           "turns", "words"]

# Punctuation becomes a space before splitting into words; apostrophes, hyphens inside words,
# '+', '#', '$', '€', '£' and '/' are kept so that "c++", "c#", "$", "don't" and "two-factor" stay words.
_SEPARATORS = str.maketrans({c: " " for c in "!\"%&()*,.:;<=>?@[\\]^`{|}~“”«»‘\t\n\r"} | {"’": "'"})
# The same mapping for ASCII text as a 256-byte table: bytes.translate is several times faster than
# str.translate, which is a measurable part of the classifier's time on a long ask (BENCHMARKS.md, 2).
_ASCII_SEPARATORS = bytes(ord(_SEPARATORS[b]) if b in _SEPARATORS else b for b in range(128)) + bytes(range(128, 256))
# Sentence tokens: numbers with thousands separators, runs of non-space non-bracket characters, commas.
_TOKENS = re.compile(r"\d+(?:,\d+)+|[^\s,()\[\]{}\"“”«»]+|,")
_STRIP = "'\"`*.:!?¿¡"
# Words too common to file a phrase under: nearly every ask has them.
_COMMON = word_list("a the and or for in on of to as at by is i we how what what's should more less en em all")


def words(lower: str) -> list[str]:
    """The words of a lower-cased text (punctuation as in ``_SEPARATORS``)."""
    if lower.isascii():
        return lower.encode("ascii").translate(_ASCII_SEPARATORS).decode("ascii").split()
    return lower.translate(_SEPARATORS).split()


def holds_any(text: str, parts: Iterable[str]) -> bool:
    """Whether ``text`` holds any of ``parts`` (characters or substrings) as a substring. The searches run
    in C, one after the other, without a Python loop: the classifier does several such tests per ask."""
    return any(map(text.__contains__, parts))


def asks_quantity(text: str) -> bool:
    """Whether a lower-cased text holds a quantity question ("how many", "combien", ...), as a substring."""
    return holds_any(text, risk_words.QUANTITY_STEMS) and holds_any(text, risk_words.QUANTITY_QUESTIONS)


def sentence_tokens(text: str) -> list[str]:
    """A sentence's tokens, with quotes and trailing punctuation stripped (commas are tokens)."""
    return [t for t in (raw.strip(_STRIP) for raw in _TOKENS.findall(text)) if t]


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


def split_conversation(messages: Sequence[Any] | str | None) -> tuple[str, str, int]:
    """(newest user ask, the user ask before it, number of earlier user turns).

    System and developer prompts are not read; without a user turn, the first other message is the ask.
    """
    if messages is None:
        return "", "", 0
    if isinstance(messages, str):
        return messages, "", 0
    user_texts: list[str] = []
    fallback = ""
    for message in messages:
        if not isinstance(message, Mapping):
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


def turns(messages: Sequence[Any] | str | None) -> list[tuple[str, str]]:
    """The conversation's (role, text) turns, oldest first, without system and developer prompts."""
    if messages is None or isinstance(messages, str):
        return [("user", messages)] if messages else []
    return [(str(m.get("role")), ask_text(m.get("content"))) for m in messages
            if isinstance(m, Mapping) and m.get("role") not in ("system", "developer")]


def opening(tokens: list[str]) -> str:
    """A sentence's opening: 'ask', 'do', 'write', 'topic' or '' (a plain instruction or statement)."""
    i = 0
    while i < len(tokens) and (tokens[i] in risk_words.FILLERS or tokens[i] == ","):
        i += 1
    if i >= len(tokens):
        return ""
    first = tokens[i]
    second = tokens[i + 1] if i + 1 < len(tokens) else ""
    third = tokens[i + 2] if i + 2 < len(tokens) else ""
    pair = (first, second)
    if pair in risk_words.DO_BIGRAMS:
        return "do"
    if pair in risk_words.ASK_BIGRAMS:
        if first in ("i", "i'd") and third not in ("to", "know", "understand", "learn"):
            return ""
        if first == "show" and third not in ("how", "what", "why", "which"):
            return "write"
        return "ask"
    if first in risk_words.ASK_OPENERS or first in risk_words.ASK_MODAL_FIRST:
        return "ask"
    if first in risk_words.WRITE_VERBS:
        return "write"
    if first in risk_words.TOPIC_VERBS:
        return "topic"
    return ""


class PhraseIndex:
    """Finds which of many phrases occur in a text without scanning the text for each one.

    Each phrase is filed under one of its words, the first one that is not in ``_COMMON``. A phrase
    is searched for (as a substring, so "edge case" still matches "edge cases") only when that word
    and all its other words but the last are among the text's words. So a phrase filed under its
    last word needs that word whole ("and then" is not found in "and thence"), and no phrase is found
    inside a longer word ("in detail" is not in "admin details").
    """

    def __init__(self, phrases: Iterable[str]) -> None:
        by_word: dict[str, list[tuple[str, frozenset[str]]]] = {}
        for phrase in phrases:
            phrase_words = phrase.translate(_SEPARATORS).split()
            key = next((w for w in phrase_words if w not in _COMMON), phrase_words[0])
            by_word.setdefault(key, []).append((phrase, frozenset(phrase_words[:-1]) - {key}))
        self.by_word = {w: tuple(v) for w, v in by_word.items()}
        self.words = frozenset(self.by_word)
        # Every word a phrase can need to be found: its key word and the others it checks.
        self.needed = self.words.union(*(others for entries in self.by_word.values() for _, others in entries))

    def _found(self, lower: str, word_set: frozenset[str], only_first: bool = False) -> list[str]:
        """The phrases that occur (with ``only_first``, the first one alone)."""
        found = []
        for w in word_set & self.words:
            for phrase, others in self.by_word[w]:
                if others <= word_set and phrase in lower:
                    found.append(phrase)
                    if only_first:
                        return found
        return found

    def count(self, lower: str, word_set: frozenset[str]) -> int:
        """How many of the phrases occur."""
        return len(self._found(lower, word_set))

    def occurrences(self, lower: str, word_set: frozenset[str]) -> int:
        """How many times the phrases occur as whole words (not just whether they do)."""
        padded = f" {lower} "
        return sum(padded.count(f" {phrase} ") for w in word_set & self.words for phrase, _ in self.by_word[w])

    def first(self, lower: str, word_set: frozenset[str]) -> str:
        """The first phrase found, or ""."""
        found = self._found(lower, word_set, only_first=True)
        return found[0] if found else ""
