"""``slm-router``: the plugin's command line (``slm-router --help`` lists every command)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

from litellm_slm_router.adapters.catalogue import Catalogue, managed_groups
from litellm_slm_router.adapters.config import PluginConfig
from litellm_slm_router.core.budget import Budget
from litellm_slm_router.core.classifier import ClassifierThresholds, TaskComplexityClassifier
from litellm_slm_router.core.classifier.text import split_conversation
from litellm_slm_router.core.errors import SLMRouterError
from litellm_slm_router.core.needs import request_needs
from litellm_slm_router.local import tuning

SAMPLE_TASKS = (
    "Hi! What's the capital of Portugal?",
    "How do I delete a file in Python?",
    "Write a Python function that parses ISO-8601 dates and returns the weekday, with a few unit tests.",
    "Design a multi-region rate limiter for our API gateway and analyse the consistency trade-offs.",
    "Delete all customer records older than 2019 from the production database.",
    "Do not deploy yet, just summarise the release plan in three bullet points.",
)


def _classifier(config_path: str | None, weights_path: str | None = None,
                critical_path: str | None = None) -> TaskComplexityClassifier:
    """The classifier of a config (or the default one), with the weight files given on the command line
    in place of the config's."""
    from litellm_slm_router.adapters.config import load_config

    classifier = load_config(config_path).plugin.classifier if config_path else ClassifierThresholds()
    if weights_path:
        classifier = classifier.model_copy(update={"weights": weights_path})
    if critical_path:
        classifier = classifier.model_copy(update={"critical_weights": critical_path})
    return PluginConfig(classifier=classifier).build_classifier()


def _classify(texts: Sequence[str], config_path: str | None, stdin: TextIO, stdout: TextIO,
              weights_path: str | None = None, critical_path: str | None = None) -> int:
    """One JSON line per text argument, or per JSON input line (``prompt`` or ``messages``) on stdin."""
    classifier = _classifier(config_path, weights_path, critical_path)
    write = stdout.write

    def assessment(prompt: Any) -> dict[str, Any]:
        a = classifier.assess(prompt)
        return {"complexity": a.complexity.value, "score": a.score, "signals": list(a.signals)}

    if texts:
        for text in texts:
            write(json.dumps(assessment(text), ensure_ascii=False) + "\n")
        return 0
    dumps = json.dumps
    bad = 0
    for number, line in enumerate(stdin, start=1):
        line = line.strip()
        if not line:
            continue
        try:
            item = json.loads(line)
            prompt: Any = item.get("messages") if "messages" in item else item["prompt"]
            if not isinstance(prompt, (str, list)):
                raise TypeError("'prompt' must be a string or 'messages' a list")
        except Exception as exc:
            bad += 1
            write(dumps({"line": number, "error": f"expected {{\"prompt\": \"...\"}} or {{\"messages\": [...]}}: "
                         f"{exc.__class__.__name__}: {exc}"}) + "\n")
            continue
        out = assessment(prompt)
        if isinstance(item, dict) and "id" in item:
            out = {"id": item["id"], **out}
        write(dumps(out, ensure_ascii=False) + "\n")
    stdout.flush()
    return 1 if bad else 0


def _read_request(path: str) -> tuple[Any, dict]:
    """A chat request body from a JSON file: (messages, the whole body)."""
    try:
        body = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SLMRouterError(f"--request {path}: {exc}") from None
    if isinstance(body, list):
        body = {"messages": body}
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list):
        raise SLMRouterError(f"--request {path}: expected a JSON chat request {{\"messages\": [...], \"tools\": ...}} "
                             "or a JSON list of messages")
    return body["messages"], body


def _explain(requests: Sequence[tuple[Any, dict]], config_path: str | None, group: str | None,
             out: TextIO) -> int:
    """How each (prompt, request body) is assessed and, with a config, where each managed group sends it."""
    classifier = TaskComplexityClassifier()
    loaded = None
    if config_path:
        from litellm_slm_router.adapters.config import load_config

        loaded = load_config(config_path)
        classifier = loaded.plugin.build_classifier()
        catalogue = Catalogue.from_model_list(loaded.model_list)
        groups = sorted(managed_groups(loaded.model_list, loaded.plugin.model_groups))
        if group:
            if group not in groups:
                raise SLMRouterError(f"--group {group}: not a managed model group (managed: {', '.join(groups)})")
            groups = [group]
        loaded.plugin.policy.check_names(catalogue.names())
    for prompt, body in requests:
        a = classifier.assess(prompt)
        needs = request_needs(prompt, body)
        out.write(f"\n> {prompt if isinstance(prompt, str) else split_conversation(prompt)[0]}\n"
                  f"  complexity: {a.complexity.value}   score: {a.score:.3f}\n")
        out.write(f"  signals:    {', '.join(a.signals) or '(none)'}\n")
        if needs:
            out.write(f"  needs:      {', '.join(needs)}\n")
        if loaded is None:
            continue
        from litellm_slm_router.adapters.tokens import prompt_bound
        from litellm_slm_router.core.errors import NoCapableDeploymentError
        from litellm_slm_router.core.selector import select

        policy = loaded.plugin.policy
        counted, bound = prompt_bound(prompt, body.get("tools"))  # the count and bound the strategy routes on
        for g in groups:
            try:
                d = select(a, catalogue.groups[g], policy,
                           Budget(policy.max_cost_per_task_usd, policy.max_tokens_per_task),
                           model_group=g, prompt_tokens=counted, prompt_token_bound=bound, request_needs=needs)
            except NoCapableDeploymentError as exc:
                out.write(f"  [{g}] no deployment: {exc}\n")
                continue
            out.write(f"  [{g}] -> {d.selected_model}  ({d.reason}; max_tokens {d.max_tokens}, "
                      f"at most ${d.estimated_cost:.6f})\n")
            for v in d.candidates:
                mark = "*" if v.option.deployment_id == d.selected_deployment_id else " "
                out.write(f"     {mark} {v.option.model:<34} {v.reason}\n")
    return 0


def _router_from_config(loaded: Any) -> Any:
    """A litellm.Router built from a config file's model_list and router_settings."""
    import inspect

    import litellm

    def resolve(value: Any) -> Any:
        if isinstance(value, str) and value.startswith("os.environ/"):
            return os.environ.get(value.split("/", 1)[1], value)
        if isinstance(value, dict):
            return {k: resolve(v) for k, v in value.items()}
        return value

    import yaml

    raw = yaml.safe_load(open(loaded.path, encoding="utf-8")) or {}
    accepted = set(inspect.signature(litellm.Router.__init__).parameters)
    settings = {k: v for k, v in (raw.get("router_settings") or {}).items() if k in accepted}
    return litellm.Router(model_list=[resolve(d) for d in loaded.model_list], **settings)


def _run(task: str, config_path: str, group: str | None, task_id: str | None, approve: str, max_tokens: int,
         out: TextIO) -> int:
    from litellm_slm_router.adapters.config import load_config
    from litellm_slm_router.tasks.run import run_task_sync, terminal_approver

    loaded = load_config(config_path)
    router = _router_from_config(loaded)
    strategy = loaded.plugin.install(router)
    model = group or sorted(strategy.model_groups)[0]
    if model not in strategy.model_groups:
        raise SLMRouterError(f"--group {model}: not a managed model group (managed: "
                             f"{', '.join(sorted(strategy.model_groups))})")
    result = run_task_sync(router, task, model=model, task_id=task_id, max_tokens=max_tokens,
                           approver=terminal_approver if approve == "terminal" else None)
    out.write(f"task {result.task_id}: {result.complexity.value}\n\n")
    out.write(f"{'#':>2}  {'phase':<10} {'role':<10} {'level':<9} {'deployment':<32} {'tokens':>7} "
              f"{'cost $':>10} {'s':>6}\n")
    for s in result.steps:
        out.write(f"{s.index:>2}  {s.phase:<10} {s.role:<10} {s.complexity or '':<9} {s.deployment or '':<32} "
                  f"{s.prompt_tokens + s.completion_tokens:>7} {s.cost_usd:>10.6f} {s.latency_s:>6.2f}\n")
    out.write(f"\ntotal: {result.summary()}\n")
    if result.critics_approved is not None:
        out.write(f"critics approved: {result.critics_approved}; human approved: {result.human_approved}\n")
    if result.denial or result.error:
        out.write(f"{result.status}: {result.denial or result.error}\n")
    if result.status == "completed":
        out.write(f"\n{result.final_text}\n")
        return 0
    out.write(f"\nthe result was not released ({result.status}); its draft is withheld.\n")
    return 1


def _serve(port: int, home: str | None, llama_port: int | None, model: str | None, out: TextIO) -> int:
    import signal
    import time

    from litellm_slm_router.local.serve import DEFAULT_HOME, LocalStack

    stack = LocalStack(port=port, home=Path(home) if home else DEFAULT_HOME, llama_port=llama_port,
                       model_path=Path(model) if model else None)

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)
    out.write("starting Gemma 3 270M on llama.cpp and the LiteLLM proxy (the first run writes the model file)...\n")
    out.flush()
    try:
        stack.start()
        out.write(f"local model answered a test completion\nready: {stack.url}/v1 (model group 'auto'); "
                  f"decisions: {stack.decision_log}; logs: {stack.logs}\nCtrl-C stops everything.\n")
        out.flush()
        while True:
            failure = stack.failure()
            if failure is not None:
                print(f"slm-router serve: {failure}", file=sys.stderr, flush=True)
                return 1
            time.sleep(0.5)
    except KeyboardInterrupt:
        out.write("stopping\n")
        return 0
    finally:
        # A second Ctrl-C or SIGTERM must not cut the clean-up short and leave a child behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()


def _local_verdict(summary: Any, failure: str | None, out: TextIO) -> int:
    """0 when the local tier answered something; else say why and return 1."""
    if summary.local_calls:
        return 0
    if failure:
        why = failure
    elif summary.replaced:
        why = ("every attempt on a local deployment failed and was retried elsewhere ("
               + ", ".join(f"{dep}: {n}" for dep, n in sorted(summary.replaced.items())) + "); see the local "
               "server's log")
    elif summary.unknown_locality:
        why = "the decision log has no record of these calls, so which were local is not known (--decision-log)"
    else:
        why = "no request was routed to a local deployment"
    out.write(f"\nthe local tier served nothing: {why}\n")
    return 1


def _demo(url: str | None, home: str | None, decision_log: str | None, out_dir: str, out: TextIO) -> int:
    from litellm_slm_router.local.demo import run_demo
    from litellm_slm_router.local.serve import DEFAULT_HOME, LocalStack, free_port

    home_dir = Path(home) if home else DEFAULT_HOME
    if url:
        log = Path(decision_log) if decision_log else None
        if log is None and home and (home_dir / "decisions.jsonl").exists():
            log = home_dir / "decisions.jsonl"
        result = run_demo(url.rstrip("/"), log, Path(out_dir), out)
        return _local_verdict(result.summary, None, out)
    out.write("no --url given: starting the local stack for the demo (the first run writes the model file)...\n")
    out.flush()
    with LocalStack(port=free_port(), home=home_dir) as stack:
        out.write("local model answered a test completion; sending the demo tasks\n\n")
        out.flush()
        result = run_demo(stack.url, stack.decision_log, Path(out_dir), out)
        return _local_verdict(result.summary, stack.failure(), out)


def _report(path: str, chart_path: str | None, cloud_model: str | None, out: TextIO) -> int:
    from litellm_slm_router.local.report import chart, load, rows_from_log, shadow_text, summarize

    try:
        decisions, refusals, errors = load(path)
    except FileNotFoundError:
        raise SLMRouterError(f"{path}: no such decision log (slm_router.decision_log in the proxy config)") from None
    summary = summarize(rows_from_log([d for d in decisions if not d.shadow], refusals, cloud_model))
    summary.errors = errors
    out.write(summary.text() + "\n")
    shadow = shadow_text(decisions)
    if shadow:
        out.write(shadow + "\n")
    if chart_path:
        out.write(f"chart: {chart(summary, chart_path)}\n")
    return 0


def _replay(path: str, out: TextIO) -> int:
    from litellm_slm_router.records.replay import replay

    report = replay(path)
    out.write(report.text() + "\n")
    return 0 if report.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="slm-router", description="litellm-slm-router: route every LiteLLM call "
                                     "to the smallest capable model, within per-task budgets.")
    sub = parser.add_subparsers(dest="command", required=True)
    cl = sub.add_parser("classify", help="assess prompts: the text arguments, or JSON lines {\"prompt\": ...} on "
                                         "stdin; one JSON assessment per line")
    cl.add_argument("text", nargs="*", help="prompts to assess (each argument is one prompt; default: stdin)")
    cl.add_argument("--config", help="a LiteLLM config whose slm_router.classifier thresholds to use")
    cl.add_argument("--weights", help="a weight file written by 'slm-router fit' (instead of the hand-set weights)")
    cl.add_argument("--critical-weights", help="a critical model written by 'slm-router train-critical' (instead of "
                    "the shipped one)")
    tuning.add_commands(sub)
    ex = sub.add_parser("explain", help="show how a task is assessed and, with --config, where it would go")
    ex.add_argument("text", nargs="*", help="the task (default: a few sample tasks)")
    ex.add_argument("--config", help="a LiteLLM config with model_list and an slm_router: section")
    ex.add_argument("--group", help="only this managed model group")
    ex.add_argument("--request", help="a JSON file with a chat request ({\"messages\": [...], \"tools\": ...}) to "
                                      "explain instead of a text")
    rp = sub.add_parser("replay", help="re-derive every decision of a JSON-lines decision log")
    rp.add_argument("path")
    rn = sub.add_parser("run", help="run a task in the shape its complexity calls for, through a config's models")
    rn.add_argument("task")
    rn.add_argument("--config", required=True, help="a LiteLLM config with model_list and an slm_router: section")
    rn.add_argument("--group", help="the managed model group to use (default: the first)")
    rn.add_argument("--task-id", help="the task id (default: a new one)")
    rn.add_argument("--approve", choices=("none", "terminal"), default="none",
                    help="ask on the terminal before releasing a critical task's result")
    rn.add_argument("--max-tokens", type=int, default=1024, help="bound of each step's answer")
    sv = sub.add_parser("serve", help="run Gemma 3 270M on llama.cpp behind the LiteLLM proxy with the plugin")
    sv.add_argument("--port", type=int, default=4000, help="the proxy's port on 127.0.0.1 (default 4000)")
    sv.add_argument("--llama-port", type=int, help="llama.cpp's port (default: a free one)")
    sv.add_argument("--home", help="cache directory for the model, logs and decisions "
                                   "(default ~/.cache/litellm-slm-router or $SLM_ROUTER_HOME)")
    sv.add_argument("--model", help="a GGUF model file to serve instead of the bundled Gemma 3 270M")
    dm = sub.add_parser("demo", help="send sample tasks to the proxy (or start one) and report the savings")
    dm.add_argument("--url", help="a running proxy, e.g. http://127.0.0.1:4000 (default: start the local stack)")
    dm.add_argument("--home", help="the cache directory of the stack (its decisions.jsonl is read)")
    dm.add_argument("--decision-log", help="with --url: the proxy's decision log (slm_router.decision_log), to "
                                           "show local calls, replaced attempts and the all-cloud comparison")
    dm.add_argument("--out", default=".", help="where to write savings.png (default: here)")
    rpt = sub.add_parser("report", help="spend, all-cloud spend and local share from a decision log, with a chart")
    rpt.add_argument("path")
    rpt.add_argument("--chart", help="write a PNG chart here")
    rpt.add_argument("--cloud-model", help="price the all-cloud baseline at this deployment (default: the "
                                           "most expensive cloud candidate)")
    args = parser.parse_args(argv)
    try:
        if args.command == "classify":
            return _classify(args.text, args.config, sys.stdin, sys.stdout, args.weights, args.critical_weights)
        if args.command in tuning.COMMANDS:
            return tuning.run(args, sys.stdout)
        if args.command == "explain":
            if args.request:
                requests = [_read_request(args.request)]
            else:
                requests = [(text, {}) for text in ([" ".join(args.text)] if args.text else SAMPLE_TASKS)]
            return _explain(requests, args.config, args.group, sys.stdout)
        if args.command == "serve":
            return _serve(args.port, args.home, args.llama_port, args.model, sys.stdout)
        if args.command == "demo":
            return _demo(args.url, args.home, args.decision_log, args.out, sys.stdout)
        if args.command == "report":
            return _report(args.path, args.chart, args.cloud_model, sys.stdout)
        if args.command == "run":
            return _run(args.task, args.config, args.group, args.task_id, args.approve, args.max_tokens, sys.stdout)
        return _replay(args.path, sys.stdout)
    except SLMRouterError as exc:
        print(f"slm-router: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
