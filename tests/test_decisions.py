"""Decision records: JSON-lines log, replay reproduces every decision and reports changes."""

import json

import litellm
from support import deployments

from litellm_slm_router import install
from litellm_slm_router.cli import main
from litellm_slm_router.records.replay import replay

PROMPTS = [
    "hi there",
    "Write a Python function that merges two sorted lists, with tests.",
    "Design a sharded, replicated key-value store and analyse its consistency trade-offs.",
    "Drop the orders table on prod.",
]


async def test_logged_decisions_replay_identically(tmp_path):
    path = tmp_path / "decisions.jsonl"
    r = litellm.Router(model_list=deployments())
    strategy = install(r, decision_log_path=str(path), record_inputs=True)
    try:
        for p in PROMPTS:
            await r.acompletion(model="auto", messages=[{"role": "user", "content": p}], metadata={"task_id": "t"})
    finally:
        strategy.detach()
        strategy.log.close()
    lines = path.read_text().splitlines()
    assert len(lines) == len(PROMPTS)
    report = replay(path)
    assert report.ok, report.text()
    assert report.records == report.identical == report.reassessed == len(PROMPTS)
    assert main(["replay", str(path)]) == 0

    # A record whose recorded choice differs from what its inputs give is reported, field by field.
    record = json.loads(lines[0])
    record["selected_deployment_id"] = "local-mid"
    record["input"] = [{"role": "user", "content": "Drop the users table on prod"}]
    tampered = tmp_path / "tampered.jsonl"
    tampered.write_text(json.dumps(record) + "\nnot json\n")
    report = replay(tampered)
    fields = {d.field for d in report.differences}
    assert {"selected_deployment_id", "input_digest", "complexity"} <= fields
    assert report.errors and "line 2" in report.errors[0]
    assert main(["replay", str(tampered)]) == 1


async def test_decisions_without_inputs_still_replay_the_selection():
    r = litellm.Router(model_list=deployments())
    strategy = install(r)
    try:
        for p in PROMPTS:
            await r.acompletion(model="auto", messages=[{"role": "user", "content": p}])
    finally:
        strategy.detach()
    decisions = strategy.log.decisions
    assert all(d.input is None and len(d.input_digest) == 24 for d in decisions)
    report = replay(decisions)
    assert report.ok and report.identical == len(PROMPTS) and report.reassessed == 0
