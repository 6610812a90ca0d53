"""Capability-aware routing (issue 16): a request that uses tools, images or a JSON schema goes only to
deployments that support it, read from LiteLLM's model info (``supports_function_calling``,
``supports_vision``, ``supports_response_schema``, in the deployment's ``model_info`` or LiteLLM's model
map), overridable with ``model_info.slm_router.capabilities``. Real ``litellm.Router`` objects, a real
proxy and the official openai client on a loopback upstream."""

import json

import litellm
import openai
import pytest
from support import start_proxy, start_upstream

from litellm_slm_router import NoCapableDeploymentError, RoutingPolicy, install
from litellm_slm_router.cli import main as cli_main

TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather of a city",
                                           "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                          "required": ["city"]}}}]
PNG = "data:image/png;base64,iVBORw0KGgo="
IMAGE = [{"role": "user", "content": [{"type": "text", "text": "What is in this picture?"},
                                      {"type": "image_url", "image_url": {"url": PNG}}]}]
SCHEMA = {"type": "json_schema", "json_schema": {"name": "city", "schema": {
    "type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}}}
HELLO = [{"role": "user", "content": "What is the capital of France?"}]


def local(model_id: str, **model_info) -> dict:
    return {"model_name": "auto",
            "litellm_params": {"model": f"ollama_chat/{model_id}", "mock_response": f"{model_id} answer"},
            "model_info": {"id": model_id, "slm_router": {"size_b": 0.5, "max_complexity": "simple"}, **model_info}}


CLOUD = {"model_name": "auto", "litellm_params": {"model": "openai/gpt-4o", "api_key": "sk-test",
                                                   "mock_response": "cloud answer"},
         "model_info": {"id": "cloud", "slm_router": {"max_complexity": "critical"}}}


def routed(*deployments, **call):
    router = litellm.Router(model_list=[*deployments, CLOUD])
    strategy = install(router, RoutingPolicy())
    router.completion(model="auto", **{"messages": HELLO, **call})
    return strategy.log.decisions[-1]


@pytest.mark.parametrize(("flags", "call", "feature"), [
    ({"supports_function_calling": False}, {"tools": TOOLS, "tool_choice": "required"}, "tools"),
    ({"supports_function_calling": False}, {"tools": TOOLS}, "tools"),
    ({"supports_vision": False}, {"messages": IMAGE}, "vision"),
    ({"supports_response_schema": False}, {"response_format": SCHEMA}, "response_schema"),
    ({"slm_router": {"size_b": 0.5, "max_complexity": "simple", "capabilities": ["chat"]}},
     {"tools": TOOLS, "tool_choice": "required"}, "tools"),
    ({"slm_router": {"size_b": 0.5, "max_complexity": "simple", "capabilities": ["chat"]}},
     {"response_format": SCHEMA}, "response_schema"),
    ({"slm_router": {"size_b": 0.5, "max_complexity": "simple", "capabilities": ["chat"]}},
     {"messages": IMAGE}, "vision"),
])
def test_a_request_goes_only_to_deployments_that_support_what_it_uses(flags, call, feature):
    plain = routed(local("tiny", **flags))
    assert plain.selected_deployment_id == "tiny"  # the same ask without the feature stays local
    decision = routed(local("tiny", **flags), **call)
    assert decision.selected_deployment_id == "cloud"
    assert feature in decision.request_needs
    verdict = next(v for v in decision.candidates if v.option.deployment_id == "tiny")
    assert verdict.reason == f"not capable: does not support {feature}, which the request uses"


def test_a_deployment_that_supports_the_feature_keeps_the_request_local():
    decision = routed(local("tiny", supports_function_calling=True,
                            slm_router={"size_b": 0.5, "max_complexity": "simple",
                                        "capabilities": ["chat", "tools"]}),
                      tools=TOOLS, tool_choice="required")
    assert decision.selected_deployment_id == "tiny"


def test_tool_choice_none_does_not_need_tools():
    decision = routed(local("tiny", supports_function_calling=False), tools=TOOLS, tool_choice="none")
    assert decision.selected_deployment_id == "tiny" and decision.request_needs == ()


def test_litellms_model_map_is_read_when_model_info_says_nothing():
    """gpt-3.5-turbo is in LiteLLM's model map without vision: an image goes to gpt-4o, which has it."""
    old = {"model_name": "auto", "litellm_params": {"model": "openai/gpt-3.5-turbo", "api_key": "sk-test",
                                                     "mock_response": "old answer"},
           "model_info": {"id": "old", "slm_router": {"max_complexity": "critical"}}}
    router = litellm.Router(model_list=[old, CLOUD])
    strategy = install(router, RoutingPolicy())
    router.completion(model="auto", messages=HELLO)
    assert strategy.log.decisions[-1].selected_deployment_id == "old"  # the cheaper one, when it can
    router.completion(model="auto", messages=IMAGE)
    decision = strategy.log.decisions[-1]
    assert decision.selected_deployment_id == "cloud"
    assert "supports_vision not set in LiteLLM's model map" in " ".join(strategy.catalogue.by_id["old"].inferred)


def test_no_deployment_supports_it_is_a_400_naming_each_exclusion():
    # (LiteLLM copies a deployment's supports_* flags into its global model map for that model name: a
    # name of its own keeps gpt-4o's entry intact for the other tests.)
    no_tools = {"model_name": "auto",
                "litellm_params": {"model": "openai/cloud-without-tools", "api_key": "sk-test", "mock_response": "x",
                                   "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6},
                "model_info": {"id": "no-tools", "supports_function_calling": False,
                               "slm_router": {"max_complexity": "critical"}}}
    router = litellm.Router(model_list=[local("tiny", supports_function_calling=False), no_tools])
    install(router, RoutingPolicy())
    with pytest.raises(NoCapableDeploymentError) as info:
        router.completion(model="auto", messages=HELLO, tools=TOOLS, tool_choice="required")
    assert info.value.status_code == 400
    assert str(info.value).count("does not support tools") == 2


def test_the_proxy_routes_tools_and_images_by_capability(tmp_path):
    (lo, lo_port), (cl, cl_port) = start_upstream(tmp_path, "local"), start_upstream(tmp_path, "cloud")
    config = {
        "model_list": [
            {"model_name": "auto",
             "litellm_params": {"model": "openai/gemma-270m", "api_base": f"http://127.0.0.1:{lo_port}/v1",
                                "api_key": "none"},
             "model_info": {"id": "gemma", "supports_function_calling": False, "supports_vision": False,
                            "slm_router": {"local": True, "size_b": 0.27, "max_complexity": "simple"}}},
            {"model_name": "auto",
             "litellm_params": {"model": "openai/cloud-large", "api_base": f"http://127.0.0.1:{cl_port}/v1",
                                "api_key": "sk-test", "input_cost_per_token": 2e-6, "output_cost_per_token": 8e-6},
             "model_info": {"id": "cloud-large", "slm_router": {"local": False, "max_complexity": "critical"}}},
            {"model_name": "textonly",
             "litellm_params": {"model": "openai/gemma-270m", "api_base": f"http://127.0.0.1:{lo_port}/v1",
                                "api_key": "none"},
             "model_info": {"id": "gemma-only", "slm_router": {"local": True, "capabilities": ["chat"]}}},
        ],
        "litellm_settings": {"callbacks": "litellm_slm_router.proxy.handler"},
        "slm_router": {"model_groups": ["auto", "textonly"], "ledger": {"backend": "memory"}},
    }
    proxy, port = start_proxy(tmp_path, config)
    try:
        c = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="sk-x", max_retries=0)
        for kwargs, expected in [({}, "openai/gemma-270m"),
                                 ({"tools": TOOLS, "tool_choice": "required"}, "openai/cloud-large"),
                                 ({"messages": IMAGE}, "openai/cloud-large")]:
            raw = c.chat.completions.with_raw_response.create(model="auto", **{"messages": HELLO, **kwargs})
            assert raw.headers["x-slm-router-deployment"] == expected, kwargs
        with pytest.raises(openai.BadRequestError) as info:
            c.chat.completions.create(model="textonly", messages=HELLO, response_format=SCHEMA)
        assert "does not support response_schema" in str(info.value)
    finally:
        for process in (proxy, lo, cl):
            process.stop()


def test_explain_takes_a_request_file(tmp_path, capsys):
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps({"model_list": [local("tiny", supports_function_calling=False), CLOUD],
                                  "slm_router": {"model_groups": ["auto"]}}))
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"messages": HELLO, "tools": TOOLS, "tool_choice": "required"}))
    assert cli_main(["explain", "--request", str(request), "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "needs:      tools" in out
    assert "[auto] -> openai/gpt-4o" in out
    assert "not capable: does not support tools, which the request uses" in out
