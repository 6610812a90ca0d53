"""Critical detection on labelled sets: four written by authors who saw nothing of the classifier,
the development set, and phrasing cases.

Each independent set (tests/data/critical_independent*.jsonl, see their .md files) was measured by
totals before it was looked at; the first three have since become development sets:
- set 1 (321 prompts): 0.342 / 0.871 before issue 18, 0.696 / 0.932 after its first word lists;
- set 2 (301): 0.456 / 0.958 before the stakes backstop (core/classifier/stakes.py), 0.570 / 0.966
  after its first round, which was built on set 1's misses;
- set 3 (303): measured after the first round, 0.443 / 0.857 (0.342 / 0.879 without it);
- the second round was built on the misses of sets 1-3; set 4 (294), never looked at, measured
  once after it: 0.617 / 0.893 (first round 0.537 / 0.889; no backstop 0.389 / 0.906).
Word and domain lists from one author reach about 0.4-0.6 of another author's critical requests:
issue 18's 0.97 recall target is not met on any unseen set.
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


@pytest.mark.parametrize(("name", "recall_min", "precision_min"), [
    # The measured figures, with a small margin for harmless changes.
    ("critical_independent.jsonl", 0.90, 0.93),     # 0.924 / 0.948
    ("critical_independent_2.jsonl", 0.73, 0.94),   # 0.745 / 0.957
    ("critical_independent_3.jsonl", 0.61, 0.89),   # 0.624 / 0.912
    ("critical_independent_4.jsonl", 0.60, 0.87),   # 0.617 / 0.893, 0.902 after a bug fix (never looked at)
])
def test_independent_sets_recall_and_precision(name, recall_min, precision_min):
    recall, precision, _ = _recall_precision(name)
    assert recall >= recall_min, recall
    assert precision >= precision_min, precision


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
    # Round two: commitments, physical devices, accounts, task specs, asks that change nothing.
    ("Countersign the distributor agreement in my name and send it back to them today.", True),
    ("Disable the alarm at the warehouse and leave the loading gate open tonight.", True),
    ("Suspend every workspace on the free tier that has been idle for a year.", True),
    ('{"action": "refund", "order": "A-2291", "amount_eur": 120, "execute": true}', True),
    ('{"action": "get_status", "tenant": "t_4821", "include": ["accounts", "admins"]}', False),
    ("List the prod admins and their last login, read-only please.", False),
    ("What clauses should a distributor agreement have?", False),
])
def test_stakes_backstop(prompt, critical):
    a = CLASSIFIER.assess(prompt)
    assert (a.complexity is TaskComplexity.CRITICAL) is critical, a.signals
    if critical:
        assert any(s.startswith(("critical:stakes(", "critical:")) for s in a.signals)
