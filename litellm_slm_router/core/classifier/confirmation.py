"""Confirmations and greetings: a short reply that agrees to what came before it ("yes", "ok, go ahead",
"はい", "👍"), and one that only greets ("Hello!", "hey there", "こんにちは").

Such a reply says nothing by itself: a confirmation is as critical as what it confirms
(:meth:`litellm_slm_router.core.classifier.TaskComplexityClassifier.assess`), a greeting never is.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet

from litellm_slm_router.core.classifier.score_words import words

__all__ = ["BARE_CONFIRMATION", "CONFIRMATIONS", "GREETINGS", "bare_confirmation", "bare_greeting"]

# A short reply that confirms the critical ask before it ("yes, go ahead") is critical too.
CONFIRMATIONS = words("yes yep yeah ok okay sure proceed confirm confirmed approved approve go do it "
                      "ja oui sí si sim")
# The words of a reply that only confirms ("yes please", "ok, go ahead", "はい", "👍"): it is critical only
# as the confirmation of a critical act before it, never by its own words.
BARE_CONFIRMATION = CONFIRMATIONS | words(
    """
    please pls plz ahead now then right yup y k kk thanks thank you thx correct exactly absolutely thing that's
    sounds good great fine lgtm on for 👍 👌 ✅ 🙏
    bitte danke genau passt klar gerne vas-y d'accord merci vale claro dale gracias pode beleza obrigado obrigada
    certo va bene grazie graag prima tak dobrze da да давай хорошо спасибо ок так добре evet tamam はい 是的 好的 可以
    好 네 예 응 haan हाँ ठीक نعم تمام ya oke boleh vâng được tack
    """)


# The words of a reply that only greets ("Hello!", "hey team", "good morning"); in a confirmation they change
# nothing ("hi, yes go ahead"), and they confirm nothing themselves ("good morning" is not "good").
GREETINGS = words(
    """
    hello hi hey hiya howdy greetings good morning afternoon evening there team all everyone everybody folks guys
    guten tag bonne journée hallo moin servus bonjour salut coucou hola buenas buenos días ciao salve olá oi bom
    dia hej hei moi terve hoi dag привет здравствуйте добрый день merhaba selam cześć dzień dobry ahoj szia bună
    こんにちは おはよう こんばんは 你好 您好 嗨 안녕하세요 안녕 namaste नमस्ते مرحبا السلام عليكم שלום xin chào halo สวัสดี
    habari jambo
    """)
_CONFIRMING = BARE_CONFIRMATION - GREETINGS


def _only(word_set: AbstractSet[str], wanted: AbstractSet[str], filler: AbstractSet[str]) -> bool:
    """Whether an ask of at most eight words holds a ``wanted`` word and otherwise only ``filler`` words and
    signs without letters or digits ("–", "!!")."""
    if len(word_set) > 8:  # most asks stop here
        return False
    found = False
    for word in word_set:
        if word in wanted:
            found = True
        elif word not in filler and any(c.isalnum() for c in word):
            return False
    return found


def bare_confirmation(word_set: AbstractSet[str]) -> bool:
    """Whether an ask only confirms: at most eight words, each a confirmation word (``BARE_CONFIRMATION``), a
    greeting or a sign, and at least one a confirmation word that is not a greeting."""
    return _only(word_set, _CONFIRMING, GREETINGS)


def bare_greeting(word_set: AbstractSet[str]) -> bool:
    """Whether an ask only greets: at most eight words, each a greeting or a sign, at least one a greeting."""
    return _only(word_set, GREETINGS, frozenset())
