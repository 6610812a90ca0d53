"""Decisions where LiteLLM users look (issue 16): the decision summary is in the
``standard_logging_object`` LiteLLM builds for every call, in the field LiteLLM's own routers fill
(``metadata.routing_decision``) and in ``metadata.spend_logs_metadata`` (which spend logs keep), so a
logging integration carries it with no code of its own. A real ``CustomLogger`` reads LiteLLM's own
payload, in the SDK and in a real proxy process."""

import asyncio
import json
import textwrap
import time

import litellm
import openai
import pytest
from litellm.integrations.custom_logger import CustomLogger
from support import deployments, start_proxy, start_upstream

from litellm_slm_router import RoutingPolicy, install

CRITICAL = [{"role": "user", "content": "Delete all customer records older than 2019 from the production database."}]


class Recorder(CustomLogger):
    def __init__(self) -> None:
        super().__init__()
        self.payloads: list[dict] = []

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        self.payloads.append(kwargs["standard_logging_object"])


async def test_the_decision_is_in_litellms_standard_logging_object():
    recorder = Recorder()
    litellm.callbacks.append(recorder)
    try:
        router = litellm.Router(model_list=deployments())
        strategy = install(router, RoutingPolicy(max_cost_per_task_usd=0.5))
        await router.acompletion(model="auto", messages=CRITICAL, metadata={
            "task_id": "logged", "spend_logs_metadata": {"ticket": "T-1", "slm_router": "forged"}})
        for _ in range(50):
            if recorder.payloads:
                break
            await asyncio.sleep(0.05)
    finally:
        litellm.callbacks.remove(recorder)
    decision = strategy.log.decisions[-1]
    metadata = recorder.payloads[-1]["metadata"]
    routing = metadata["routing_decision"]
    assert routing["router_model_name"] == "auto" and routing["routed_model"] == decision.selected_model
    assert routing["tier"] == "critical" and routing["cause"] == "classifier_plugin"
    assert routing["score"] == decision.score and routing["tier_label"] == decision.reason
    spend = metadata["spend_logs_metadata"]
    assert spend["ticket"] == "T-1"  # the client's own spend-log keys are kept ...
    summary = spend["slm_router"]  # ... but not a forged summary
    assert summary["level"] == "critical" and summary["deployment_id"] == decision.selected_deployment_id
    assert summary["task"] == "default/logged" and summary["reason"] == decision.reason
    # The task's state when the call was reserved: nothing spent, the cap less this call's worst case.
    assert summary["task_spent_usd"] == 0.0
    assert summary["task_remaining_usd"] == pytest.approx(0.5 - decision.estimated_cost, abs=1e-9)


RECORDER = '''
import json, os
from litellm.integrations.custom_logger import CustomLogger


class Recorder(CustomLogger):
    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time):
        slo = kwargs["standard_logging_object"]
        with open(os.path.join(os.path.dirname(__file__), "payloads.jsonl"), "a") as f:
            f.write(json.dumps({"model_group": slo.get("model_group"), "metadata": slo["metadata"]}) + "\\n")


recorder = Recorder()
'''


def test_a_proxy_logging_callback_gets_the_decision(tmp_path):
    from test_budget_requests import proxy_config

    (lo, lo_port), (cl, cl_port) = start_upstream(tmp_path, "local"), start_upstream(tmp_path, "cloud")
    (tmp_path / "slo_recorder.py").write_text(textwrap.dedent(RECORDER))
    config = proxy_config(lo_port, cl_port)
    config["litellm_settings"]["callbacks"] = ["litellm_slm_router.proxy.handler", "slo_recorder.recorder"]
    proxy, port = start_proxy(tmp_path, config)
    try:
        c = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-x", max_retries=0)
        raw = c.chat.completions.with_raw_response.create(
            model="auto", messages=[{"role": "user", "content": "What is the capital of France?"}],
            extra_headers={"x-slm-task-id": "proxy-logged"})
        deployment = raw.headers["x-slm-router-deployment"]
        path = tmp_path / "payloads.jsonl"
        for _ in range(100):
            if path.exists() and path.read_text().strip():
                break
            time.sleep(0.1)
        logged = [json.loads(line) for line in path.read_text().splitlines()]
    finally:
        for process in (proxy, lo, cl):
            process.stop()
    metadata = logged[-1]["metadata"]
    assert metadata["routing_decision"]["routed_model"] == deployment == "openai/local-32k"
    assert metadata["routing_decision"]["tier"] == "simple"
    summary = metadata["spend_logs_metadata"]["slm_router"]
    assert summary["deployment"] == deployment and summary["task"].endswith("/proxy-logged")
    assert "smallest capable local deployment" in summary["reason"]
