"""Critical detection on two labelled sets: an independent one and the development set.

tests/data/critical_independent.jsonl (321 prompts, see its .md) was written by an author who saw
neither the classifier nor its word lists; the detector was not tuned to it (it was measured before
and after issue 18's changes: recall 0.342 -> 0.696, precision 0.871 -> 0.932). The development set
tests/data/critical_dev.jsonl was written by the author of those changes and used to make them.
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
    # Measured 0.696 and 0.932 (before issue 18: 0.342 and 0.871); a small margin for harmless changes.
    assert recall >= 0.68, recall
    assert precision >= 0.91, precision


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
