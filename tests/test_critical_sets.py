"""Critical detection on labelled sets written by authors who saw nothing of the classifier.

Since issue 18's third round the decision is a learned model over the ask's words and the word
rules' findings (core/classifier/critical_model.py), trained by bench/train_critical.py on the sets
listed in its TRAINING. The word rules alone (``critical: 1.0``) found 0.34-0.62 of an unseen
author's critical requests (set 4: 0.617 / 0.902; set 5, before this round: 0.343 / 0.852).

- leave-one-set-out: the trainer fits a model without one author's set and scores that set;
- sets 5 to 8 (critical_independent_5.jsonl ... _8; see their .md files) are never trained on: the
  held-out figures (set 6 before round four: 0.921 / 0.896, the rules alone 0.272 / 0.888; set 7 before
  round five: 0.871 / 0.905, the rules alone 0.362 / 0.837; set 8 before round eight: 0.927 / 0.927, the
  rules alone 0.308 / 0.748);
- the shipped weights must be what the shipped data trains (the trainer's ``--check``).
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from litellm_slm_router import ClassifierThresholds, TaskComplexity, TaskComplexityClassifier

ROOT = Path(__file__).parent.parent
DATA = Path(__file__).parent / "data"
CLASSIFIER = TaskComplexityClassifier()
RULES_ALONE = TaskComplexityClassifier(ClassifierThresholds(critical=1.0))
BENCH_DATA = ROOT.parent / "shared" / "bench-data" / "routellm"

# Measured (bench/train_critical.py; BENCHMARKS.md section 1), less about 0.02 for another CPU's rounding.
LEAVE_ONE_OUT = [
    ("critical_independent.jsonl", 0.96, 0.95),     # 0.987 / 0.975
    ("critical_independent_2.jsonl", 0.96, 0.94),   # 0.980 / 0.961
    ("critical_independent_3.jsonl", 0.96, 0.90),   # 0.980 / 0.924
    ("critical_independent_4.jsonl", 0.97, 0.88),   # 0.993 / 0.902
    ("critical_train_a.jsonl", 0.97, 0.84),         # 0.994 / 0.867  agents and tool calls
    ("critical_train_b.jsonl", 0.94, 0.84),         # 0.966 / 0.861  European languages
    ("critical_train_c.jsonl", 0.95, 0.80),         # 0.976 / 0.822  other scripts
    ("critical_train_d.jsonl", 0.93, 0.87),         # 0.953 / 0.891  workplace context
    ("critical_train_e.jsonl", 0.96, 0.87),         # 0.986 / 0.893  other domains
    ("critical_train_f.jsonl", 0.96, 0.84),         # 0.983 / 0.867  casual and mobile
    ("critical_train_g.jsonl", 0.97, 0.81),         # 0.993 / 0.833  hard near misses
    ("critical_train_h.jsonl", 0.80, 0.83),         # 0.820 / 0.859  long and multi-part
    ("critical_train_j.jsonl", 0.95, 0.78),         # 0.970 / 0.807  less common European languages
    ("critical_train_k.jsonl", 0.95, 0.76),         # 0.974 / 0.785  Asian, Middle Eastern, African languages
    ("critical_train_l.jsonl", 0.85, 0.84),         # 0.879 / 0.866  the instruction in the middle
    ("critical_train_m.jsonl", 0.95, 0.86),         # 0.974 / 0.883  short and terse
    ("critical_train_n.jsonl", 0.87, 0.81),         # 0.894 / 0.831  long asks, the risky act in pasted material
    ("critical_train_p.jsonl", 0.93, 0.83),         # 0.959 / 0.854  major languages, colloquial
    ("critical_train_q.jsonl", 0.95, 0.87),         # 0.971 / 0.895  indirect criticals and close near misses
    ("critical_train_r.jsonl", 0.91, 0.83),         # 0.935 / 0.857  languages with fewer speakers online
    ("critical_train_s.jsonl", 0.84, 0.79),         # 0.867 / 0.814  more languages with fewer speakers online
    ("critical_train_t.jsonl", 0.86, 0.87),         # 0.883 / 0.893  long asks, the act pasted (second author)
    ("critical_train_u.jsonl", 0.95, 0.86),         # 0.973 / 0.885  colloquial, code-switched, mid-resource
    ("critical_train_v.jsonl", 0.96, 0.84),         # 0.983 / 0.863  hard near misses beside close criticals
    ("critical_train_w.jsonl", 0.94, 0.86),         # 0.964 / 0.881  plain workplace asks, Central and E. Europe, Nordic
    ("critical_train_x.jsonl", 0.91, 0.90),         # 0.933 / 0.925  commitments and the physical world
    ("critical_train_y.jsonl", 0.94, 0.86),         # 0.963 / 0.887  South, South-East, East Asian and African languages
    ("critical_train_z.jsonl", 0.97, 0.86),         # 0.992 / 0.880  Western European and American languages
    ("critical_train_aa.jsonl", 0.96, 0.91),        # 0.980 / 0.935  agents with tools, many languages
    ("critical_train_ab.jsonl", 0.96, 0.90),        # 0.989 / 0.923  customer support and e-commerce back office
    ("critical_train_ac.jsonl", 0.95, 0.90),        # 0.972 / 0.927  finance, HR and office administration
    ("critical_train_ad.jsonl", 0.88, 0.85),        # 0.908 / 0.876  very short asks, 1-8 words
    ("critical_train_ae.jsonl", 0.98, 0.92),        # 1.000 / 0.947  everyday traffic, a third critical
    ("critical_train_af.jsonl", 0.95, 0.84),        # 0.972 / 0.869  Slavic, Middle Eastern and Central Asian languages
    ("critical_train_ah.jsonl", 0.96, 0.93),        # 0.980 / 0.958  healthcare, pharmacy, labs, insurance
    ("critical_train_ai.jsonl", 0.95, 0.91),        # 0.976 / 0.931  government, law firms, schools, NGOs
    ("critical_train_aj.jsonl", 0.96, 0.88),        # 0.981 / 0.908  SaaS admin consoles
    ("critical_train_ak.jsonl", 0.89, 0.91),        # 0.914 / 0.936  banking, cards, fintech, crypto, trading
    ("critical_train_al.jsonl", 0.84, 0.92),        # 0.861 / 0.941  indirect and implicit phrasing
    ("critical_train_am.jsonl", 0.96, 0.85),        # 0.988 / 0.873  short chat messages naming a target
    ("critical_train_an.jsonl", 0.95, 0.86),        # 0.979 / 0.887  mid-length chat messages with context
    ("critical_train_ag.jsonl", 0.87, 0.81),        # 0.898 / 0.839  long asks, the act pasted (third author)
    ("critical_train_ao.jsonl", 0.89, 0.78),        # 0.916 / 0.805  long asks in other languages
    ("critical_train_ap.jsonl", 0.91, 0.89),        # 0.936 / 0.914  indirect phrasing (second author)
    ("critical_train_aq.jsonl", 0.94, 0.84),        # 0.960 / 0.863  very short asks, 1-6 words (second author)
    ("critical_train_ar.jsonl", 0.87, 0.79),        # 0.896 / 0.815  languages with fewer speakers online (third author)
    ("critical_train_as.jsonl", 0.94, 0.88),        # 0.962 / 0.906  money, banking, trading (second author)
    ("critical_train_at.jsonl", 0.67, 0.79),        # 0.693 / 0.812  multi-part messages, one part critical
]
# Never trained on: (recall, precision) at least, measured 0.985 / 0.892, 0.986 / 0.923, 0.963 / 0.909 and
# 0.985 / 0.962 (round seven: 0.970 / 0.886, 0.948 / 0.920, 0.917 / 0.924; set 8 before round eight's data:
# 0.927 / 0.927, after its first eighteen sets and before the narrower word-problem test: 0.965 / 0.940).
HELD_OUT = [("critical_independent_5.jsonl", 0.96, 0.87), ("critical_independent_6.jsonl", 0.96, 0.90),
            ("critical_independent_7.jsonl", 0.94, 0.88), ("critical_independent_8.jsonl", 0.96, 0.93)]
GSM8K_MAX, MT_BENCH_MAX = 9, 9                      # 7 of 1,319 and 7 of 160 (the rules alone: 3 and 0)


def _recall_precision(name: str, classifier: TaskComplexityClassifier = CLASSIFIER) -> tuple[float, float, list[str]]:
    rows = [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    tp = fp = fn = 0
    wrong = []
    for row in rows:
        got = classifier.assess(row["prompt"]).complexity is TaskComplexity.CRITICAL
        tp += got and row["critical"]
        fp += got and not row["critical"]
        fn += (not got) and row["critical"]
        if got != row["critical"]:
            wrong.append(row["id"])
    return tp / (tp + fn), tp / max(tp + fp, 1), wrong


@pytest.fixture(scope="module")
def trainer_report(tmp_path_factory):
    out = tmp_path_factory.mktemp("critical") / "report.json"
    run = subprocess.run([sys.executable, "bench/train_critical.py", "--check", "--json", str(out)], cwd=ROOT,
                         text=True, capture_output=True, timeout=600)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]  # the shipped weights are this data's
    return json.loads(out.read_text())


@pytest.mark.parametrize(("name", "recall_min", "precision_min"), LEAVE_ONE_OUT)
def test_an_author_left_out_of_training(trainer_report, name, recall_min, precision_min):
    model = trainer_report["leave_one_set_out"][name]["model"]
    assert model["recall"] >= recall_min and model["precision"] >= precision_min, model


@pytest.mark.parametrize(("name", "recall_min", "precision_min"), HELD_OUT)
def test_the_held_out_sets(name, recall_min, precision_min):
    recall, precision, wrong = _recall_precision(name)
    assert recall >= recall_min and precision >= precision_min, (recall, precision, wrong)


def test_the_word_rules_alone_are_still_there():
    """``critical: 1.0`` is the rules' own decision, at its measured figures on sets 4 to 8."""
    recall, precision, _ = _recall_precision("critical_independent_4.jsonl", RULES_ALONE)
    assert (round(recall, 3), round(precision, 3)) == (0.617, 0.902)
    recall, precision, _ = _recall_precision("critical_independent_5.jsonl", RULES_ALONE)
    assert (round(recall, 3), round(precision, 3)) == (0.348, 0.854)
    recall, precision, _ = _recall_precision("critical_independent_6.jsonl", RULES_ALONE)
    assert (round(recall, 3), round(precision, 3)) == (0.272, 0.888)
    recall, precision, _ = _recall_precision("critical_independent_7.jsonl", RULES_ALONE)
    assert (round(recall, 3), round(precision, 3)) == (0.362, 0.837)
    recall, precision, _ = _recall_precision("critical_independent_8.jsonl", RULES_ALONE)
    assert (round(recall, 3), round(precision, 3)) == (0.308, 0.748)


@pytest.mark.skipif(not BENCH_DATA.exists(), reason=f"no benchmark data at {BENCH_DATA}")
def test_ordinary_traffic_is_rarely_critical(trainer_report):
    """GSM8K's 1,319 word problems and MT-Bench's 160 turns (never trained on)."""
    flagged = trainer_report["false_critical"]
    assert flagged["GSM8K"]["model"] <= GSM8K_MAX and flagged["MT-Bench"]["model"] <= MT_BENCH_MAX, flagged


def test_a_critical_decision_names_its_reasons():
    a = CLASSIFIER.assess("Bitte überweise heute noch 4.800 EUR an die Firma Keller GmbH, Rechnung 2291.")
    assert a.complexity is TaskComplexity.CRITICAL
    model = next(s for s in a.signals if s.startswith("critical:model(p="))
    assert ";" in model and model.split(";")[1].rstrip(")")  # the features that raised it most
    # A rule's finding the model does not share is kept as a signal, and does not make it critical.
    overruled = [s for s in CLASSIFIER.assess("Explain what `kubectl delete namespace prod` would do.").signals
                 if s.startswith("critical_overruled:")]
    assert all(s.split(":", 1)[1] for s in overruled)


@pytest.mark.parametrize("name", ["critical_dev.jsonl", "critical_independent.jsonl", "critical_independent_4.jsonl"])
def test_training_sets_are_learned(name):
    recall, precision, wrong = _recall_precision(name)
    assert recall >= 0.97 and precision >= 0.95, (recall, precision, wrong)


@pytest.mark.parametrize(("prompt", "critical"), [
    # Kinds added in issue 18: messages to many, personal data sent out, live changes, access, refunds.
    ("Send an email to all our customers announcing the price increase.", True),
    ("Send my manager a quick note that the report is done.", False),
    ("Export all customer emails to a CSV and send it to the agency.", True),
    ("Export the aggregate monthly revenue totals to a spreadsheet.", False),
    ("Restart the api pods in the production cluster.", True),
    ("Restart my local minikube cluster.", False),
    ("Refund order 88213 in full.", True),
    ("Create a refund in Stripe test mode for the fake charge.", False),
    ("Revoke all of Sarah's access today.", True),
    ("aws ec2 terminate-instances --instance-ids i-0abc123", True),
    ("aws ec2 describe-instances --instance-ids i-0abc123", False),
    ("Would you mind wiping the analytics schema on production?", True),
    ("We need the orders table on prod dropped before the migration.", True),
    # A story's rule is not an instruction, even with "you".
    ("To call from a payphone you must pay $0.25 a minute for 16 minutes. How much does a call cost?", False),
    ("Imagine you are writing a blog post about two phones. Develop an outline with key points and user "
     "experience.", False),
])
def test_new_kinds(prompt, critical):
    a = CLASSIFIER.assess(prompt)
    assert (a.complexity is TaskComplexity.CRITICAL) is critical, a.signals


@pytest.mark.parametrize(("prompt", "critical"), [
    # The stakes backstop: an instruction or a wish that names high stakes, however it is phrased.
    ("It'd be great if the refunds for last week's cancelled orders went out today.", True),
    ("I need the staging-eu and prod-eu clusters gone by Friday.", True),
    ("Hand the full customer contact list with phone numbers over to the new agency.", True),
    ("Give the on-call group sudo on every prod host tonight.", True),
    ("What's the admin password for the billing console? Need it now.", True),
    ("Could you explain how refunds are processed in our billing system?", False),
    ("We refunded the Henderson order yesterday, and the ledger still shows it as open.", False),
    ("Draft a note to all customers about the outage. Keep it under 100 words.", False),
    ("Don't touch prod: just list the pods in the staging namespace.", False),
    ("A shop pays $4 an item and sells 12 of them. How much does it pay?", False),
    # Round two: commitments, physical devices, accounts, task specs, asks that change nothing.
    ("Countersign the distributor agreement in my name and send it back to them today.", True),
    ("Disable the alarm at the warehouse and leave the loading gate open tonight.", True),
    ("Suspend every workspace on the free tier that has been idle for a year.", True),
    ('{"action": "refund", "order": "A-2291", "amount_eur": 120, "execute": true}', True),
    pytest.param('{"action": "get_status", "tenant": "t_4821", "include": ["accounts", "admins"]}', False,
                 marks=pytest.mark.xfail(strict=True, reason="a false critical of the learned critical model: a "
                                         "read-only tool call naming accounts and admins")),
    ("List the prod admins and their last login, read-only please.", False),
    ("What clauses should a distributor agreement have?", False),
])
def test_stakes_backstop(prompt, critical):
    a = CLASSIFIER.assess(prompt)
    assert (a.complexity is TaskComplexity.CRITICAL) is critical, a.signals
    if critical:
        assert any(s.startswith(("critical:stakes(", "critical:")) for s in a.signals)


@pytest.mark.parametrize(("prompt", "critical"), [
    # A question whose numbers are its own (an amount and an order, invoice or account number) is a
    # request; a word problem asks about a quantity ("how much", "wie viel") or about numbers a story
    # stated before the question (is_word_problem).
    ("Kannst du bitte die Rechnung Nr. 5531 über 2 400 € heute an die Müller GmbH überweisen?", True),
    ("Peux-tu virer 350 € à Julien pour le loyer de mars, compte n° 2291 ?", True),
    ("¿Puedes cancelar el pedido 88120 y devolverle los 64 € a la clienta?", True),
    ("Czy możesz przelać 1 200 zł na konto 4410 dostawcy jeszcze dziś?", True),
    # ... and word problems with a question stay word problems.
    ("Lisa pays $12 for 3 notebooks. What does one cost?", False),
    ("A shop refunds $4 per returned item; 12 items came back on Monday and 9 on Tuesday. How much did it "
     "refund?", False),
    ("Ein Händler überweist 250 € pro Monat an 4 Lieferanten. Wie viel ist das in einem Jahr?", False),
])
def test_a_request_phrased_as_a_question_with_numbers(prompt, critical):
    a = CLASSIFIER.assess(prompt)
    assert (a.complexity is TaskComplexity.CRITICAL) is critical, a.signals


def test_the_model_scores_by_table_what_its_named_weights_say():
    """CriticalModel looks an ask's features up in one table per kind: the same sum as
    the named weights (what the trainer fits) over every feature, for every prompt of set 5."""
    from litellm_slm_router.core.classifier import critical_features_of
    from litellm_slm_router.core.classifier.critical_model import model_features, window
    from litellm_slm_router.core.classifier.text import split_conversation, words

    model = CLASSIFIER.critical_model
    for line in (DATA / "critical_independent_5.jsonl").read_text(encoding="utf-8").splitlines():
        prompt = json.loads(line)["prompt"]
        ask = split_conversation(prompt)[0]
        lower = ask.lower()
        ask_words = words(lower)
        found = model_features(ask, *window(lower, ask_words, frozenset(ask_words)), ())
        by_name = model.bias + sum(model.weights.get(f, 0.0) for f in found.names())
        assert abs(model.logit(found) - by_name) < 1e-9
        # What the trainer reads is the same features, with the rules' findings added (None: a word
        # problem, left to the rules).
        trained = critical_features_of(prompt)
        assert trained is None or trained - found.names() <= {f for f in model.weights if f[:2] in ("R:", "K:")}
