"""The classifier on our own labelled prompts, ask-vs-do pairs, and conversation handling."""

import json
import math
from collections import Counter, defaultdict
from pathlib import Path

import pytest

from litellm_slm_router import ClassifierThresholds, TaskComplexity, TaskComplexityClassifier

DATA = Path(__file__).parent / "data" / "labelled_prompts.jsonl"
ROWS = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]
# Known false criticals of the learned critical model (core/classifier/critical_model.py): it flags
# about one in ten of an unseen author's near misses (precision 0.877 / 0.913 / 0.919 on sets 5 / 6 / 7).
MODEL_FALSE_CRITICAL = pytest.mark.xfail(
    strict=True, reason="a false critical of the learned critical model (BENCHMARKS.md, section 1)")
CLASSIFIER = TaskComplexityClassifier()


def test_labelled_set_accuracy_and_critical_recall():
    confusion = Counter()
    for row in ROWS:
        confusion[(row["label"], CLASSIFIER.assess(row["messages"]).complexity.value)] += 1
    accuracy = sum(n for (label, got), n in confusion.items() if label == got) / len(ROWS)
    critical = sum(n for (label, _), n in confusion.items() if label == "critical")
    recalled = confusion[("critical", "critical")]
    false_critical = sum(n for (label, got), n in confusion.items() if got == "critical" and label != "critical")
    # The quality target: accuracy >= 0.90 over the four levels (measured 0.905) and every instructed
    # critical action caught.
    assert accuracy >= 0.90, confusion
    assert recalled == critical, "every instructed critical action must be caught"
    assert false_critical <= 1, confusion


def test_labelled_set_covers_what_it_must():
    kinds = Counter(k for row in ROWS for k in row["kind"])
    labels = Counter(row["label"] for row in ROWS)
    assert len(ROWS) >= 200
    assert min(labels[level] for level in ("simple", "moderate", "complex", "critical")) >= 45
    assert kinds["ask_do_pair"] >= 100 and kinds["negation"] >= 15 and kinds["code"] >= 30
    assert kinds["non_english"] >= 30 and kinds["multi_turn"] + kinds["system_prompt"] >= 15


def test_every_ask_do_pair_separates():
    pairs = defaultdict(list)
    for row in ROWS:
        if row.get("pair"):
            pairs[row["pair"]].append(row)
    assert len(pairs) >= 50
    for members in pairs.values():
        for row in members:
            got = CLASSIFIER.assess(row["messages"]).complexity
            if row["label"] == "critical":
                assert got is TaskComplexity.CRITICAL, row["messages"][-1]["content"]
            else:
                assert got is not TaskComplexity.CRITICAL, row["messages"][-1]["content"]


@pytest.mark.parametrize(
    ("prompt", "critical"),
    [
        ("How do I delete a file in Python?", False),
        ("Delete all customer records older than 2019 from the production database", True),
        ("how do I drop a table", False),
        ("drop the orders table on prod", True),
        ("Do not deploy yet, just summarise the plan", False),
        ("Don't wait for approval, deploy to production now", True),
        ("What happens if I disable MFA for the admin account?", False),
        ("Turn off MFA for the finance team", True),
        ("Write a script that deletes files older than 30 days", False),
        ("Write a script that deletes old backups and run it on prod now", True),
        ("Transfer $5,000 from the company account to IBAN DE89370400440532013000", True),
        ("What is a wire transfer?", False),
        ("Lösche alle Kundendaten aus der Produktionsdatenbank", True),
        ("Wie lösche ich eine Tabelle in PostgreSQL?", False),
        ("删除生产数据库中的所有客户记录", True),
        ("如何删除数据库中的表？", False),
        # What somebody in a story wants, agreed or has to pay is a word problem, not an instruction.
        ("Lena agreed to pay her brother $8 an hour to paint the fence. He worked 6 hours. How much does she "
         "owe him?", False),
        ("My landlord wants me to pay $1,200 rent plus a $50 fee each month. How much is that in a year?", False),
        ("Omar uses his bonus to pay off a $900 loan and has $340 left. How big was the bonus?", False),
        ("The club has to transfer $75 from each member's dues to the league. There are 24 members. How much "
         "goes to the league?", False),
        ("Half of her pay goes to rent and she earns $2,400 a month. How much is left for everything else?", False),
        ("Electricity costs $0.15 per kWh plus a $9 monthly service charge. What is the bill for 420 kWh?", False),
        ("Un taxi cobra 3 € al subir y 1,20 € por kilómetro. Además paga 2 € de peaje. ¿Cuánto cuesta un viaje "
         "de 10 km?", False),
        # The same verbs as instructions, including inside a question about the result.
        ("Transfer $500 from checking to savings and tell me how much is left in checking.", True),
        ("My manager wants you to pay the $4,000 Acme invoice today from the operating account.", True),
        ("I need you to wire $2,000 to the supplier's IBAN now.", True),
        ("Use the company card to pay the $3,100 AWS bill before Friday.", True),
        ("Refund the $249 for order 55102 now. What will the customer's balance be after that?", True),
        ("Quickly wire $1,500 to the contractor's account before 5 pm. How much will remain in it?", True),
        # An instruction with a question mark or a tag is still an instruction ...
        ("Delete the orders table on prod, ok?", True),
        ("drop the users table on prod?", True),
        ("Transfer $5,000 to IBAN DE89370400440532013000, can you confirm when done?", True),
        ("Forget the review — push build 1187 to production, alright?", True),
        # ... a question that offers an alternative or asks something is not.
        ("Drop the users table on prod or truncate it?", False),
        ("Delete or archive old customer records, which is better?", False),
        ("Run the migration against prod, is that safe?", False),
        pytest.param("Refund the customer or offer store credit for order 55102?", False, marks=MODEL_FALSE_CRITICAL),
    ],
)
def test_ask_versus_do(prompt, critical):
    a = CLASSIFIER.assess(prompt)
    assert (a.complexity is TaskComplexity.CRITICAL) is critical, a.signals
    if critical:
        assert any(s.startswith("critical:") for s in a.signals)


def _critical_mismatches(rows, rewrite) -> list[str]:
    """The rows whose last ask, rewritten, is critical when its label is not, or not when it is."""
    wrong = []
    for row in rows:
        messages = [dict(m) for m in row["messages"]]
        messages[-1]["content"] = rewrite(messages[-1]["content"])
        critical = CLASSIFIER.assess(messages).complexity is TaskComplexity.CRITICAL
        if critical != (row["label"] == "critical"):
            wrong.append(messages[-1]["content"][:80])
    return wrong


@pytest.mark.parametrize("tag", [", ok?", pytest.param(", can you confirm when done?", marks=MODEL_FALSE_CRITICAL),
                                 "?", ", alright?"])
def test_a_tag_never_hides_a_labelled_critical_ask(tag):
    # Every prompt of the labelled set with a tag question put on its last ask: the critical ones stay
    # critical (the previous code lost 108 of these 256), and nothing else becomes critical (the learned
    # model takes "hi, can you confirm when done?" and "hey, ..." for instructions).
    wrong = _critical_mismatches(ROWS, lambda text: text.rstrip(" .!\n") + tag)
    assert not wrong, wrong


@pytest.mark.parametrize(("before", "after"), [("Hey, ", ""), ("URGENT: ", ""), ("As discussed, ", ""),
                                               ("FYI ", ""), ("Hi team,\n\n", ""), ("", " Thanks!"),
                                               ("", "\n\nThanks,\nBob")])
def test_a_greeting_or_sign_off_never_hides_a_labelled_critical_ask(before, after):
    critical_rows = [row for row in ROWS if row["label"] == "critical"]
    missed = _critical_mismatches(
        critical_rows, lambda text: before + (text[0].lower() + text[1:] if before.endswith(" ") else text) + after)
    assert not missed


def test_system_prompt_does_not_push_a_request_up():
    ask = {"role": "user", "content": "thanks! what's 2+2?"}
    heavy = {"role": "system", "content": "You are a principal distributed-systems architect. Prove every claim "
             "rigorously, analyse trade-offs, optimise algorithms, audit security vulnerabilities. " * 20}
    alone = CLASSIFIER.assess([ask])
    with_system = CLASSIFIER.assess([heavy, ask])
    assert with_system.complexity is alone.complexity is TaskComplexity.SIMPLE
    assert with_system.score == alone.score


def test_newest_ask_first_and_confirmations_inherit_a_critical_ask():
    convo = [
        {"role": "user", "content": "Drop the orders table on the production database."},
        {"role": "assistant", "content": "This is irreversible. Shall I proceed?"},
        {"role": "user", "content": "yes, go ahead"},
    ]
    a = CLASSIFIER.assess(convo)
    assert a.complexity is TaskComplexity.CRITICAL
    assert "critical:confirms_previous_critical_ask" in a.signals
    later = [*convo[:2], {"role": "user", "content": "Actually no. What's the capital of Spain?"}]
    assert CLASSIFIER.assess(later).complexity is TaskComplexity.SIMPLE


def test_score_grows_with_need_and_signals_explain():
    easy = CLASSIFIER.assess("hello there")
    hard = CLASSIFIER.assess("Prove that the greedy algorithm is optimal for interval scheduling, then derive its "
                             "asymptotic complexity and give a counterexample for weighted intervals.")
    assert 0.0 <= easy.score < hard.score <= 1.0
    assert CLASSIFIER.level_of(hard.score) is TaskComplexity.COMPLEX
    assert any(s.startswith("hard:") for s in hard.signals)


def test_a_story_is_not_critical():
    # A false critical of the fourth round's model (a strict xfail until then); not of the fifth's.
    story = ("The harbour town woke slowly: fishermen hauled nets, bakers opened their shutters, and the ferry "
             "sounded twice before leaving for the islands. ")
    assert CLASSIFIER.assess(story).complexity is not TaskComplexity.CRITICAL


def test_a_proof_request_is_not_critical():
    # A false critical of the third round's model ("its", "then", "give"); not of the fourth's.
    hard = CLASSIFIER.assess("Prove that the greedy algorithm is optimal for interval scheduling, then derive its "
                             "asymptotic complexity and give a counterexample for weighted intervals.")
    assert hard.complexity is TaskComplexity.COMPLEX, hard.signals


def test_deterministic_and_robust_to_odd_input():
    prompt = [{"role": "user", "content": [{"type": "text", "text": "Drop the users table on prod"},
                                           {"type": "image_url", "image_url": {"url": "data:..."}}]}]
    assert CLASSIFIER.assess(prompt) == CLASSIFIER.assess(prompt)
    assert CLASSIFIER.assess(prompt).complexity is TaskComplexity.CRITICAL
    for odd in (None, "", [], [{"role": "user", "content": None}], [{"role": "user", "content": 42}], ["x"]):
        assert CLASSIFIER.assess(odd).complexity is TaskComplexity.SIMPLE


MATH = [json.loads(line) for line in (Path(__file__).parent / "data" / "math_steps.jsonl").read_text(
    encoding="utf-8").splitlines() if line.strip()]


def _spearman(xs: list[float], ys: list[float]) -> float:
    def ranks(values: list[float]) -> list[float]:
        order = sorted(range(len(values)), key=values.__getitem__)
        out = [0.0] * len(values)
        i = 0
        while i < len(order):
            j = i
            while j < len(order) and values[order[j]] == values[order[i]]:
                j += 1
            for k in range(i, j):
                out[order[k]] = (i + j - 1) / 2
            i = j
        return out

    rx, ry = ranks(xs), ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    return cov / (sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry)) ** 0.5


def test_word_problems_rank_by_steps_more_than_by_length():
    # tests/data/math_steps.jsonl: 150 hand-written word problems with worked solutions, one to ten
    # operations each, written so that length and steps disagree (long stories with one sum, dense
    # short chains, distractor numbers, numbers in words, German/French/Spanish).
    assert len(MATH) == 150 and all(row["steps"] == len(row["solution"]) for row in MATH)
    assessments = [CLASSIFIER.assess(row["problem"]) for row in MATH]
    assert all(any(s.startswith("math:") for s in a.signals) for a in assessments)
    steps = [row["steps"] for row in MATH]
    by_score = _spearman([a.score for a in assessments], steps)
    by_length = _spearman([float(len(row["problem"])) for row in MATH], steps)
    # Measured 0.59 against 0.45 for length (0.57 before issue 18).
    assert by_score > by_length + 0.1, (by_score, by_length)
    # Words such as "class" or "library" in a word problem are not code, and a story about fees,
    # wages or fares instructs no payment (four of these were flagged critical before).
    assert not any(s.startswith("code:") for a in assessments for s in a.signals)
    assert not [row["id"] for row, a in zip(MATH, assessments, strict=True) if a.complexity is TaskComplexity.CRITICAL]


def test_relations_between_quantities_add_steps():
    plain = CLASSIFIER.assess("Ana has 12 apples and Ben has 5 apples. How many apples do they have?")
    chained = CLASSIFIER.assess("Ana has 12 apples. Ben has 5 more than half as many as Ana, and Cy has "
                                "3 times as many as Ben. How many apples do they have?")
    assert chained.score > plain.score
    relations = next(s for s in chained.signals if s.startswith("math:")).rsplit("/", 1)[1]
    assert relations == "4r"  # more than, as many (twice), times as
    code = CLASSIFIER.assess("Kafka consumer lag spikes every 5 minutes (Java client 3.6, 24 partitions, "
                             "12 consumers). Why?")
    assert any(s.startswith("code:") for s in code.signals)


def _step_phrases(prompt: str) -> int:
    structure = next((s for s in CLASSIFIER.assess(prompt).signals if s.startswith("structure:")), "")
    return int(structure.split("/")[2].rstrip("p")) if structure else 0


def test_phrases_match_whole_words_only_where_it_matters():
    # Phrases filed under an uncommon word are still found: "in detail", "and then" (and "then"),
    # "for each".
    assert _step_phrases("Explain in detail how the cache works, and then list the risks for each module.") == 4
    # ... but not inside longer words ("admin details", "and thence"), even when their common words
    # ("in", "and") occur elsewhere; a phrase's last word may still be inflected ("edge cases").
    assert _step_phrases("Open the page in the admin details tab and thence the billing page.") == 0
    assert _step_phrases("List the edge cases.") == 1
    # Risky phrases work with any casing and punctuation around them.
    assert CLASSIFIER.assess("OK. Now DROP TABLE orders; on prod.").complexity is TaskComplexity.CRITICAL


def test_the_surface_counts_are_read_only_for_weights_that_use_them():
    """The surface counts (characters, sentences, currency signs, ...) weigh 0 in the hand-set weights,
    so the classifier skips them; the score is still exactly the weighted sum over every feature, and a
    weight file that gives one a weight gets it read."""
    from litellm_slm_router.core.classifier import DEFAULT_WEIGHTS, features_of, logit
    from litellm_slm_router.core.classifier.score import SURFACE

    assert SURFACE and not any(DEFAULT_WEIGHTS.get(name) for name in SURFACE)
    labelled = (Path(__file__).parent / "data" / "labelled_prompts.jsonl").read_text(encoding="utf-8").splitlines()
    prompts = [json.loads(line)["messages"] for line in labelled if line.strip()] + [
        "A ticket costs $4.50 and a pass €12. We sold 30% more. How much did we make?\nShow the steps."]
    plain = TaskComplexityClassifier()
    for prompt in prompts:
        a = plain.assess(prompt)
        if a.complexity is not TaskComplexity.CRITICAL and not any(s.startswith("context:") for s in a.signals):
            assert a.score == round(1.0 / (1.0 + math.exp(-logit(features_of(prompt), DEFAULT_WEIGHTS))), 6)
    money = TaskComplexityClassifier(weights={**DEFAULT_WEIGHTS, "money": 1.0})
    prompt = prompts[-1]
    assert features_of(prompt)["money"] == 2.0
    assert money.assess(prompt).score > plain.assess(prompt).score


def test_quantity_questions_are_found_as_substrings_in_any_language():
    """``asks_quantity`` tests a few stems before the fifteen phrases: every phrase must hold a stem, or a
    word problem in that language would stop being recognised."""
    from litellm_slm_router.core.classifier import risk_words
    from litellm_slm_router.core.classifier.text import asks_quantity

    for phrase in risk_words.QUANTITY_QUESTIONS:
        assert any(stem in phrase for stem in risk_words.QUANTITY_STEMS), phrase
        assert asks_quantity(f"el tren sale a las 9; {phrase} pasajeros") and asks_quantity(f"x{phrase}y")
    assert not asks_quantity("how do i merge these two branches")
    assert not asks_quantity("wie geht es dir? combine the quantum results")  # stems alone are not enough


@pytest.mark.parametrize("reply", ["Yes", "yes please", "ok!", "go", "Ja", "okay", "Sure, go ahead", "yes do it",
                                   "yes 👍", "yes, thank you", "yes, that's right", "ja, bitte", "go on", "go for it",
                                   "yes thanks", "да", "はい", "是的", "vale", "d'accord", "tak", "evet", "👍", "lgtm",
                                   "ok – go", "absolutely", "sure thing"])
def test_a_bare_confirmation_is_critical_only_when_it_confirms_a_critical_ask(reply):
    """"yes", "ok, go ahead" say nothing by themselves: the most common follow-up of a chat is not a risky act
    (the learned model had put "yes" at p 0.62 and "yes please" at 0.76 on their words alone)."""
    assert CLASSIFIER.assess(reply).complexity is not TaskComplexity.CRITICAL
    after_a_question = [{"role": "user", "content": "Can you explain how DNS caching works?"},
                        {"role": "assistant", "content": "Sure. Want me to go into TTLs too?"},
                        {"role": "user", "content": reply}]
    assert CLASSIFIER.assess(after_a_question).complexity is not TaskComplexity.CRITICAL
    # It confirms a critical ask before it: the word rules' finding, or the learned model's.
    by_rules = "Refund order 4411 to the customer's card now."
    by_model = "Please disarm the alarm at the warehouse."
    assert rule_findings_of(by_rules) and not rule_findings_of(by_model)
    for ask in (by_rules, by_model):
        assert CLASSIFIER.assess(ask).complexity is TaskComplexity.CRITICAL
        confirmed = CLASSIFIER.assess([{"role": "user", "content": ask},
                                       {"role": "assistant", "content": "Shall I go ahead?"},
                                       {"role": "user", "content": reply}])
        assert confirmed.complexity is TaskComplexity.CRITICAL
        assert "critical:confirms_previous_critical_ask" in confirmed.signals


@pytest.mark.parametrize("greeting", ["Hello!", "hello", "Hey", "hey there", "hi!!", "Hello everyone", "good morning",
                                      "Hallo", "Bonjour", "hola, buenos días", "Привет", "こんにちは", "你好",
                                      "안녕하세요", "merhaba", "hey, yes"])
def test_a_bare_greeting_is_not_critical(greeting):
    """A chat's opener says nothing by itself (the retrained model had "Hello!" at p 0.28, "Hey" at 0.25, on
    the word alone); with a confirmation word in it, it confirms what came before like any confirmation."""
    assert CLASSIFIER.assess(greeting).complexity is not TaskComplexity.CRITICAL
    after = _chat("Can you explain how DNS caching works?", "Sure. Want me to go into TTLs too?", greeting)
    assert CLASSIFIER.assess(after).complexity is not TaskComplexity.CRITICAL
    # Before a critical ask, the greeting changes nothing.
    assert CLASSIFIER.assess(f"{greeting} {BY_RULES}").complexity is TaskComplexity.CRITICAL
    assert CLASSIFIER.assess(f"{greeting} {BY_MODEL}").complexity is TaskComplexity.CRITICAL
    # After a critical ask, a greeting confirms nothing; a greeting with a "yes" confirms it.
    confirms = greeting == "hey, yes"
    for ask in (BY_RULES, BY_MODEL):
        after_ask = CLASSIFIER.assess(_chat(ask, "Shall I go ahead?", greeting))
        assert (after_ask.complexity is TaskComplexity.CRITICAL) is confirms, (ask, after_ask.signals)


def rule_findings_of(prompt: str) -> list[str]:
    from litellm_slm_router.core.classifier import rule_findings
    from litellm_slm_router.core.classifier.text import words

    lower = prompt.lower()
    ask_words = words(lower)
    return rule_findings(prompt, lower, frozenset(ask_words), "", len(ask_words))


BY_RULES, BY_MODEL = "Refund order 4411 to the customer's card now.", "Please disarm the alarm at the warehouse."


def _chat(*turns: object) -> list[dict]:
    return [{"role": ("user", "assistant")[i % 2], "content": t} for i, t in enumerate(turns)]


@pytest.mark.parametrize("empty", ["", "...", "?", [{"type": "image_url", "image_url": {"url": "data:,AA"}}]])
def test_a_reply_with_no_words_confirms_nothing(empty):
    for ask in (BY_RULES, BY_MODEL):
        assert CLASSIFIER.assess(_chat(ask, "Done. Anything else?", empty)).complexity is not TaskComplexity.CRITICAL


@pytest.mark.parametrize("classifier", [CLASSIFIER, TaskComplexityClassifier(ClassifierThresholds(critical=1.0))],
                         ids=["model", "rules alone"])
def test_a_confirmation_of_a_confirmation_and_of_the_assistants_proposal(classifier):
    """The "yes" that runs the act may confirm an earlier "yes", or the act the assistant proposed."""
    confirmed = classifier.assess(_chat(BY_RULES, "Sure?", "yes", "Really sure? This is irreversible.", "yes"))
    assert confirmed.complexity is TaskComplexity.CRITICAL
    proposed = classifier.assess(_chat("The DB is slow, any ideas?",
                                       "I can drop the table orders on production now. Shall I?", "yes"))
    # The model reads the assistant's proposal; the rules take "I can drop ..." for a statement.
    assert (proposed.complexity is TaskComplexity.CRITICAL) is (classifier is CLASSIFIER)
    # Words beyond the rules' own confirmations ("please", "now") count the same with the model off.
    assert classifier.assess(_chat(BY_RULES, "Shall I?", "please")).complexity is TaskComplexity.CRITICAL
    # An answer to a harmless question is not critical, whatever came before it.
    assert classifier.assess(_chat("Explain how DNS works.", "Want more detail on TTLs?", "yes please")
                             ).complexity is not TaskComplexity.CRITICAL


def test_a_prefilled_assistant_turn_does_not_hide_what_the_yes_confirms():
    """A client may end the messages with the assistant's turn begun (a prefill): the "yes" still confirms
    the proposal just before it, and the ask before that."""
    for prefill in ("", "Running it now:"):
        proposed = _chat("The DB is slow, any ideas?", "I can drop the table orders on production now. Shall I?",
                         "yes", prefill)
        assert CLASSIFIER.assess(proposed).complexity is TaskComplexity.CRITICAL, prefill
        asked = _chat(BY_MODEL, "Shall I?", "yes", prefill)
        assert CLASSIFIER.assess(asked).complexity is TaskComplexity.CRITICAL, prefill
        harmless = _chat("Explain how DNS works.", "Want more detail on TTLs?", "yes please", prefill)
        assert CLASSIFIER.assess(harmless).complexity is not TaskComplexity.CRITICAL, prefill


def test_logit_skips_features_that_are_absent():
    # A feature that did not fire counts 0 whatever its weight, and a falsy value is not multiplied.
    from litellm_slm_router.core.classifier import logit

    assert logit({"bias": 1.0, "code": 0.0}, {"bias": -1.0, "code": float("inf")}) == -1.0
    assert logit({"bias": 1.0, "code": None}) == logit({"bias": 1.0})
