"""Shadow mode (issue 16) on a real proxy: the plugin assesses, selects and logs what it would have
done, LiteLLM's own strategy picks the deployment, no budget is enforced, and ``slm-router report``
shows what the plugin's choices would have saved."""

import json
import time
import urllib.request

import openai
from support import start_proxy, start_upstream
from test_budget_requests import proxy_config

from litellm_slm_router.cli import main as cli_main
from litellm_slm_router.records.log import read_log

EASY = [{"role": "user", "content": "What is the capital of France?"}]


def test_shadow_mode_logs_decisions_and_lets_litellm_route(tmp_path, capsys):
    (lo, lo_port), (cl, cl_port) = start_upstream(tmp_path, "local"), start_upstream(tmp_path, "cloud")
    config = proxy_config(lo_port, cl_port)
    log = tmp_path / "decisions.jsonl"
    config["slm_router"].update(shadow=True, decision_log=str(log))
    # LiteLLM's own strategy (weighted shuffle) sends most calls to the cloud deployment.
    config["model_list"][0]["litellm_params"]["weight"] = 1
    config["model_list"][1]["litellm_params"]["weight"] = 9
    proxy, port = start_proxy(tmp_path, config)
    served = []
    try:
        c = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-x", max_retries=0)
        headers = {"x-slm-task-id": "shadowed", "x-slm-max-cost-per-task-usd": "0.0000001"}
        for _ in range(12):  # a cap no paid call fits: nothing is enforced in shadow mode
            raw = c.chat.completions.with_raw_response.create(model="auto", messages=EASY, max_tokens=10,
                                                              extra_headers=headers)
            served.append(raw.headers["x-litellm-model-id"])
        with urllib.request.urlopen(urllib.request.Request(
                f"http://127.0.0.1:{port}/slm-router/tasks/shadowed",
                headers={"Authorization": "Bearer sk-x"}), timeout=10) as r:
            state = json.load(r)
        for _ in range(50):
            decisions, _, _ = read_log(log.read_text().splitlines())
            if len(decisions) >= 12:
                break
            time.sleep(0.1)
    finally:
        for process in (proxy, lo, cl):
            process.stop()
    assert state["calls"] == 0 and state["spent_usd"] == 0  # the ledger is not used
    assert "cloud-gpt-4o" in served  # LiteLLM's choice, not the plugin's
    assert len(decisions) == 12 and all(d.shadow and d.outcome == "ok" for d in decisions)
    assert [d.served_deployment_id for d in decisions] == served
    assert {d.selected_deployment_id for d in decisions} == {"local-32k"}  # what the plugin would have chosen
    paid = [d for d in decisions if d.served_deployment_id == "cloud-gpt-4o"]
    assert all(d.cost_usd > 0 for d in paid)

    assert cli_main(["report", str(log)]) == 0
    out = capsys.readouterr().out
    spent = sum(d.cost_usd for d in decisions)
    assert "shadow mode: 12 answered calls routed by LiteLLM's own strategy" in out
    assert f"(would have saved ${spent:.6f})" in out
    assert f"same deployment chosen: {12 - len(paid)}/12; the plugin would have served 12/12 locally" in out
