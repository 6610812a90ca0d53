"""Catalogue inference from a LiteLLM model_list."""

import pytest

from litellm_slm_router import Catalogue, ConfigError, TaskComplexity


def entry(model, **params):
    info = params.pop("model_info", {})
    return {"model_name": "g", "litellm_params": {"model": model, **params}, "model_info": info}


def test_locality_is_inferred_from_provider_and_api_base():
    cat = Catalogue.from_model_list([
        entry("ollama/qwen3:1.7b", model_info={"id": "a"}),
        entry("hosted_vllm/meta-llama/Llama-3.1-8B", model_info={"id": "b"}),
        entry("openai/my-gguf", api_base="http://127.0.0.1:8080/v1", model_info={"id": "c"}),
        entry("openai/gpt-4o", model_info={"id": "d"}),
        entry("openai/remote", api_base="https://llm.example.com/v1", input_cost_per_token=1e-6,
              output_cost_per_token=2e-6, model_info={"id": "e"}),
    ])
    local = {i: o.is_local for i, o in cat.by_id.items()}
    assert local == {"a": True, "b": True, "c": True, "d": False, "e": False}
    assert cat.by_id["a"].size_b == 1.7 and cat.by_id["a"].max_complexity is TaskComplexity.SIMPLE
    assert cat.by_id["b"].size_b == 8 and cat.by_id["b"].max_complexity is TaskComplexity.MODERATE
    assert cat.by_id["d"].input_cost_per_token > 0 and cat.by_id["d"].max_context >= 100_000
    assert cat.by_id["d"].max_complexity is TaskComplexity.CRITICAL
    assert cat.by_id["e"].output_cost_per_token == 2e-6


def test_profile_block_overrides_inference():
    cat = Catalogue.from_model_list([entry("ollama/big", model_info={"id": "x", "slm_router": {
        "size_b": 70, "max_complexity": "complex", "capabilities": ["code"], "latency_s": 3,
        "context_window": 32000}})])
    o = cat.by_id["x"]
    assert (o.size_b, o.max_complexity, o.capabilities, o.avg_latency_s, o.max_context) == (
        70, TaskComplexity.COMPLEX, ("code",), 3, 32000)


def test_unpriced_cloud_deployment_is_a_config_error():
    with pytest.raises(ConfigError, match="input_cost_per_token"):
        Catalogue.from_model_list([entry("openai/unknown-model-xyz", model_info={"id": "u"})])
