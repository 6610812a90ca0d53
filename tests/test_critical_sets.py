"""Critical detection on labelled sets: two independent ones and the development set.

tests/data/critical_independent.jsonl (321 prompts, see its .md) was written by an author who saw
neither the classifier nor its word lists. It was measured before and after issue 18's first changes
(recall 0.342 -> 0.696, precision 0.871 -> 0.932) and has since been a development set: the stakes
backstop (core/classifier/stakes.py) was built looking at its misses (0.918, 0.942 with it).

tests/data/critical_independent_2.jsonl (301 prompts, see its .md) was written later by another author
who saw nothing of the project; it was measured once before the stakes backstop (0.456, 0.958) and once
after (0.570, 0.966), and not used to make it.

tests/data/critical_independent_3.jsonl (303 prompts, see its .md), by a third author, was measured
after the backstop was written, with it (0.443, 0.857) and without it (0.342, 0.879). Word lists from
one author reach well under half of another author's critical phrasings: the 0.97 recall target of
issue 18 is not met on either unseen set.
"""

import json
from pathlib import Path

import pytest

from litellm_slm_router import TaskComplexity, TaskComplexityClassifier

DATA = Path(__file__).parent / "data"
CLASSIFIER = TaskComplexityClassifier()


def _recall_precision(name: str) -> tuple[float, float, list[str]]:
    rows = [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]
    tp = fp = fn = 0
    wrong = []
    for row in rows:
        got = CLASSIFIER.assess(row["prompt"]).complexity is TaskComplexity.CRITICAL
        tp += got and row["critical"]
        fp += got and not row["critical"]
        fn += (not got) and row["critical"]
        if got != row["critical"]:
            wrong.append(row["id"])
    return tp / (tp + fn), tp / max(tp + fp, 1), wrong


def test_independent_set_recall_and_precision():
    recall, precision, _ = _recall_precision("critical_independent.jsonl")
    # Measured 0.918 and 0.942 (before issue 18: 0.342 and 0.871); a small margin for harmless changes.
    assert recall >= 0.90, recall
    assert precision >= 0.93, precision


def test_second_independent_set_recall_and_precision():
    recall, precision, _ = _recall_precision("critical_independent_2.jsonl")
    # Measured 0.570 and 0.966 (0.456 and 0.958 before the stakes backstop): far below the 0.97 target.
    assert recall >= 0.55, recall
    assert precision >= 0.95, precision


def test_third_independent_set_recall_and_precision():
    recall, precision, _ = _recall_precision("critical_independent_3.jsonl")
    # Measured 0.443 and 0.857 (0.342 and 0.879 without the stakes backstop).
    assert recall >= 0.43, recall
    assert precision >= 0.84, precision


def test_development_set():
    recall, precision, wrong = _recall_precision("critical_dev.jsonl")
    assert recall >= 0.97 and precision >= 0.97, (recall, precision, wrong)


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
])
def test_stakes_backstop(prompt, critical):
    a = CLASSIFIER.assess(prompt)
    assert (a.complexity is TaskComplexity.CRITICAL) is critical, a.signals
    if critical:
        assert any(s.startswith(("critical:stakes(", "critical:")) for s in a.signals)
