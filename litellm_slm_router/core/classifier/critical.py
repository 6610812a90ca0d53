"""Critical actions: an ask that instructs something irreversible or high-stakes.

A sentence is read clause by clause. A risky verb (:mod:`risk_words`) counts only when it instructs:
not in a question, a hypothetical, after a negation, in a request to write code or a document, or in
a statement about what somebody in a story does or wants; and only when its clause (for money and
secrets: its sentence) names an object of the same kind. Destructive commands (``DROP TABLE``,
``rm -rf``) count by themselves in a plain instruction. Secrets pasted into the prompt count too.
"""

from __future__ import annotations

import re

from litellm_slm_router.core.classifier import risk_words
from litellm_slm_router.core.classifier import risk_words_ext as ext
from litellm_slm_router.core.classifier.score import FENCE, MATERIAL, NUMBER
from litellm_slm_router.core.classifier.text import PhraseIndex, asks_quantity, holds_any, opening, sentence_tokens

__all__ = ["critical_actions"]

_SECRET = re.compile(
    r"\bsk-[A-Za-z0-9_\-]{16,}|\bAKIA[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{20,}|\bxox[abposr]-[A-Za-z0-9-]{10,}"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----|\b(?:password|passwd|pwd|api[_-]?key|secret|token)\s*[:=]\s*\S{6,}",
    re.I,
)
# The secret pattern is slow on a long text (a case-insensitive alternation), so it runs only on an ask
# that has what every match needs: a secret-like word, or a key prefix (see _may_hold_key).
_SECRET_WORDS = frozenset({"password", "passwd", "pwd", "secret", "token", "api_key", "apikey", "api-key",
                           "secret_key", "access_key", "auth_token"})
_SENTENCES_KEPT = re.compile(r"([.!?;:]+(?:\s|$)|[\n。！？；]+)")
_CJK_SENTENCES = re.compile(r"[。！!\n]+")
_URGENT = frozenset({"please", "now", "asap", "immediately", "pls"})
_DASHES = frozenset({"—", "–", "-", "--"})
_EXEC = "execute"
_ACTION_NOUNS = frozenset(risk_words.ACTION_NOUNS)
_LITERALS = PhraseIndex(risk_words.COMMAND_LITERALS)
_RISK_PHRASES = PhraseIndex(risk_words.RISK_PHRASES)
_OBJECT_PHRASES = {kind: PhraseIndex(phrases) for kind, phrases in risk_words.RISK_OBJECT_PHRASES.items()}
# Per kind, every word that can hint at its dangerous object (single words and the words phrases are filed under).
_OBJECT_WORDS = {kind: risk_words.RISK_OBJECTS[kind] | _OBJECT_PHRASES[kind].words for kind in risk_words.RISK_OBJECTS}
_ANY_OBJECT_WORD = frozenset().union(*_OBJECT_WORDS.values())
# Per risky verb, every word that can hint at an object of the kinds of action it can do.
_VERB_OBJECT_WORDS = {verb: frozenset().union(*(_OBJECT_WORDS[kind] for kind in kinds))
                      for verb, kinds in risk_words.RISK_VERBS.items()}
# Per kind, the risky verbs that can do it.
_KIND_VERBS = {kind: frozenset(v for v, kinds in risk_words.RISK_VERBS.items() if kind in kinds)
               for kind in risk_words.RISK_OBJECTS}
_GERUNDS = frozenset(risk_words.GERUNDS)
_PARTICIPLES = frozenset(risk_words.PARTICIPLES)
_PARTICLE_HEADS = frozenset(ext.PARTICLE_VERBS)
_DELETE_OR_CHANGE = _KIND_VERBS[risk_words.DELETE] | _KIND_VERBS[risk_words.CHANGE]
# Every word some rule of _worth_scanning needs (a verb, a form of one, a command, a phrase's key word).
_TRIGGERS = (risk_words.RISK_VERB_SET | _GERUNDS | _PARTICIPLES | _PARTICLE_HEADS | ext.CLI_TOOLS
             | risk_words.EXEC_WORDS | risk_words.LIGHT_VERBS | _LITERALS.words | _RISK_PHRASES.words)
# Every word a test of _worth_scanning looks for. The ask's words are narrowed to these once, so the
# tests after the first look among a handful of words instead of all the ask's (same answers).
_SCANNED = (_TRIGGERS | _ANY_OBJECT_WORD | ext.NEED_WORDS | _ACTION_NOUNS | {"live"}
            | frozenset().union(*ext.PARTICLE_VERBS.values()) | _LITERALS.needed | _RISK_PHRASES.needed
            | frozenset().union(*(phrases.needed for phrases in _OBJECT_PHRASES.values())))
_PLURAL_AUDIENCE = frozenset({"everyone", "everybody", "subscribers", "list", "iedereen", "followers"})
_EVERY = frozenset({"every", "each", "all", "jeden", "jede", "chaque", "cada", "ogni", "elke"})
_TO_ME = frozenset({"me", "myself", "mir", "moi", "mí", "mim"})


def is_prod(token: str) -> bool:
    """Whether a token names production: "prod", "production", "prod-eu", "billing-prod", "produktionsdatenbank"."""
    return (token in ext.PROD_WORDS or token.startswith(ext.PROD_PREFIXES)
            or any(i in token for i in ext.PROD_INFIXES))


def sandboxed(sentence: list[str]) -> bool:
    """A sandbox or a test is named and production is not: the action harms nothing real."""
    if any(is_prod(t) for t in sentence):
        return False
    if ext.SANDBOX.intersection(sentence):
        return True
    text = " " + " ".join(sentence) + " "
    return any(p in text for p in ext.SANDBOX_PHRASES)


def _cli_command(tokens: list[str]) -> str:
    """A command line of a tool that changes real systems, with a mutating subcommand ("gcloud sql instances
    delete"), or ''. Read-only subcommands and dry runs are not."""
    for i, t in enumerate(tokens):
        if t in ext.CLI_TOOLS:
            window = tokens[i + 1: i + 6]
            if ext.CLI_SAFE.isdisjoint(window):
                sub = next((w for w in window if w in ext.CLI_MUTATING
                            or (":" in w and not ext.CLI_MUTATING.isdisjoint(w.split(":")))), "")
                if sub:
                    return f"{t} {sub}"
    return ""


def _may_hold_key(raw: str) -> bool:
    """Whether ``raw`` has one of the key prefixes of ``_SECRET`` (sk-, xox, -----BEGIN, gh?_, AKIA).

    Each prefix holds a "-", a "_" or a "K"; a one-character test is several times cheaper than a
    longer substring's on a long ask, so it comes first.
    """
    return (("-" in raw and ("sk-" in raw or "xox" in raw or "-----BEGIN" in raw))
            or ("_" in raw and "gh" in raw) or ("K" in raw and "AKIA" in raw))


def critical_actions(raw: str, lower: str, word_set: frozenset[str]) -> list[str]:
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
    if "```" in scan:
        code = " ".join(FENCE.findall(scan))
        scan = FENCE.sub(" . ", scan)
    # "Summarise this: <pasted text>": only the opening instruction is read, the material is not.
    material = MATERIAL.search(scan)
    if material:
        head = scan[: material.start()]
        head_tokens = sentence_tokens(head)
        if head_tokens and (opening(head_tokens) in ("ask", "write", "topic")
                            or risk_words.ARTEFACTS.intersection(head_tokens)):
            scan = head
    literal = next((c for c in risk_words.COMMAND_LITERALS if c in scan), "")
    destructive_code = (next((c for c in risk_words.CODE_DESTRUCTIVE if c in code), "")
                        or _cli_command(sentence_tokens(code))) if code else ""
    parts = _SENTENCES_KEPT.split(scan)
    # "... How much does she make?": a word problem (numbers, and a question for a quantity or at the
    # end), whose statements describe a situation.
    word_problem = (("?" in scan or "？" in scan) and len(NUMBER.findall(scan)) >= 2
                    and (scan.rstrip().endswith(("?", "？")) or asks_quantity(scan)))
    for k in range(0, len(parts), 2):
        tokens = sentence_tokens(parts[k])
        if tokens:
            question = k + 1 < len(parts) and ("?" in parts[k + 1] or "？" in parts[k + 1])
            _scan_sentence(tokens, found, literal, destructive_code, question, word_problem)
    if not lower.isascii():
        _scan_cjk(lower, found)
    return found


def _worth_scanning(lower: str, word_set: frozenset[str]) -> bool:
    """Whether the sentence-level scan can find anything: a risky verb *and* a hint of an object of
    its kind (a cheap superset of what the scan accepts)."""
    if word_set.isdisjoint(_TRIGGERS):
        return False  # no word any rule starts from: most asks stop here
    word_set = word_set & _SCANNED  # the ask's words the tests below can find (see _SCANNED)
    prod = "prod" in lower  # production named ("prod", "production", "billing-prod"): one search of the text
    verbs = word_set & risk_words.RISK_VERB_SET
    if verbs:
        named = word_set & _ANY_OBJECT_WORD
        if named:
            for verb in verbs:
                if named.isdisjoint(_VERB_OBJECT_WORDS[verb]):
                    continue  # no named word hints at an object this verb can act on
                for kind in risk_words.RISK_VERBS[verb]:
                    of_kind = named & _OBJECT_WORDS[kind]
                    if of_kind and (of_kind & risk_words.RISK_OBJECTS[kind]
                                    or _OBJECT_PHRASES[kind].first(lower, word_set)):
                        return True
        # Objects named without a listed word: production, an amount, an admin account, a path.
        if verbs & _KIND_VERBS[risk_words.DEPLOY] and (verbs & risk_words.DEPLOY_ITSELF or prod):
            return True
        if verbs & ext.MONEY_ITSELF or (prod and verbs & _DELETE_OR_CHANGE):
            return True
        if verbs & _KIND_VERBS[risk_words.MONEY] and holds_any(lower, "$€£¥"):
            return True
        if verbs & _KIND_VERBS[risk_words.ADMIN] and "admin" in lower:
            return True
        if verbs & _KIND_VERBS[risk_words.DELETE] and "/" in lower:
            return True
    if _LITERALS.first(lower, word_set) or word_set & ext.CLI_TOOLS:
        return True
    forms = (word_set & _GERUNDS or (word_set & _PARTICIPLES and word_set & ext.NEED_WORDS)
             or any(not word_set.isdisjoint(ext.PARTICLE_VERBS[h]) for h in word_set & _PARTICLE_HEADS))
    if forms and (word_set & _ANY_OBJECT_WORD or prod):
        return True
    if word_set & risk_words.EXEC_WORDS and (prod or "live" in word_set or "```" in lower):
        return True
    if word_set & risk_words.LIGHT_VERBS and word_set & _ACTION_NOUNS:
        return True
    return bool(_RISK_PHRASES.first(lower, word_set))


def _scan_sentence(tokens: list[str], found: list[str], literal: str, destructive_code: str,
                   question: bool = False, word_problem: bool = False) -> None:
    frame = opening(tokens)
    if frame == "ask":
        return
    # Only verbs that lead their clause instruct in a word problem's story and in a sentence ending in
    # "?" that asks nothing ("delete the orders table on prod, ok?"); a real question offers an
    # alternative or asks ("drop it or truncate it?", "which is better?").
    if (frame == "write" and risk_words.ARTEFACTS.intersection(tokens)
            and not risk_words.EXEC_WORDS.intersection(tokens)):
        return  # a request to write code or a document, not to run it
    # Clauses end at commas, dashes and clause-break words (and at "and" before another verb).
    clauses: list[list[str]] = [[]]
    for i, t in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
        if (t in _DASHES or t == "," or t in risk_words.CLAUSE_BREAKS
                or (t == "and" and (nxt in risk_words.RISK_VERBS or nxt in risk_words.EXEC_WORDS))):
            clauses.append([])
        else:
            clauses[-1].append(t)
    leading_only = word_problem
    if question and frame != "do" and not _URGENT.intersection(tokens):
        # "As discussed, what's the difference between DROP TABLE and TRUNCATE?" asks in its second clause.
        if not risk_words.QUESTION_CUES.isdisjoint(tokens) or any(c and opening(c) == "ask" for c in clauses):
            return
        leading_only = True
    sentence_text = " " + " ".join(tokens) + " "
    # A destructive command in a plain instruction ("DROP TABLE users", "set verify=False and push it").
    if literal and frame in ("", "do") and literal in sentence_text:
        before = sentence_text[: sentence_text.find(literal)].split()
        if not any(t in risk_words.NEGATIONS or t.endswith("n't") for t in before) and not sandboxed(tokens):
            _add(found, f"execute({literal.strip()})")
    # A command line that changes a real system ("aws ec2 terminate-instances ...", "gcloud sql instances delete").
    cli = _cli_command(tokens) if frame in ("", "do") and not ext.CLI_TOOLS.isdisjoint(tokens) else ""
    if cli and not sandboxed(tokens):
        before = tokens[: tokens.index(cli.split()[0])]
        if not any(t in risk_words.NEGATIONS or t.endswith("n't") for t in before):
            _add(found, f"execute({cli})")
    for clause in clauses:
        if not clause or clause[0] in risk_words.HYPOTHETICAL or clause[0] in risk_words.TOPIC_VERBS:
            continue
        clause_text = " " + " ".join(clause) + " "
        verbs: list[tuple[int, tuple[str, ...]]] = []
        for j, t in enumerate(clause):
            if t in ext.NOUNLIKE and j and not _leads(clause, j):
                continue  # "the blog post", "a text message": a noun here
            if t in ext.PARTICLE_VERBS and not ext.PARTICLE_VERBS[t].keys().isdisjoint(clause[j + 1: j + 9]):
                particle = next(p for p in clause[j + 1: j + 9] if p in ext.PARTICLE_VERBS[t])
                verbs.append((j, (ext.PARTICLE_VERBS[t][particle],)))  # "take the site offline"
            if t in risk_words.RISK_VERBS or t in risk_words.EXEC_WORDS:
                verbs.append((j, risk_words.RISK_VERBS.get(t, ()) + ((_EXEC,) if t in risk_words.EXEC_WORDS else ())))
            elif t in risk_words.PARTICIPLES and ext.NEED_WORDS.intersection(clause[:j]) and not question:
                verbs.append((j, risk_words.PARTICIPLES[t]))  # "we need the service rolled back"
            elif t in risk_words.GERUNDS and j and clause[j - 1] in ext.GERUND_LEADS:
                verbs.append((j, risk_words.GERUNDS[t]))  # "would you mind deleting ...", "go ahead with wiping"
            elif t in risk_words.LIGHT_VERBS:
                nouns = [risk_words.ACTION_NOUNS[n] for n in clause[j + 1: j + 4] if n in risk_words.ACTION_NOUNS]
                if nouns:
                    verbs.append((j, (nouns[0],)))
        for phrase, kinds in risk_words.RISK_PHRASES.items():
            at = clause_text.find(" " + phrase + " ")
            if at >= 0:
                verbs.append((clause_text.count(" ", 0, at), kinds))
        if not verbs:
            continue
        negated_from = next(
            (j for j, t in enumerate(clause) if t in risk_words.NEGATIONS or t.endswith("n't")), len(clause)
        )
        for position, kinds in verbs:
            if position > negated_from or (position and clause[position - 1] in risk_words.SUBJECTS):
                continue
            if position > 1 and clause[position - 1] == "to" and _intent_before(clause, position - 1):
                continue  # "she agreed to pay": what somebody else means to do, not an instruction
            if leading_only and not _leads(clause, position):
                continue  # "her parents pay her $4 ... how much?": a statement, the verb does not lead
            for kind in kinds:
                obj = _object_for(kind, clause, clause_text, tokens, literal, destructive_code, clause[position])
                if obj:
                    _add(found, f"{kind}({obj})")


def _intent_before(clause: list[str], to: int) -> bool:
    """Whether "to <verb>" at ``clause[to]`` follows what somebody else wants, agreed or has to do ("she
    agreed to pay", "wants me to pay", "uses his bonus to pay"), with no "you" named as the doer."""
    return not risk_words.INTENT_BEFORE_TO.isdisjoint(clause[max(to - 3, 0): to]) and "you" not in clause[:to]


def _leads(clause: list[str], position: int) -> bool:
    """Whether the verb at ``position`` leads its clause: it opens it after nothing but LEADING words,
    follows "and" ("skip the canary and roll out ..."), or comes after a "you"."""
    before = clause[:position]
    # "you" leads only as the doer asked for ("she wants you to pay"), not in a story's rule ("you must pay $2").
    return (not before or before[-1] in ("and", "&", "you", "please") or (before[-1] == "to" and "you" in before)
            or risk_words.LEADING.issuperset(before))


def _add(found: list[str], action: str) -> None:
    if action not in found:
        found.append(action)


def _object_for(kind: str, clause: list[str], clause_text: str, sentence: list[str], literal: str,
                destructive_code: str, verb: str = "") -> str:
    """The object that makes ``kind`` dangerous here, or '' when there is none."""
    if sandboxed(sentence):
        return ""  # Stripe test mode, a local minikube, a test email to oneself
    if kind in (ext.MESSAGE, ext.EXPORT):
        return _audience_or_data(kind, clause, sentence, verb)
    if kind == risk_words.CHANGE:
        hit = next((t for t in sentence if is_prod(t) or t in risk_words.RISK_OBJECTS[kind]), "")
        joined = " " + " ".join(sentence) + " "
        return hit or next((p for p in risk_words.RISK_OBJECT_PHRASES[kind] if p in joined), "")
    if kind == _EXEC:
        if literal:
            return literal.strip()
        if any(t.startswith("prod") or t == "live" for t in sentence):
            return "production"
        if destructive_code:
            return f"code:{destructive_code.strip('(')}"
        return ""
    if kind == risk_words.DEPLOY:
        hit = next((t for t in sentence if is_prod(t) or t in risk_words.RISK_OBJECTS[kind]), "")
        if hit:
            return hit
        joined = " ".join(sentence)
        phrase = next((p for p in risk_words.RISK_OBJECT_PHRASES[kind] if p in joined), "")
        if phrase:
            return phrase
        # "deploy" itself means production unless a harmless target is named.
        if risk_words.DEPLOY_ITSELF.intersection(clause) and not risk_words.NON_PROD_TARGETS.intersection(sentence):
            return "production(implied)"
        return ""
    # Money and secrets may be named anywhere in the sentence; other objects in the same clause.
    scope = sentence if kind in (risk_words.MONEY, risk_words.SECRET) else clause
    tokens = set(scope)
    if kind == risk_words.DELETE:
        prod = next((t for t in scope if is_prod(t)), "")
        if prod:
            return prod
        if tokens & risk_words.HARMLESS_DELETE_OBJECTS:
            return ""
    hit = tokens & risk_words.RISK_OBJECTS[kind]
    if hit:
        return sorted(hit)[0]
    if kind == risk_words.ADMIN:
        return next((t for t in scope if "admin" in t), "")
    text = " " + " ".join(scope) + " "
    if kind == risk_words.MONEY and holds_any(text, "$€£¥"):
        return "amount"
    if kind == risk_words.MONEY and verb in ext.MONEY_ITSELF:
        return "refund(implied)"
    if kind == risk_words.DELETE and any(t.startswith(("/", "gs://", "s3://")) for t in scope):
        return "path"
    return next((p for p in risk_words.RISK_OBJECT_PHRASES[kind] if p in text), "")


def _audience_or_data(kind: str, clause: list[str], sentence: list[str], verb: str) -> str:
    """A message's audience when it is many ("all customers", "the mailing list", "#general"), or personal
    data sent or copied out ("all customer emails", "the patient records"); '' when sent to oneself."""
    at = clause.index(verb) if verb in clause else -1
    if 0 <= at < len(clause) - 1 and clause[at + 1] in _TO_ME:
        return ""
    text = " " + " ".join(sentence) + " "
    objects = risk_words.RISK_OBJECTS[kind]
    if kind == ext.MESSAGE:
        hit = next((t for t in sentence if t in objects and t not in ext.SINGLE_AUDIENCE), "")
        if hit and (hit in _PLURAL_AUDIENCE or ext.QUANTIFIERS.intersection(sentence)):
            return hit
        single = next((t for t in sentence if t in ext.SINGLE_AUDIENCE), "")
        if single and _EVERY.intersection(sentence):
            return single  # "every subscriber", "each customer"
        if any(t.startswith("#") and len(t) > 2 for t in sentence):
            return "channel"
        return next((p for p in risk_words.RISK_OBJECT_PHRASES[kind] if p in text), "")
    if ext.ANONYMISED.intersection(sentence):
        return ""
    if verb == "make" and "public" in clause:
        return next((t for t in clause if t in ext.DATA_STORES), "")
    hit = next((t for t in sentence if t in objects), "")
    return hit or next((p for p in risk_words.RISK_OBJECT_PHRASES[kind] if p in text), "")


def _scan_cjk(lower: str, found: list[str]) -> None:
    for sentence in _CJK_SENTENCES.split(lower):
        if not sentence or sentence.isascii():
            continue
        if any(a in sentence for a in risk_words.CJK_ASK):
            continue
        for verb, kind in ext.CJK_ITSELF.items():
            at = sentence.find(verb)
            if at >= 0 and not any(0 <= sentence.find(n) < at for n in risk_words.CJK_NEGATIONS):
                _add(found, f"{kind}({verb})")
        for verb, kind in risk_words.CJK_RISK_VERBS.items():
            pos = sentence.find(verb)
            if pos < 0:
                continue
            if any(0 <= sentence.find(n) < pos for n in risk_words.CJK_NEGATIONS):
                continue
            obj = next((o for o in risk_words.CJK_OBJECTS[kind] if o in sentence and o != verb), "")
            if obj:
                action = f"{kind}({obj})"
                if action not in found:
                    found.append(action)
