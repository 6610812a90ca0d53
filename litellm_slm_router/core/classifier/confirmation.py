"""Confirmations: a short reply that agrees to what came before it ("yes", "ok, go ahead", "はい", "👍").

Such a reply says nothing by itself; whether it is critical is decided by what it confirms
(:meth:`litellm_slm_router.core.classifier.TaskComplexityClassifier.assess`).
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet

from litellm_slm_router.core.classifier.score_words import words

__all__ = ["BARE_CONFIRMATION", "CONFIRMATIONS", "bare_confirmation"]

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


def bare_confirmation(word_set: AbstractSet[str]) -> bool:
    """Whether an ask only confirms: at most eight words, each a confirmation word (``BARE_CONFIRMATION``) or
    a sign without letters or digits ("–", "!!"), and at least one a confirmation word."""
    if len(word_set) > 8:  # most asks stop here
        return False
    confirms = False
    for word in word_set:
        if word in BARE_CONFIRMATION:
            confirms = True
        elif any(c.isalnum() for c in word):
            return False
    return confirms
