"""classify+select at an earlier commit and at this checkout, in one run, beside LiteLLM's heuristic.

    python bench/decision_cost_vs.py fe67d60                 # issue #18's start (bench/results/decision_cost_vs.json)
    python bench/decision_cost_vs.py fe67d60 --instructions  # also count instructions (valgrind)

The earlier commit is checked out into a temporary git worktree. Two worker processes, one importing
each version of the plugin, time classify+select (``select(classifier.assess(messages), ...)`` over
decision_cost.py's four-deployment catalogue) on decision_cost.py's 10-, 100- and 2,000-word prose,
and LiteLLM's complexity router ``classify`` on the same text in the same process, right after. Rounds
alternate between the workers (ABBA), so a slow phase of the machine hits both; each round gives each
version a ratio to LiteLLM, and the figure is the median over rounds of (this checkout's ratio) /
(the earlier commit's ratio): how much dearer a decision has become, in units of LiteLLM's own work.

``--instructions`` also counts the instructions of one decision with valgrind's callgrind, which
does not depend on what else the machine is doing (the difference between runs of N and of 10
decisions, divided by N - 10, in a process that does not import LiteLLM).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, ROOT, machine, write_json

WORDS = (10, 100, 2000)


def _decide(tree: str, options_file: str | None = None):
    """The plugin of ``tree`` (first on sys.path): a function running one decision per prompt length."""
    sys.path.insert(0, tree)
    from decision_cost import prompt_of  # this checkout's bench: the same prose (and catalogue) for both versions
    from stakes_cost import selection_setup

    from litellm_slm_router.core.budget import Budget, estimate_prompt_tokens
    from litellm_slm_router.core.classifier import TaskComplexityClassifier
    from litellm_slm_router.core.options import ModelOption
    from litellm_slm_router.core.policy import RoutingPolicy
    from litellm_slm_router.core.selector import PolicyView, select

    assert Path(sys.modules["litellm_slm_router"].__file__).is_relative_to(tree), "imported the wrong checkout"
    if options_file:  # under valgrind: the catalogue without importing LiteLLM
        options = [ModelOption(**d) for d in json.loads(Path(options_file).read_text())]
    else:
        options = selection_setup()[0]  # the plugin of ``tree`` builds it
    view, budget, classifier = PolicyView(RoutingPolicy()), Budget(0.10, 10_000), TaskComplexityClassifier()
    cases = {}
    for words in WORDS:
        messages = [{"role": "user", "content": prompt_of(words)}]
        tokens = estimate_prompt_tokens(messages)
        cases[words] = (prompt_of(words), lambda m=messages, t=tokens: select(
            classifier.assess(m), options, view, budget, model_group="auto", prompt_tokens=t))
    return cases, options


def worker(tree: str) -> None:
    """Times a round each time it reads a line: {words: [ours p50 us, LiteLLM p50 us]}."""
    cases, _ = _decide(tree)
    from decision_cost import timed
    from routing_quality import litellm_complexity_router

    theirs = litellm_complexity_router()
    print("ready", flush=True)
    for _ in sys.stdin:
        out = {}
        for words, (text, ours) in cases.items():
            n = 4000 if words < 2000 else 300
            out[words] = [timed(ours, n)[0], timed(lambda t=text: theirs.classify(t), n)[0]]
        print(json.dumps(out), flush=True)


def count(tree: str, options_file: str, words: int, n: int) -> None:
    cases, _ = _decide(tree, options_file)
    decide = cases[words][1]
    for _ in range(n):
        decide()


def _instructions(tree: str, options_file: str, words: int) -> int:
    def run(n: int) -> int:
        out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
                              __file__, "--count", tree, options_file, str(words), str(n)],
                             capture_output=True, text=True, check=True).stderr
        return int(out.split("Collected :")[1].split()[0])

    n = 40 if words >= 2000 else 200
    return (run(n + 10) - run(10)) // n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("commit", help="the earlier commit (e.g. fe67d60, issue #18's start)")
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--instructions", action="store_true", help="also count instructions with valgrind")
    parser.add_argument("--json", type=Path, default=RESULTS / "decision_cost_vs.json")
    args = parser.parse_args()

    # Resolved first, so that nothing the user typed reaches ``git worktree add`` as one of its options.
    resolved = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", "--quiet", "--end-of-options",
                               f"{args.commit}^{{commit}}"], capture_output=True, text=True)
    if resolved.returncode:
        raise SystemExit(f"cannot check out {args.commit!r}: not a commit of this repository; "
                         "give one, e.g. fe67d60")
    scratch = Path(tempfile.mkdtemp(prefix="decision-cost-vs-"))
    earlier = scratch / "earlier"
    added = subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(earlier),
                            resolved.stdout.strip()], capture_output=True, text=True)
    if added.returncode:
        shutil.rmtree(scratch, ignore_errors=True)
        raise SystemExit(f"cannot check out {args.commit!r} (git worktree add: {added.stderr.strip()}); "
                         "give a commit of this repository, e.g. fe67d60")
    try:
        trees = {"earlier": str(earlier), "now": str(ROOT)}
        workers = {name: subprocess.Popen([sys.executable, __file__, "--worker", tree], stdin=subprocess.PIPE,
                                          stdout=subprocess.PIPE, text=True) for name, tree in trees.items()}
        rounds: dict[str, list[dict]] = {name: [] for name in trees}
        for w in workers.values():
            assert w.stdout is not None and w.stdout.readline().strip() == "ready"
        for r in range(args.rounds):
            for name in (("earlier", "now") if r % 2 == 0 else ("now", "earlier")):
                w = workers[name]
                assert w.stdin is not None and w.stdout is not None
                w.stdin.write("round\n")
                w.stdin.flush()
                rounds[name].append(json.loads(w.stdout.readline()))
        for w in workers.values():
            assert w.stdin is not None
            w.stdin.close()
            w.wait()

        rows = []
        for words in WORDS:
            key = str(words)
            row: dict = {"words": words}
            for name in trees:
                row[f"{name}_us"] = statistics.median(x[key][0] for x in rounds[name])
                row[f"{name}_litellm_us"] = statistics.median(x[key][1] for x in rounds[name])
                row[f"{name}_speedup"] = row[f"{name}_litellm_us"] / row[f"{name}_us"]
            row["cost_ratio"] = statistics.median(n[key][0] / n[key][1] / (e[key][0] / e[key][1])
                                                  for e, n in zip(rounds["earlier"], rounds["now"], strict=True))
            rows.append(row)
        if args.instructions:
            for name, tree in trees.items():
                options_file = scratch / f"{name}-options.json"
                subprocess.run([sys.executable, __file__, "--dump-options", tree, str(options_file)], check=True)
                for row in rows:
                    row[f"{name}_instructions"] = _instructions(tree, str(options_file), row["words"])
            for row in rows:
                row["instruction_ratio"] = row["now_instructions"] / row["earlier_instructions"]
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(earlier)], capture_output=True)
        shutil.rmtree(scratch, ignore_errors=True)

    write_json(args.json, {"machine": machine(), "earlier_commit": args.commit, "rounds": args.rounds, "rows": rows})
    print(f"| prompt | classify+select at {args.commit} (us) | LiteLLM (us) | now (us) | LiteLLM (us) "
          "| now / earlier, in LiteLLM's units | instructions now / earlier |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for row in rows:
        instr = f"{row['instruction_ratio']:.2f}x" if "instruction_ratio" in row else "-"
        print(f"| {row['words']} words | {row['earlier_us']:.1f} | {row['earlier_litellm_us']:.1f} "
              f"| {row['now_us']:.1f} | {row['now_litellm_us']:.1f} | {row['cost_ratio']:.2f}x | {instr} |")
    print(f"\njson: {args.json}")
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(sys.argv[2])
    elif sys.argv[1:2] == ["--count"]:
        count(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    elif sys.argv[1:2] == ["--dump-options"]:
        _, options = _decide(sys.argv[2])
        Path(sys.argv[3]).write_text(json.dumps([o.model_dump(mode="json") for o in options]))
    else:
        raise SystemExit(main())
