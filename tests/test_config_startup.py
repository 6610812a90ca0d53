"""Every config mistake stops the real proxy's start-up, never a request: each bad config below is
given to the LiteLLM proxy's own start-up (its CLI entry point, uvicorn, the lifespan start-up that
loads the config and imports the plugin), which must exit with status 3 before serving anything,
printing one short line per problem (the key, what is wrong, the valid keys of that section, and
what was probably meant), with no traceback. Good configs still start and serve.

The bad configs run through ``proxy_starts.py`` (LiteLLM imported once, one forked start-up per
config); one runs through the ``litellm`` command itself, as an operator would start it.
"""

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support import deployments, free_port

CALLBACK = "litellm_slm_router.proxy.handler"
HERE = Path(__file__).parent


def base(**section):
    return {"model_list": deployments(), "litellm_settings": {"callbacks": CALLBACK},
            "slm_router": {"model_groups": ["auto"], **section}}


def with_profile(index, profile):
    config = base()
    config["model_list"][index]["model_info"]["slm_router"] = profile
    return config


def unpriced():
    config = base()
    config["model_list"].append({"model_name": "auto", "litellm_params": {"model": "openai/house-model-9",
                                                                          "api_key": "sk-test"},
                                 "model_info": {"id": "house", "slm_router": {}}})
    return config


def renamed_section():
    config = base()
    config["slm_routr"] = config.pop("slm_router")
    return config


def no_profiles():
    config = base()
    del config["slm_router"]["model_groups"]
    for deployment in config["model_list"]:
        deployment["model_info"].pop("slm_router", None)
    return config


# (name, config, what the refusal must say)
BAD = [
    ("policy-typo", base(policy={"prefer_lokal": True}),
     ["slm_router.policy.prefer_lokal: unknown key; did you mean 'prefer_local'? (valid keys: prefer_local, "]),
    ("ledger-typo", base(ledger={"backnd": "redis"}),
     ["slm_router.ledger.backnd: unknown key; did you mean 'backend'? (valid keys: backend, redis, ttl_s"]),
    ("classifier-typo", base(classifier={"moderat": 0.3}),
     ["slm_router.classifier.moderat: unknown key; did you mean 'moderate'? "
      "(valid keys: moderate, complex, critical, weights, critical_weights)"]),
    ("section-key-typo", base(polcy={"prefer_local": True}),
     ["slm_router.polcy: unknown key; did you mean 'policy'? (valid keys: policy, model_groups,"]),
    ("section-name-typo", renamed_section(),
     ["slm_routr: unknown top-level section; did you mean 'slm_router'?"]),
    ("thresholds-order", base(classifier={"moderate": 0.8, "complex": 0.3}),
     ["slm_router.classifier.moderate: 0.8 must be below classifier.complex (0.3)"]),
    ("threshold-range", base(classifier={"complex": 1.5}),
     ["slm_router.classifier.complex: Input should be less than 1"]),
    ("fallback-a-deployment-model", base(policy={"fallback_model": "openai/gpt-4o"}),
     ["slm_router.policy.fallback_model: 'openai/gpt-4o' names a deployment (in auto, plain), not a model group",
      "(model groups: auto, plain)"]),
    ("fallback-a-deployment-id", base(policy={"fallback_model": "plain-a"}),
     ["slm_router.policy.fallback_model: 'plain-a' names a deployment (in plain)", "did you mean 'plain'?"]),
    ("fallback-to-itself", base(policy={"fallback_model": "auto"}),
     ["slm_router.policy.fallback_model: 'auto' is the only managed group"]),
    ("local-model-typo", base(policy={"local_model": "local-smal"}),
     ["slm_router.policy.local_model: 'local-smal' is not a model_name", "did you mean 'local-small'?"]),
    ("local-model-is-cloud", base(policy={"local_model": "cloud-big"}),
     ["slm_router.policy.local_model: 'cloud-big' names no local deployment of a managed group (auto)",
      "(local deployments of the managed groups: local-small, local-mid)"]),
    ("cloud-model-unknown", base(policy={"cloud_model": "openai/gpt-9"}),
     ["slm_router.policy.cloud_model: 'openai/gpt-9' is not a model_name"]),
    ("model-groups-typo", base(model_groups=["autoo"]),
     ["slm_router.model_groups[0]: 'autoo' is not a model_name of the model_list; did you mean 'auto'?"]),
    ("model-groups-empty", base(model_groups=[]), ["slm_router.model_groups: is empty"]),
    ("nothing-to-manage", no_profiles(), ["slm_router.model_groups: no model group to manage"]),
    ("negative-cap", base(policy={"max_cost_per_task_usd": -1}),
     ["slm_router.policy.max_cost_per_task_usd: Input should be greater than or equal to 0 (got -1)"]),
    ("literal-typo", base(policy={"critical_over_budget": "force_locl"}),
     ["slm_router.policy.critical_over_budget: 'force_locl' is not one of the accepted values; did you mean "
      "'force_local'? (accepted values: refuse, force_local)"]),
    ("token-cap-below-floor", base(policy={"max_tokens_per_task": 10}),
     ["slm_router.policy.max_tokens_per_task: 10 is below min_output_tokens (16)"]),
    ("default-below-floor", base(policy={"default_max_tokens": 8}),
     ["slm_router.policy.default_max_tokens: 8 is below min_output_tokens (16)"]),
    ("backend-typo", base(ledger={"backend": "redsi"}),
     ["slm_router.ledger.backend: 'redsi' is not one of the accepted values; did you mean 'redis'?"]),
    ("on-unavailable-typo", base(ledger={"on_unavailable": "fail_close"}),
     ["slm_router.ledger.on_unavailable: 'fail_close' is not one of the accepted values; did you mean "
      "'fail_closed'?"]),
    ("redis-key-typo", base(ledger={"backend": "redis", "redis": {"hostt": "127.0.0.1"}}),
     ["slm_router.ledger.redis.hostt: not a Redis connection setting LiteLLM's Redis helper accepts; did you "
      "mean 'host'? (valid keys: url, host, port, password,"]),
    ("redis-port", base(ledger={"backend": "redis", "redis": {"host": "127.0.0.1", "port": "six"}}),
     ["slm_router.ledger.redis.port: expected a TCP port number (1-65535), got 'six'"]),
    ("redis-url", base(ledger={"backend": "redis", "redis": {"url": "http://127.0.0.1:6379"}}),
     ["slm_router.ledger.redis.url: expected a URL starting with redis://, rediss://, unix://"]),
    ("redis-ignored", base(ledger={"redis": {"host": "127.0.0.1"}}),
     ["slm_router.ledger.redis: is set but ledger.backend is 'memory'"]),
    ("lease-too-short", base(ledger={"reservation_lease_s": 5}),
     ["slm_router.ledger.reservation_lease_s: 5 s is shorter than policy.max_latency_per_call_s (30 s)"]),
    ("ttl-zero", base(ledger={"ttl_s": 0}), ["slm_router.ledger.ttl_s: Input should be greater than 0"]),
    ("not-a-mapping", base(policy="fast"), ["slm_router.policy: expected a mapping of settings, got str 'fast'"]),
    ("decision-log-dir", base(decision_log="/"), ["slm_router.decision_log: '/' is a directory"]),
    ("profile-typo", with_profile(0, {"max_complexty": "simple"}),
     ["model_list[auto: ollama_chat/qwen3:1.7b].model_info.slm_router.max_complexty: unknown key; did you mean "
      "'max_complexity'? (valid keys: local, size_b, max_complexity,"]),
    ("profile-level", with_profile(1, {"max_complexity": "hard"}),
     ["model_list[auto: ollama_chat/qwen2.5-coder:7b].model_info.slm_router.max_complexity: 'hard' is not one of "
      "the accepted values (accepted values: simple, moderate, complex, critical)"]),
    ("unpriced-cloud", unpriced(), ["model_list[auto: openai/house-model-9]: no price is known"]),
    ("many-at-once", base(policy={"prefer_lokal": True, "fallback_model": "openai/gpt-4o"},
                          classifier={"moderate": 0.8, "complex": 0.3}, ledger={"backnd": "memory"}),
     ["4 configuration problems", "prefer_lokal", "fallback_model", "classifier.moderate", "ledger.backnd"]),
    # Weight files: resolved next to the config file and read at start-up, not on the first request.
    ("critical-weights-missing", base(classifier={"critical_weights": "no_such_model.json"}),
     ["slm_router.classifier: classifier critical_weights file", "no_such_model.json does not exist"]),
    ("score-weights-missing", base(classifier={"weights": "no_such_weights.json"}),
     ["slm_router.classifier: classifier weights file", "no_such_weights.json does not exist"]),
    ("critical-weights-not-a-model", base(classifier={"critical_weights": "not_a_model.json"}),
     ["not_a_model.json: expected {\"critical_model\""]),
    ("critical-weights-with-rules-alone", base(classifier={"critical": 1.0, "critical_weights": "own_critical.json"}),
     ["slm_router.classifier.critical_weights: has no effect with classifier.critical: 1"]),
]


def good_configs(redis_port):
    root = yaml.safe_load((HERE.parent / "proxy_config.yaml").read_text())
    every_form = base(policy={"fallback_model": "plain", "local_model": "local-small", "cloud_model": "openai/gpt-4o",
                              "max_tokens_per_task": 16},
                      classifier={"moderate": 0.3, "complex": 0.7},
                      ledger={"backend": "redis", "redis": {"host": "127.0.0.1", "port": str(redis_port)},
                              "reservation_lease_s": 30})
    own_model = base(classifier={"critical_weights": "own_critical.json"})  # relative: next to the config
    return [("root-proxy-config", root), ("every-reference-form", every_form), ("own-critical-model", own_model)]


@pytest.fixture(scope="module")
def started(tmp_path_factory, redis_server):
    tmp = tmp_path_factory.mktemp("startups")
    from litellm_slm_router.core.classifier import critical_weights

    (tmp / "own_critical.json").write_text(json.dumps({"critical_model": {"bias": critical_weights.BIAS,
                                                                          "weights": critical_weights.WEIGHTS}}))
    (tmp / "not_a_model.json").write_text(json.dumps({"weights": {"code": 1.0}}))
    jobs, names = [], []
    for name, config, *_ in [*BAD, *good_configs(redis_server.port)]:
        path = tmp / f"{name}.yaml"
        path.write_text(yaml.safe_dump(copy.deepcopy(config), sort_keys=False))
        jobs.append({"config": str(path), "out": str(tmp / f"{name}.out"), "err": str(tmp / f"{name}.err")})
        names.append(name)
    (tmp / "jobs.json").write_text(json.dumps(jobs))
    # The litellm command itself, as an operator starts it, at the same time (the machine has two cores).
    litellm_bin = shutil.which("litellm") or str(Path(sys.executable).parent / "litellm")
    many = jobs[names.index("many-at-once")]["config"]
    command = subprocess.Popen([litellm_bin, "--config", many, "--host", "127.0.0.1", "--port", str(free_port())],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = subprocess.run([sys.executable, str(HERE / "proxy_starts.py"), str(tmp / "jobs.json")],
                         capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr[-3000:]
    try:
        command_out, command_err = command.communicate(timeout=120)
    finally:
        if command.poll() is None:
            command.kill()
            command.wait()
    results = {}
    for name, job, result in zip(names, jobs, json.loads(out.stdout.splitlines()[-1]), strict=True):
        results[name] = {**result, "stderr": Path(job["err"]).read_text(), "stdout": Path(job["out"]).read_text()}
    results["litellm-command"] = {"status": command.returncode, "served": False, "stderr": command_err,
                                  "stdout": command_out}
    return results


def test_there_are_at_least_twenty_distinct_mistakes():
    assert len(BAD) >= 20 and len({name for name, *_ in BAD}) == len(BAD)


@pytest.mark.parametrize(("name", "expected"), [(name, expected) for name, _, expected in BAD],
                         ids=[name for name, *_ in BAD])
def test_a_bad_config_stops_start_up(started, name, expected):
    result = started[name]
    err = result["stderr"]
    assert result["status"] == 3 and not result["served"], (result, err[-2000:])
    assert "slm-router refused to start:" in err and "Nothing was served." in err
    for text in expected:
        assert text in err, err
    assert "Traceback" not in err + result["stdout"]
    assert len(err.splitlines()) < 40, err


def test_an_unknown_key_lists_the_keys_of_its_own_section_only(started):
    line = next(s for s in started["policy-typo"]["stderr"].splitlines() if "prefer_lokal" in s)
    assert "critical_over_budget" in line and "model_groups" not in line and "decision_log" not in line


def test_the_litellm_command_refuses_with_a_short_message(started):
    result = started["litellm-command"]
    err = result["stderr"]
    assert result["status"] == 3, err[-2000:]
    assert "slm-router refused to start: 4 configuration problems in" in err
    assert "slm_router.policy.prefer_lokal: unknown key; did you mean 'prefer_local'?" in err
    assert "Traceback" not in err and len(err.splitlines()) < 40, err


@pytest.mark.parametrize("name", ["root-proxy-config", "every-reference-form", "own-critical-model"])
def test_good_configs_still_start_and_serve(started, name):
    result = started[name]
    assert result["served"] and result["status"] is None, result["stderr"][-3000:]
    assert "refused" not in result["stderr"]
