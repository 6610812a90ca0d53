#!/usr/bin/env bash
# Start a LiteLLM proxy with the plugin, call it with curl and with the openai client, stop it.
#   bash examples/proxy_quickstart/quickstart.sh        (PORT=4000 by default)
set -euo pipefail
cd "$(dirname "$0")"
export LITELLM_LOCAL_MODEL_COST_MAP=True
PORT="${PORT:-4000}"
BASE="http://127.0.0.1:${PORT}"

litellm --config config.yaml --host 127.0.0.1 --port "$PORT" > proxy.log 2>&1 &
PROXY=$!
trap 'kill "$PROXY" 2>/dev/null || true; wait "$PROXY" 2>/dev/null || true' EXIT
for _ in $(seq 1 90); do
  curl -sf "$BASE/health/liveliness" > /dev/null && break
  kill -0 "$PROXY" 2>/dev/null || { echo "proxy failed to start; see examples/proxy_quickstart/proxy.log"; exit 1; }
  sleep 1
done

echo "== curl: a simple task (goes to the local model)"
curl -s -D - -o response.json "$BASE/v1/chat/completions" \
  -H 'content-type: application/json' -H 'x-slm-task-id: quickstart-1' \
  -d '{"model": "auto", "messages": [{"role": "user", "content": "What is the capital of Portugal?"}]}' \
  | grep -i '^x-slm'
python -c 'import json; print(json.load(open("response.json"))["choices"][0]["message"]["content"])'
rm -f response.json

echo "== openai client"
python openai_client.py --base-url "$BASE/v1"
