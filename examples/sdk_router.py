"""Route calls of a litellm.Router through litellm-slm-router (runs offline with mock responses).

    python examples/sdk_router.py
"""

import asyncio
import os

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

import litellm

from litellm_slm_router import RoutingPolicy, install

MODEL_LIST = [
    {   # a small local model (Ollama); drop mock_response to call a real one
        "model_name": "auto",
        "litellm_params": {"model": "ollama_chat/qwen3:1.7b", "mock_response": "(qwen3 1.7b) Lisbon."},
        "model_info": {"id": "local-qwen3", "slm_router": {"size_b": 1.7, "max_complexity": "simple"}},
    },
    {   # a cloud model, used only when no local deployment is capable
        "model_name": "auto",
        "litellm_params": {"model": "openai/gpt-4o", "api_key": os.environ.get("OPENAI_API_KEY", "sk-none"),
                           "mock_response": "(gpt-4o) I will not run that without a reviewed plan."},
        "model_info": {"id": "cloud-gpt-4o", "slm_router": {"max_complexity": "critical"}},
    },
]


async def main() -> None:
    router = litellm.Router(model_list=MODEL_LIST, num_retries=2)
    strategy = install(router, RoutingPolicy(max_cost_per_task_usd=0.05))
    for prompt in ("What's the capital of Portugal?",
                   "Delete all customer records older than 2019 from the production database."):
        response = await router.acompletion(model="auto", messages=[{"role": "user", "content": prompt}],
                                            metadata={"task_id": "example-task"})
        print(f"> {prompt}\n  {response.choices[0].message.content}")
        print(f"  decision: {strategy.log.decisions[-1].summary()}\n")


if __name__ == "__main__":
    asyncio.run(main())
