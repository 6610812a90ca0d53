"""High stakes in an instruction: the backstop of critical detection.

:mod:`.critical` finds a risky *verb* acting on an object of its own kind ("delete" + "table"), which
misses the many ways people ask for the same thing ("it'd be great if the refunds went out before
noon", "I need the prod cluster gone", "export all EU customer records to the vendor's SFTP"). This
backstop reads the *stakes* instead: an instruction (not a question, an explanation, a draft or
review, a hypothetical, a negated or sandboxed sentence, a statement about what somebody did or
plans) with an action word or a wish ("need", "it would be great if") that names at least one
high-stakes family: production, money, access and secrets, a bulk audience ("all customers",
"everyone"), or personal data together with an outside party. It is deliberately generic: a
family is a domain, not a phrasing.

A sentence of seven words or fewer borrows the families of the whole ask ("What's the root password
for db-prod-01? Need it now."). When the ask opens with a question or a request for text, only
sentences that start a new step ("then", "also", ...) or urge it ("Need it now.") are read, unless
the ask says the result is run at once ("I'll run it right away").
"""

from __future__ import annotations

import re

from litellm_slm_router.core.classifier import risk_words
from litellm_slm_router.core.classifier.critical import is_prod, sandboxed
from litellm_slm_router.core.classifier.score import FENCE, MATERIAL, NUMBER
from litellm_slm_router.core.classifier.score_words import words
from litellm_slm_router.core.classifier.text import opening, sentence_tokens

__all__ = ["stakes_action"]

_SENTENCES = re.compile(r"([.!?;]+(?:\s|$)|[\n。！？；]+)")
_ACTIONS = risk_words.RISK_VERB_SET | risk_words.EXEC_WORDS | words(
    """
    send push make give set turn switch put move copy share grant add remove create rotate reveal print upload
    sync point scale stop restart kill cancel accept sign submit place buy sell change update reset disable
    enable apply run execute post publish email text notify invite pay charge refund transfer wire credit delete
    drop wipe purge revoke suspend deactivate ban close terminate lock unlock open expose export dump mail blast
    broadcast issue approve raise lower increase decrease order file retry reverse resend kick schedule trigger
    release merge deploy restore overwrite hand forward
    schick sende lösche deaktiviere aktiviere erstelle gib überweise zeige zeig schalte stelle setze lege mach
    envoie supprime désactive effectue crée donne montre envía envia borra elimina desactiva crea haz sube manda
    apaga muestra faça faz mostra invia cancella disattiva fai accredita scala mostrami stuur verwijder maak zet
    wyślij usuń wyłącz
    """
)
_FAMILIES = {
    "money": words(
        """
        refund refunds wire payout payouts payroll invoice invoices chargeback bonus credit credits payment payments
        salary salaries überweisung rückerstattung gutschrift virement remboursement reembolso transferencia
        estorno transferência rimborso bonifico terugbetaling overboeking przelew zwrot
        """
    ),
    "access": words(
        """
        password passwords passwd secret secrets api-key apikey token tokens credential credentials sudo root owner
        admin admins administrator iam role roles permission permissions privileges 2fa mfa two-factor sso okta kms
        keypair .env passwort zwei-faktor zwei-faktor-pflicht contraseña senha wachtwoord hasło
        """
    ),
    "people_data": words("pii personal emails e-mails phone phones addresses contacts crm records téléphone teléfono "
                         "telefone telefono numéros"),
    "outside": words(
        """
        vendor vendors agency partner partners external third-party contractor public anyone anyone-with-the-link
        wetransfer prestataire proveedor fornecedor fornitore externe externo público pública publique öffentlich
        pubblico
        """
    ),
}
_QUANTIFIERS = words("all every entire whole full complete complète completa completo alle allen jeden tous toutes "
                     "tout todos todas toda tutti tutte wszystkich wszyscy")
_AUDIENCE = words(
    """
    customer customers user users subscriber subscribers member members employee employees staff clients devices
    accounts contacts followers drivers technicians engineers list base mitarbeitenden kunden nutzer utilisateurs
    clientes usuarios utenti clienti klanten gebruikers
    """
)
_EVERYONE = words("everyone everybody iedereen")
# An ask names one of these (or a bulk audience, production, a currency) before any sentence is read.
_GATE = frozenset().union(*_FAMILIES.values()) | _EVERYONE
_WISHES = (" great if ", " nice if ", " helpful if ", " need ", " needs ", " want ", " should be ", " has to be ",
           " must be ", " is to be ", " gone ", " go ahead ", " run it ", " apply it ")
_RUN_AT_ONCE = (" run it", "i'll run", "i'll paste", "right after", "right away", "go ahead")
_TEXT_WORK = words("draft drafts runbook doc docs document onboarding explanation explain summarise summarize review "
                   "outline plan proposal threat model")
_STATEMENT_SUBJECTS = words("we i they he she someone somebody yesterday last earlier i'm im we're i'll we'll i've "
                            "we've our my their his her its")
_NEED = words("need needs want wanted please")
_NEW_STEP = frozenset({"then", "also", "afterwards", "next", "finally"})
_URGENT = frozenset({"now", "asap", "immediately"})
_CURRENCIES = "$€£¥"
_SHORT = 7


def _families(tokens: set[str], text: str, word_problem: bool) -> set[str]:
    found = {name for name, vocabulary in _FAMILIES.items() if not tokens.isdisjoint(vocabulary)}
    if any(is_prod(t) or t.startswith("prod.") for t in tokens):
        found.add("production")
    if (tokens & _QUANTIFIERS and tokens & _AUDIENCE) or tokens & _EVERYONE:
        found.add("bulk_audience")
    if not word_problem and any(c in text for c in _CURRENCIES):
        found.add("money")
    if word_problem:
        found.discard("money")  # "a shop sells notebooks at $3.20 ... how much?"
    return found


def _high_stakes(families: set[str]) -> bool:
    """Personal data counts with an outside party; every other family counts alone."""
    return bool(families - {"people_data", "outside"}) or {"people_data", "outside"} <= families


def _skip(tokens: list[str], frame: str, question: bool, at_once: bool) -> bool:
    if frame in ("ask", "topic") or (frame == "write" and not at_once):
        return True
    if question and frame != "do" and _URGENT.isdisjoint(tokens):
        return True
    if tokens[0] in risk_words.HYPOTHETICAL or sandboxed(tokens):
        return True
    if tokens[0] in _STATEMENT_SUBJECTS and _NEED.isdisjoint(tokens[:4]):
        return True  # "we dropped it yesterday", "I'm planning to scale ...": a statement
    return any(t in risk_words.NEGATIONS or t.endswith("n't") for t in tokens)


def stakes_action(lower: str, word_set: frozenset[str]) -> str:
    """``stakes(families)`` when the ask instructs something that names high stakes, else ''."""
    if (word_set.isdisjoint(_GATE) and (word_set.isdisjoint(_QUANTIFIERS) or word_set.isdisjoint(_AUDIENCE))
            and "prod" not in lower and not any(c in lower for c in _CURRENCIES)):
        return ""
    text = FENCE.sub(" . ", lower.replace("\u2019", "'"))
    material = MATERIAL.search(text)
    if material and text[: material.start()].strip():
        head = sentence_tokens(_SENTENCES.split(text[: material.start()].strip())[-1])
        if head and opening([t for t in head if t not in risk_words.LEADING] or head) in ("ask", "write", "topic"):
            text = text[: material.start()]  # "Summarise these notes: <pasted>": the pasted part is not read
    word_problem = ((len(NUMBER.findall(text)) >= 2 and "?" in text)
                    or any(q in text for q in risk_words.QUANTITY_QUESTIONS))
    at_once = any(p in text for p in _RUN_AT_ONCE)
    parts = _SENTENCES.split(text)
    sentences = [(sentence_tokens(parts[k]), k + 1 < len(parts) and "?" in parts[k + 1])
                 for k in range(0, len(parts), 2)]
    sentences = [(tokens, question) for tokens, question in sentences if tokens]
    if not sentences:
        return ""
    everything = {t.removesuffix("'s") for tokens, _ in sentences for t in tokens}
    whole = _families(everything, text, word_problem)
    if not _high_stakes(whole):
        return ""
    first = sentences[0][0]
    opens_with_text_request = opening([t for t in first if t not in risk_words.LEADING] or first) in (
        "ask", "write", "topic") and not at_once
    for n, (tokens, question) in enumerate(sentences):
        if n and opens_with_text_request and tokens[0] not in _NEW_STEP and not (
                len(tokens) <= _SHORT and not _URGENT.isdisjoint(tokens)):
            continue  # the details of a question or a request for text (not "Need it now.")
        lead = next((i for i, t in enumerate(tokens) if t not in risk_words.LEADING), len(tokens) - 1)
        if _skip(tokens, opening(tokens[lead:]), question, at_once):
            continue
        plain = {t.removesuffix("'s") for t in tokens}
        sentence_text = " " + " ".join(tokens) + " "
        if plain & _TEXT_WORK or any(q in sentence_text for q in risk_words.QUANTITY_QUESTIONS):
            continue
        if plain.isdisjoint(_ACTIONS) and not any(w in sentence_text for w in _WISHES):
            continue
        families = _families(plain, sentence_text, word_problem)
        if len(tokens) <= _SHORT:
            families |= whole
        if _high_stakes(families):
            return "stakes(" + ",".join(sorted(families)) + ")"
    return ""
