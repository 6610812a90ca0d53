"""slm-router calibrate, fit and train-critical, through the command line on real files."""

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from litellm_slm_router import TaskComplexity, TaskComplexityClassifier
from litellm_slm_router.adapters.catalogue import Catalogue
from litellm_slm_router.adapters.config import load_config
from litellm_slm_router.adapters.tokens import prompt_bound
from litellm_slm_router.core.budget import Budget
from litellm_slm_router.core.classifier import features_of
from litellm_slm_router.core.classifier.fit import L2_GRID, TIE_GRID, apgr
from litellm_slm_router.core.errors import ConfigError
from litellm_slm_router.core.selector import select

ROOT = Path(__file__).parent.parent
ENV = {**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
LABELLED = [json.loads(line) for line in (ROOT / "tests" / "data" / "labelled_prompts.jsonl").read_text(
    encoding="utf-8").splitlines() if line.strip()]


def run(args):
    return subprocess.run([sys.executable, "-m", "litellm_slm_router.cli", *args], text=True, capture_output=True,
                          cwd=ROOT, env=ENV, timeout=300)


def _sample(tmp_path) -> Path:
    # The labelled set's requests as a sample: one messages line each, and two as decision records
    # without their input (their logged score and level are used).
    path = tmp_path / "sample.jsonl"
    lines = [json.dumps({"messages": row["messages"]}) for row in LABELLED]
    lines.append(json.dumps({"kind": "decision", "complexity": "moderate", "score": 0.4}))
    lines.append(json.dumps({"kind": "refusal", "reason": "budget"}))  # skipped
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _bands(stdout: str) -> dict:
    return yaml.safe_load(stdout)["slm_router"]["classifier"]


def test_calibrate_to_shares_puts_those_shares_in_each_level(tmp_path):
    sample = _sample(tmp_path)
    out = run(["calibrate", str(sample), "--shares", "0.5,0.3,0.2"])
    assert out.returncode == 0, out.stderr
    bands = _bands(out.stdout)
    config = tmp_path / "tuned.yaml"
    config.write_text(yaml.safe_dump({"model_list": [], "slm_router": {"classifier": bands}}))
    # The same requests classified with the printed section: about those shares of the non-critical ones.
    lines = "\n".join(json.dumps({"messages": row["messages"]}) for row in LABELLED) + "\n"
    classified = subprocess.run([sys.executable, "-m", "litellm_slm_router.cli", "classify", "--config",
                                 str(config)], input=lines, text=True, capture_output=True, cwd=ROOT, env=ENV,
                                timeout=300)
    levels = [json.loads(x)["complexity"] for x in classified.stdout.splitlines()]
    banded = [lv for lv in levels if lv != "critical"] + ["moderate"]  # the decision record's level
    shares = {lv: banded.count(lv) / len(banded) for lv in ("simple", "moderate", "complex")}
    assert abs(shares["simple"] - 0.5) < 0.03 and abs(shares["moderate"] - 0.3) < 0.03, shares
    assert abs(shares["complex"] - 0.2) < 0.03, shares


def test_calibrate_keeps_a_configured_critical_cut_off(tmp_path):
    # Pasting the printed section must not silently switch the learned critical model back on.
    config = tmp_path / "rules_alone.yaml"
    config.write_text(yaml.safe_dump({"model_list": [], "slm_router": {"classifier": {"critical": 1.0}}}))
    out = run(["calibrate", str(_sample(tmp_path)), "--shares", "0.5,0.3,0.2", "--config", str(config)])
    assert out.returncode == 0, out.stderr
    assert _bands(out.stdout)["critical"] == 1.0
    default = run(["calibrate", str(_sample(tmp_path)), "--shares", "0.5,0.3,0.2"])
    assert "critical" not in _bands(default.stdout)


def test_calibrate_to_a_cloud_share_with_the_config(tmp_path):
    sample = _sample(tmp_path)
    out = run(["calibrate", str(sample), "--cloud-share", "0.4", "--config", "proxy_config.yaml"])
    assert out.returncode == 0, out.stderr
    bands = _bands(out.stdout)
    # Route the sample with those bands through the real selector and the config's deployments.
    loaded = load_config(ROOT / "proxy_config.yaml")
    catalogue = Catalogue.from_model_list(loaded.model_list)
    policy = loaded.plugin.policy
    classifier = TaskComplexityClassifier(loaded.plugin.classifier.model_copy(update=bands))
    cloud = 0
    for row in LABELLED:
        counted, bound = prompt_bound(row["messages"])
        d = select(classifier.assess(row["messages"]), catalogue.groups["auto"], policy,
                   Budget(policy.max_cost_per_task_usd, policy.max_tokens_per_task), model_group="auto",
                   prompt_tokens=counted, prompt_token_bound=bound)
        cloud += d.selected_deployment_id.startswith("cloud-")
    # The decision record (moderate, no input) is one more request: counted as the tool counted it.
    assert abs(cloud / len(LABELLED) - 0.4) < 0.05, cloud / len(LABELLED)
    assert "cloud share" in out.stdout
    bad = run(["calibrate", str(sample), "--cloud-share", "0.4"])
    assert bad.returncode == 2 and "needs --config" in bad.stderr


def _outcomes(tmp_path, money_helps: bool) -> Path:
    # Synthetic outcomes: the strong model is better exactly on the prompts with an amount of money
    # (or exactly on those without one).
    path = tmp_path / f"outcomes_{money_helps}.jsonl"
    lines = []
    for i in range(120):
        has_money = i % 2 == 0
        prompt = (f"Order {i}: the invoice is ${10 + i} and ships in {i % 7 + 1} days. What is the total?"
                  if has_money else f"Order {i}: the parcel weighs {10 + i} kg and ships in {i % 7 + 1} days. "
                  "What is the total?")
        strong_better = has_money == money_helps
        lines.append(json.dumps({"prompt": prompt, "weak": 0.0 if strong_better else 1.0, "strong": 1.0}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_fit_learns_the_sign_and_the_weights_load_everywhere(tmp_path):
    weights = {}
    for money_helps in (True, False):
        out_file = tmp_path / f"w_{money_helps}.json"
        out = run(["fit", str(_outcomes(tmp_path, money_helps)), "--out", str(out_file)])
        assert out.returncode == 0, out.stderr
        weights[money_helps] = json.loads(out_file.read_text())["weights"]
    assert weights[True]["money"] > 0.5 and weights[False]["money"] < -0.5, weights
    # The fitted file scores a money prompt above a no-money one, through classify --weights and a config.
    money, plain = ("Order 5: the invoice is $15 and ships in 3 days. What is the total?",
                    "Order 5: the parcel weighs 15 kg and ships in 3 days. What is the total?")
    out = run(["classify", "--weights", str(tmp_path / "w_True.json"), money, plain])
    assert out.returncode == 0, out.stderr
    scores = [json.loads(x)["score"] for x in out.stdout.splitlines()]
    assert scores[0] > scores[1]
    (tmp_path / "cfg.yaml").write_text("model_list: []\nslm_router:\n  classifier: {weights: w_False.json}\n")
    out = run(["classify", "--config", str(tmp_path / "cfg.yaml"), money, plain])
    scores = [json.loads(x)["score"] for x in out.stdout.splitlines()]
    assert scores[0] < scores[1]
    default = TaskComplexityClassifier()
    assert default.assess(money).score == default.assess(money).score  # the default weights are untouched
    assert load_config(tmp_path / "cfg.yaml").plugin.build_classifier().assess(money).complexity is not (
        TaskComplexity.CRITICAL)


def test_bad_weight_files_and_outcome_files_are_refused(tmp_path):
    (tmp_path / "typo.json").write_text(json.dumps({"weights": {"log_wrods": 1.0}}))
    out = run(["classify", "--weights", str(tmp_path / "typo.json"), "hi"])
    assert out.returncode == 2 and "unknown feature(s) log_wrods" in out.stderr
    (tmp_path / "cfg.yaml").write_text("model_list: []\nslm_router:\n  classifier: {weights: missing.json}\n")
    out = run(["classify", "--config", str(tmp_path / "cfg.yaml"), "hi"])
    assert out.returncode == 2 and "does not exist" in out.stderr
    (tmp_path / "bad.jsonl").write_text(json.dumps({"prompt": "hi", "weak": "good", "strong": 1}) + "\n")
    out = run(["fit", str(tmp_path / "bad.jsonl"), "--out", str(tmp_path / "w.json")])
    assert out.returncode == 2 and 'bad.jsonl:1: expected {"prompt" or "messages" or "features"' in out.stderr


def _graded_outcomes(tmp_path) -> Path:
    # Graded qualities (judge scores): on a prompt with an amount of money the strong model is far
    # better one time in three and ties otherwise (mean gain 7/3); on the others it is a little better
    # two times in three and ties otherwise (mean gain 1/3). "Strong better" is more frequent without
    # money, so the unweighted objective ranks those first; the gain says money first.
    path = tmp_path / "graded.jsonl"
    lines = []
    for i in range(150):
        has_money = i % 2 == 0
        prompt = (f"Order {i}: the invoice is ${10 + i} and ships in {i % 7 + 1} days. What is the total?"
                  if has_money else f"Order {i}: the parcel weighs {10 + i} kg and ships in {i % 7 + 1} days. "
                  "What is the total?")
        if has_money:
            weak, strong = (2.0, 9.0) if (i // 2) % 3 == 0 else (8.0, 8.0)
        else:
            weak, strong = (7.0, 7.5) if (i // 2) % 3 != 0 else (8.0, 8.0)
        lines.append(json.dumps({"prompt": prompt, "weak": weak, "strong": strong}))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


MONEY, PLAIN = ("Order 5: the invoice is $15 and ships in 3 days. What is the total?",
                "Order 5: the parcel weighs 15 kg and ships in 3 days. What is the total?")


def _scores(weights: Path) -> list[float]:
    out = run(["classify", "--weights", str(weights), MONEY, PLAIN])
    assert out.returncode == 0, out.stderr
    return [json.loads(x)["score"] for x in out.stdout.splitlines()]


def test_fit_weights_outcomes_by_their_gain_and_records_the_chosen_hyper_parameters(tmp_path):
    outcomes = _graded_outcomes(tmp_path)
    out = run(["fit", str(outcomes), "--out", str(tmp_path / "auto.json")])
    assert out.returncode == 0, out.stderr
    record = json.loads((tmp_path / "auto.json").read_text())
    # The inner cross-validation tried the whole grid (the unweighted objective among it) and kept its best point.
    grid = record["inner_cv_apgr"]
    assert len(grid) == len(L2_GRID) * len(TIE_GRID) and "l2=20,tie=unweighted" in grid
    tie = "unweighted" if record["tie_weight"] is None else f"{record['tie_weight']:g}"
    assert grid[f"l2={record['l2']:g},tie={tie}"] == max(grid.values())
    assert record["chosen_by"].startswith("inner 5-fold") and record["objective"] == "gain-weighted"
    assert record["l2"] in L2_GRID and record["tie_weight"] in TIE_GRID
    assert max(grid.values()) > grid["l2=20,tie=unweighted"]
    assert f"l2 {record['l2']:g}" in out.stdout
    # Gain-weighted, money prompts rank first; the old objective (every outcome weight 1) puts them last.
    auto = _scores(tmp_path / "auto.json")
    assert auto[0] > auto[1], auto
    # Down-weighting ties does not move the scores up: their mean over the sample is its "strong better" share.
    scored = subprocess.run([sys.executable, "-m", "litellm_slm_router.cli", "classify", "--weights",
                             str(tmp_path / "auto.json")], input=outcomes.read_text(), text=True, capture_output=True,
                            cwd=ROOT, env=ENV, timeout=300)
    scores = [json.loads(x)["score"] for x in scored.stdout.splitlines()]
    assert len(scores) == 150 and abs(sum(scores) / 150 - record["strong_better_share"]) < 0.005, sum(scores) / 150
    out = run(["fit", str(outcomes), "--out", str(tmp_path / "old.json"), "--l2", "20", "--tie-weight", "unweighted"])
    assert out.returncode == 0, out.stderr
    old = json.loads((tmp_path / "old.json").read_text())
    assert (old["l2"], old["tie_weight"], old["objective"], old["chosen_by"], old["inner_cv_apgr"]) == (
        20.0, None, "unweighted", "given", {})
    unweighted = _scores(tmp_path / "old.json")
    assert unweighted[0] < unweighted[1], unweighted
    # Fixed values are used as given: no search; a fixed tie weight with --l2 auto searches l2 only.
    out = run(["fit", str(outcomes), "--out", str(tmp_path / "fixed.json"), "--l2", "7.5", "--tie-weight", "0.3"])
    assert out.returncode == 0, out.stderr
    fixed = json.loads((tmp_path / "fixed.json").read_text())
    assert (fixed["l2"], fixed["tie_weight"], fixed["chosen_by"]) == (7.5, 0.3, "given")
    assert _scores(tmp_path / "fixed.json")[0] > _scores(tmp_path / "fixed.json")[1]
    out = run(["fit", str(outcomes), "--out", str(tmp_path / "half.json"), "--tie-weight", "0.3"])
    half = json.loads((tmp_path / "half.json").read_text())
    assert half["tie_weight"] == 0.3 and sorted(half["inner_cv_apgr"]) == sorted(
        f"l2={lam:g},tie=0.3" for lam in L2_GRID)


def test_feature_lines_fit_as_their_prompts_do(tmp_path):
    # The feedback path's lines carry the features (without "bias") instead of the prompt: same fit.
    outcomes = _graded_outcomes(tmp_path)
    lines = [json.loads(x) for x in outcomes.read_text().splitlines()]
    featured = tmp_path / "featured.jsonl"
    featured.write_text("".join(json.dumps({"features": {k: v for k, v in features_of(x["prompt"]).items()
                                                         if k != "bias" and v}, "weak": x["weak"],
                                            "strong": x["strong"]}) + "\n" for x in lines), encoding="utf-8")
    for source, name in ((outcomes, "p.json"), (featured, "f.json")):
        out = run(["fit", str(source), "--out", str(tmp_path / name)])
        assert out.returncode == 0, out.stderr
    by_prompt, by_features = (json.loads((tmp_path / n).read_text()) for n in ("p.json", "f.json"))
    assert by_prompt["inner_cv_apgr"] == by_features["inner_cv_apgr"]
    assert (by_prompt["l2"], by_prompt["tie_weight"]) == (by_features["l2"], by_features["tie_weight"])
    assert all(abs(by_prompt["weights"][k] - by_features["weights"][k]) < 1e-6 for k in by_prompt["weights"])


def test_bad_fit_options_are_refused(tmp_path):
    outcomes = _graded_outcomes(tmp_path)
    for option, value, message in (("--l2", "-1", "'auto' or a number >= 0"), ("--l2", "lots", "'auto' or a number"),
                                   ("--tie-weight", "1.5", "'auto', 'unweighted' or a number >= 0 up to 1"),
                                   ("--tie-weight", "none", "'unweighted'")):
        out = run(["fit", str(outcomes), "--out", str(tmp_path / "w.json"), option, value])
        assert out.returncode == 2 and f"argument {option}: " in out.stderr and message in out.stderr, out.stderr
        assert value in out.stderr and not (tmp_path / "w.json").exists()


def test_apgr_is_routellms_area_under_the_quality_curve():
    weak, strong = [0.0, 1.0, 0.0, 1.0, 0.0], [1.0, 1.0, 0.0, 0.0, 1.0]  # gains 1, 0, 0, -1, 1
    assert apgr([0.0] * 5, weak, strong) == 0.5  # a constant score: a random split
    # The two gains first and the loss last (the curve overshoots the strong line), or the reverse.
    best = apgr([5.0, 2.0, 2.0, 0.0, 4.0], weak, strong)
    worst = apgr([0.0, 2.0, 2.0, 5.0, 1.0], weak, strong)
    assert best == 1.5 and worst == -0.5 and best + worst == 1.0
    assert apgr([1.0, 2.0], [1.0, 1.0], [1.0, 1.0]) == 0.5  # no gap to recover


# An operator's own jargon: their admin tool "tidewater" deletes an account with "sink" and zeroes a
# ledger with "flatten". Lines of the kind an operator would label from their decision log.
TIDEWATER_CRITICAL = [
    "tidewater sink acct-4471 --now", "Please sink the Brightline account in tidewater today.",
    "Go ahead and sink accounts 8812 and 8813, they churned.", "sink every trial account older than 90 days",
    "Can you sink the duplicate Meyer account? Thanks", "tidewater sink --all-inactive",
    "Time to sink acct-1209, legal approved.", "sink the Orion workspace for good",
    "flatten the Q3 ledger for Northwind in tidewater", "tidewater flatten ledger-77",
    "Flatten the Pemberton ledger before month end, please.", "ok sink it, the Kowalski account",
    "sink acct-3310 and acct-3311 in tidewater", "Please flatten ledgers 12 to 15 now."]
TIDEWATER_NOT = [
    "What does tidewater sink actually do to an account?", "Is there a way to undo tidewater sink?",
    "Write docs for the tidewater sink command.", "tidewater list acct-4471",
    "Show me the tidewater status of the Brightline account.", "Don't sink anything yet, just list churned accounts.",
    "Explain when we should sink an account versus archive it.", "tidewater sink acct-4471 --dry-run",
    "Who sank the Meyer account last week?", "Summarise the tidewater changelog.",
    "What does flatten do to a ledger's history?", "Draft a note explaining ledger flattening to finance.",
    "tidewater show ledger-77", "How do I sink a ship in the board game Battleship?"]
# Not among the labelled lines. The shipped model misses the first four (asserted below).
UNSEEN_CRITICAL = ["tidewater sink acct-9001", "tidewater sink acct-5120 --now", "sink acct-7781 in tidewater",
                   "sink 6612 and 6613"]
UNSEEN_NOT = ["what happens if I tidewater sink an account by mistake?", "tidewater list ledger-12",
              "tidewater sink acct-9001 --dry-run", "tidewater status acct-9001"]


def _labels(tmp_path) -> Path:
    path = tmp_path / "labels.jsonl"
    lines = [{"prompt": p, "critical": True} for p in TIDEWATER_CRITICAL]
    lines += [{"messages": [{"role": "user", "content": p}], "critical": False} for p in TIDEWATER_NOT]
    path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return path


def _critical(classifier, prompts) -> list[bool]:
    return [classifier.assess(p).complexity is TaskComplexity.CRITICAL for p in prompts]


def test_train_critical_learns_an_operators_jargon_and_loads_everywhere(tmp_path):
    shipped = TaskComplexityClassifier()
    assert _critical(shipped, UNSEEN_CRITICAL) == [False] * 4  # what the operator would fix
    out = run(["train-critical", str(_labels(tmp_path)), "--out", str(tmp_path / "crit.json")])
    assert out.returncode == 0, out.stderr
    assert "re-fitted the critical model on 28 labelled requests (14 critical)" in out.stdout
    assert "critical_weights: " in out.stdout
    from litellm_slm_router.core.classifier import critical_features_of, critical_weights

    fitted = json.loads((tmp_path / "crit.json").read_text())["critical_model"]["weights"]
    shown = set().union(*(critical_features_of(p) or set() for p in TIDEWATER_CRITICAL + TIDEWATER_NOT))
    unshown = [f for f in critical_weights.WEIGHTS if f not in shown]
    assert unshown and all(fitted[f] == critical_weights.WEIGHTS[f] for f in unshown)  # kept exactly
    assert fitted["w:sink"] > critical_weights.WEIGHTS.get("w:sink", 0.0)

    # classify --critical-weights: the unseen jargon asks are critical, its near misses are not.
    out = run(["classify", "--critical-weights", str(tmp_path / "crit.json"), *UNSEEN_CRITICAL, *UNSEEN_NOT])
    assert out.returncode == 0, out.stderr
    levels = [json.loads(line)["complexity"] for line in out.stdout.splitlines()]
    assert levels[:4] == ["critical"] * 4 and "critical" not in levels[4:], levels
    assert any(s.startswith("critical:model(") for s in json.loads(out.stdout.splitlines()[0])["signals"])

    # A config names it (next to the config file); a real litellm.Router with the plugin routes by it.
    (tmp_path / "cfg.yaml").write_text(
        "model_list:\n"
        "  - {model_name: auto, litellm_params: {model: ollama_chat/qwen3:1.7b, mock_response: ok},\n"
        "     model_info: {id: local, slm_router: {max_complexity: critical}}}\n"
        "slm_router:\n  classifier: {critical_weights: crit.json}\n")
    loaded = load_config(tmp_path / "cfg.yaml")
    classifier = loaded.plugin.build_classifier()
    assert _critical(classifier, UNSEEN_CRITICAL) == [True] * 4
    import litellm

    router = litellm.Router(model_list=loaded.model_list)
    strategy = loaded.plugin.install(router)
    asyncio.run(router.acompletion(model="auto", messages=[{"role": "user", "content": UNSEEN_CRITICAL[0]}]))
    assert strategy.log.decisions[-1].complexity is TaskComplexity.CRITICAL

    # A few dozen lines adjust the model rather than replace it: on another author's held-out set it
    # does as well as the shipped model (within a prompt or two).
    rows = [json.loads(line) for line in (ROOT / "tests" / "data" / "critical_independent_6.jsonl").read_text(
        encoding="utf-8").splitlines() if line.strip()]
    for model in (shipped, classifier):
        got = _critical(model, [r["prompt"] for r in rows])
        tp = sum(g and r["critical"] for g, r in zip(got, rows, strict=True))
        recall, precision = tp / sum(r["critical"] for r in rows), tp / sum(got)
        assert recall >= 0.93 and precision >= 0.90, (model is shipped, recall, precision)


def test_bad_label_files_and_critical_model_files_are_refused(tmp_path):
    (tmp_path / "nolabel.jsonl").write_text('{"prompt": "sink acct-1"}\n')
    out = run(["train-critical", str(tmp_path / "nolabel.jsonl"), "--out", str(tmp_path / "x.json")])
    assert out.returncode == 2 and 'nolabel.jsonl:1: expected {"prompt" or "messages"' in out.stderr
    (tmp_path / "few.jsonl").write_text("".join(json.dumps({"prompt": p, "critical": True}) + "\n"
                                                for p in TIDEWATER_CRITICAL))
    out = run(["train-critical", str(tmp_path / "few.jsonl"), "--out", str(tmp_path / "x.json")])
    assert out.returncode == 2 and "with critical ones and near misses" in out.stderr
    out = run(["train-critical", str(_labels(tmp_path)), "--out", str(tmp_path / "x.json"), "--l2", "-1"])
    assert out.returncode == 2 and "--l2 must be" in out.stderr
    assert not (tmp_path / "x.json").exists()
    out = run(["train-critical", str(_labels(tmp_path)), "--out", str(tmp_path / "no" / "dir.json")])
    assert out.returncode == 2 and "cannot write" in out.stderr and "choose another --out" in out.stderr
    # Lines the model does not read (no user text) do not count towards the ten, nor as critical ones.
    lines = [{"messages": [], "critical": True}] * 6 + [{"prompt": p, "critical": False} for p in TIDEWATER_NOT]
    (tmp_path / "empty.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    out = run(["train-critical", str(tmp_path / "empty.jsonl"), "--out", str(tmp_path / "x.json")])
    assert out.returncode == 2 and "(0 critical)" in out.stderr and "Traceback" not in out.stderr, out.stderr
    (tmp_path / "latin1.jsonl").write_bytes('{"prompt": "Löschen", "critical": true}\n'.encode("latin-1"))
    out = run(["train-critical", str(tmp_path / "latin1.jsonl"), "--out", str(tmp_path / "x.json")])
    assert out.returncode == 2 and "not UTF-8 text" in out.stderr, out.stderr
    for name, text, message in [
        ("missing.json", None, "does not exist"),
        ("empty_model.json", '{"critical_model": {"bias": -1.5, "weights": {}}}', "no weights"),
        ("unprefixed.json", '{"critical_model": {"bias": -1.5, "weights": {"sink": 2.0}}}', "unknown feature name"),
        ("notjson.json", "{", "is not valid JSON"),
        ("score.json", json.dumps({"weights": {"code": 1.0}}), "written by slm-router train-critical"),
        ("inf.json", '{"critical_model": {"bias": -1.5, "weights": {"w:sink": Infinity}}}', "finite number"),
    ]:
        if text is not None:
            (tmp_path / name).write_text(text)
        out = run(["classify", "--critical-weights", str(tmp_path / name), "hello"])
        assert out.returncode == 2 and message in out.stderr and name in out.stderr, out.stderr
        # From a config, as the command line reads it (the proxy's start-up: tests/test_config_startup.py).
        (tmp_path / "cfg.yaml").write_text(f"model_list: []\nslm_router:\n  classifier: {{critical_weights: {name}}}\n")
        with pytest.raises(ConfigError, match=message):
            load_config(tmp_path / "cfg.yaml")


def test_a_labels_file_with_a_byte_order_mark_trains_and_a_critical_file_is_not_a_score_file(tmp_path):
    labels = _labels(tmp_path)
    labels.write_bytes(b"\xef\xbb\xbf" + labels.read_bytes())
    out = run(["train-critical", str(labels), "--out", str(tmp_path / "crit.json")])
    assert out.returncode == 0, out.stderr
    out = run(["classify", "--weights", str(tmp_path / "crit.json"), "hello"])
    assert out.returncode == 2 and "name it under classifier.critical_weights" in out.stderr, out.stderr


def test_a_critical_model_from_another_version_loads_with_a_warning(tmp_path, caplog):
    from litellm_slm_router.adapters.config import load_critical_model

    (tmp_path / "old.json").write_text(json.dumps({"critical_model": {"bias": -1.5, "weights": {"w:sink": 2.0}},
                                                   "base": "0" * 64}))
    with caplog.at_level("WARNING", logger="litellm_slm_router.config"):
        model = load_critical_model(tmp_path / "old.json")
    assert model.weights == {"w:sink": 2.0}
    assert "another version's critical model" in caplog.text and "train-critical again" in caplog.text
