"""High stakes in an instruction: the backstop of critical detection.

:mod:`.critical` finds a risky *verb* acting on an object of its own kind ("delete" + "table"), which
misses the many ways people ask for the same thing ("it'd be great if the refunds went out before
noon", "I need the prod cluster gone", "export all EU customer records to the vendor's SFTP"). This
backstop reads the *stakes* instead: an instruction (not a question, an explanation, a draft or
review, a hypothetical, a negated or sandboxed sentence, a statement about what somebody did or
plans) with an action word or a wish ("need", "it would be great if") that names at least one
high-stakes family: production, money, access and secrets, a bulk audience ("all customers",
"everyone"), commitments on someone's behalf (contracts, filings, trades, medical orders), physical
devices (doors, alarms, fleets), accounts together with a verb that ends them, or personal data
together with an outside party. It is deliberately generic: a family is a domain, not a phrasing.
A task spec ("action: delete_tenant", ``{"task": "data_export", ...}``) is read by its words. An
ask that says it changes nothing ("read-only", "dry run", "don't touch ...") and a word problem's
story are not read.

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
from litellm_slm_router.core.classifier.text import asks_quantity, opening, sentence_tokens

__all__ = ["is_word_problem", "stakes_action"]

_SENTENCES = re.compile(r"([.!?;]+(?:\s|$)|[\n。！？；]+)")
_ACTIONS = risk_words.RISK_VERB_SET | risk_words.EXEC_WORDS | words(
    """
    send push make give set turn switch put move copy share grant add remove create rotate reveal print upload
    sync point scale stop restart kill cancel accept sign submit place buy sell change update reset disable
    enable apply run execute post publish email text notify invite pay charge refund transfer wire credit delete
    drop wipe purge revoke suspend deactivate ban close terminate lock unlock open expose export dump mail blast
    broadcast issue approve raise lower increase decrease order file retry reverse resend kick schedule trigger
    release merge deploy restore overwrite hand forward decommission sunset retire zero bump zap nuke ban
    e-sign countersign decline unlock leave truncate vacuum swap process emit block deprovision offboard
    schick sende lösche deaktiviere aktiviere erstelle gib überweise zeige zeig schalte stelle setze lege mach
    envoie supprime désactive effectue crée donne montre envía envia borra elimina desactiva crea haz sube manda
    apaga muestra faça faz mostra invia cancella disattiva fai accredita scala mostrami stuur verwijder maak zet
    wyślij usuń wyłącz firma envíalo presenta emite suspenda desactiva publica passe ferme déverrouille
    verhoog złóż zleć wyeksportuj setz räum stopp kündige entriegle skicka vende envie выдай заблокируй
    удали отправь переведи
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
    # Commitments on someone's behalf: legal, tax, HR, trading, medical orders.
    "commitment": words(
        """
        contract contracts agreement nda lease settlement motion filing patent docusign e-sign countersign
        vat tax-return shares stock stocks etf btc bitcoin brokerage dose dosage insulin mg prescription ehr
        epd mrn termination dismissal resignation vertrag mietvertrag kündigung contrat contrato contratto umowa
        umowę wypowiedzenie
        """
    ),
    # Physical things an agent can open, switch off or flash.
    "physical": words("door doors smartlock gate garage alarm alarms alarmanlage camera cameras interlock "
                      "firmware ota fleet boiler setpoint tür porte puerta deur portão"),
    "outside": words(
        """
        vendor vendors agency partner partners external third-party contractor public anyone anyone-with-the-link
        wetransfer prestataire proveedor fornecedor fornitore externe externo público pública publique öffentlich
        pubblico
        """
    ),
}
# Accounts count with a verb that ends, blocks or merges them ("suspend the organisation", "close my account").
_ACCOUNTS = words("account accounts tenant tenants org orgs organization organisation organizations workspace "
                  "workspaces seats konto konten compte comptes cuenta cuentas conta contas аккаунт")
_ENDING = words("delete remove suspend ban deactivate disable erase wipe close terminate merge cancel block lock "
                "hard-delete deprovision offboard purge lösche sperre deaktiviere ferme supprime désactive "
                "elimina desactiva suspenda cierra usuń zablokuj заблокируй удали 削除")
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
_GATE = frozenset().union(*_FAMILIES.values()) | _EVERYONE | _ACCOUNTS
_WISHES = (" great if ", " nice if ", " helpful if ", " need ", " needs ", " want ", " should be ", " has to be ",
           " must be ", " is to be ", " gone ", " go ahead ", " run it ", " apply it ")
_RUN_AT_ONCE = (" run it", "i'll run", "right after", "right away", "go ahead", "start now",
                "for you to execute", "apply this")
# A task spec for an agent or a tool ("action: delete_tenant", {"task": "data_export", ...}).
_SPEC = re.compile(r"""(?:^|[\s{,"'])(?:action|task|job|tool|command|задача)["']?\s*:""")
# A spec that only plans or drafts, or switches its effect off (dry runs and read-only asks stop earlier).
_SPEC_SAFE = re.compile(r"plan[_-]?only|draft|[\"']?(?:run|execute|confirm|apply|send|modify|write)[\"']?\s*:\s*"
                        r"(?:false|no)\b")
# An ask that says it changes nothing.
_CHANGES_NOTHING = re.compile(r"read[-_ ]?only|dry[-_ ]?run|no changes|(?:don't|do not|never) (?:touch|change|modify)")
_SPEC_WORDS = re.compile(r"[^\w@.\-/:]+")
_SPEC_PARTS = re.compile(r"[\W_]+")
_LIST_MARK = re.compile(r"^(?:[-*•]+|\d+[.)]|step)$")
_TEXT_WORK = words("draft drafts runbook doc docs document onboarding explanation explain summarise summarize review "
                   "outline plan proposal threat model design propose discuss")
_STATEMENT_SUBJECTS = words("we i they he she someone somebody yesterday last earlier i'm im we're i'll we'll i've "
                            "we've our my their his her its")
_NEED = words("need needs want wanted please")
_NEW_STEP = frozenset({"then", "also", "afterwards", "next", "finally"})
_URGENT = frozenset({"now", "asap", "immediately"})
_CURRENCIES = "$€£¥"
# Where a sentence ends, its mark kept with it (a question keeps its "?").
_AFTER_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_SHORT = 7


def is_word_problem(text: str) -> bool:
    """A story with quantities and a question about them: a quantity question ("How much ...", "combien"),
    or a question after sentences that hold two numbers or more ("... pays $4 an item for 12 items. What
    does she spend?"). A question whose numbers are its own is a request ("Can you refund the $18 on
    order 20417?")."""
    if asks_quantity(text):
        return True
    return "?" in text and sum(len(NUMBER.findall(s)) for s in _AFTER_SENTENCE.split(text) if "?" not in s) >= 2


def _families(tokens: set[str], text: str) -> set[str]:
    found = {name for name, vocabulary in _FAMILIES.items() if not tokens.isdisjoint(vocabulary)}
    if any(is_prod(t) or t.startswith("prod.") for t in tokens):
        found.add("production")
    if (tokens & _QUANTIFIERS and tokens & _AUDIENCE) or tokens & _EVERYONE:
        found.add("bulk_audience")
    if tokens & _ACCOUNTS and tokens & _ENDING:
        found.add("accounts")
    if any(c in text for c in _CURRENCIES):
        found.add("money")
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
            and "prod" not in lower and "$" not in lower  # the other currency signs are not ASCII
            and (lower.isascii() or not any(c in lower for c in _CURRENCIES))
            and not (":" in lower and _SPEC.search(lower))):
        return ""
    text = FENCE.sub(" . ", lower.replace("\u2019", "'"))
    material = MATERIAL.search(text)
    if material and text[: material.start()].strip():
        head = sentence_tokens(_SENTENCES.split(text[: material.start()].strip())[-1])
        if head and opening([t for t in head if t not in risk_words.LEADING] or head) in ("ask", "write", "topic"):
            text = text[: material.start()]  # "Summarise these notes: <pasted>": the pasted part is not read
    if _CHANGES_NOTHING.search(text) or is_word_problem(text):
        return ""  # says it changes nothing; a word problem's story (the verb-based scan reads those)
    at_once = any(p in text for p in _RUN_AT_ONCE)
    if ":" in text and _SPEC.search(text):
        return "" if _SPEC_SAFE.search(text) else _spec_stakes(text)
    parts = _SENTENCES.split(text)
    sentences = [([t for t in sentence_tokens(parts[k]) if not _LIST_MARK.match(t)],
                  k + 1 < len(parts) and "?" in parts[k + 1]) for k in range(0, len(parts), 2)]
    sentences = [(tokens, question) for tokens, question in sentences if tokens]
    if not sentences:
        return ""
    everything = {t.removesuffix("'s") for tokens, _ in sentences for t in tokens}
    whole = _families(everything, text)
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
        if plain & _TEXT_WORK and not at_once:
            continue
        if plain.isdisjoint(_ACTIONS) and not any(w in sentence_text for w in _WISHES):
            continue
        families = _families(plain, sentence_text)
        if len(tokens) <= _SHORT:
            families |= whole
        if _high_stakes(families):
            return "stakes(" + ",".join(sorted(families)) + ")"
    return ""


def _spec_stakes(text: str) -> str:
    """A task spec (keys and values, JSON or YAML) whose words name an action and high stakes."""
    tokens = set(_SPEC_WORDS.split(text)) | set(_SPEC_PARTS.split(text))
    tokens.discard("")
    families = _families(tokens, text)
    if (tokens & _ACTIONS or tokens & _ENDING) and _high_stakes(families):
        return "stakes(spec:" + ",".join(sorted(families)) + ")"
    return ""
