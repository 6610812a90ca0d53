"""Call a LiteLLM proxy running litellm-slm-router with the official openai client.

    python examples/proxy_quickstart/openai_client.py --base-url http://127.0.0.1:4000/v1
"""

import argparse

import openai

TASKS = [
    "What is the capital of Portugal?",
    "Delete all customer records older than 2019 from the production database.",
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", default="http://127.0.0.1:4000/v1")
    args = parser.parse_args()
    client = openai.OpenAI(base_url=args.base_url, api_key="sk-anything")  # the proxy holds the real keys
    for prompt in TASKS:
        raw = client.chat.completions.with_raw_response.create(
            model="auto", messages=[{"role": "user", "content": prompt}],
            extra_headers={"x-slm-task-id": "quickstart-2"})
        h = raw.headers
        print(f"> {prompt}\n  {raw.parse().choices[0].message.content}")
        print(f"  complexity={h['x-slm-router-complexity']} deployment={h['x-slm-router-deployment']} "
              f"task={h['x-slm-task-id']} spent=${h['x-slm-task-spend-usd']} left=${h['x-slm-task-remaining-usd']}")
    stream = client.chat.completions.create(model="auto", stream=True,
                                            messages=[{"role": "user", "content": "Say hello in Portuguese."}])
    print("> (streamed) " + "".join(c.choices[0].delta.content or "" for c in stream if c.choices))


if __name__ == "__main__":
    main()
