"""The classifier narrows an ask's words once to the words its tests can find, then tests the small set.

That is only right while every word list and phrase those tests read is inside the narrowing set. The
first test reads the narrowing functions' source: every list, phrase index and word a narrowed set is
tested against must be inside the narrowing union, and a narrowed set may not be used any other way
(a new rule that reads a list outside the union, or hands the narrowed set on, fails it).
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable
from types import ModuleType

import pytest

from litellm_slm_router.core.classifier import critical, score
from litellm_slm_router.core.classifier.text import PhraseIndex, holds_any, words


def _value(node: ast.expr, module: ModuleType) -> object:
    """An expression of the module's names; ``table[local]`` stands for all of the table's values."""
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Name) and node.slice.id not in vars(module):
        return list(_value(node.value, module).values())  # type: ignore[attr-defined]
    return eval(compile(ast.Expression(node), "<test>", "eval"), vars(module))


def _words_of(value: object) -> set[str]:
    if isinstance(value, list):
        return set().union(*map(_words_of, value))
    if isinstance(value, PhraseIndex):
        return set(value.needed)
    return {value} if isinstance(value, str) else set(value)  # type: ignore[arg-type]


def _read_against(function: Callable[..., object], narrowed: set[str], module: ModuleType,
                  handed_on: set[str] = frozenset()) -> set[str]:
    """Every word a narrowed set (named in ``narrowed``) is tested against in ``function``'s source; fails
    on any other use of it, except as an argument of a function named in ``handed_on`` (checked itself)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    words: set[str] = set()
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Name) and node.id in narrowed and isinstance(node.ctx, ast.Load)):
            continue
        parent = parents[node]
        if isinstance(parent, ast.BinOp) and isinstance(parent.op, ast.BitAnd):
            other = parent.right if parent.left is node else parent.left
            if not (isinstance(other, ast.Name) and other.id in narrowed):
                words |= _words_of(_value(other, module))
        elif isinstance(parent, ast.Attribute) and parent.attr in ("isdisjoint", "intersection"):
            words |= _words_of(_value(parents[parent].args[0], module))
        elif isinstance(parent, ast.Compare) and isinstance(parent.ops[0], ast.In) and parent.comparators[0] is node:
            words |= _words_of(_value(parent.left, module))
        elif (isinstance(parent, ast.Call) and isinstance(parent.func, ast.Attribute)
              and parent.func.attr in ("first", "count", "occurrences")):
            words |= _words_of(_value(parent.func.value, module))
        elif isinstance(parent, ast.Call) and isinstance(parent.func, ast.Name) and parent.func.id in handed_on:
            continue
        elif isinstance(parent, ast.Assign) and isinstance(parent.value, ast.BinOp):
            continue  # the narrowing itself
        elif (isinstance(parent, ast.Tuple) and isinstance(parents[parent], ast.Assign)
              and isinstance(target := parents[parent].targets[0], ast.Tuple)
              and ast.unparse(target.elts[parent.elts.index(node)]) in narrowed):
            continue  # handed to another narrowed name ("prose_known = known")
        else:
            raise AssertionError(f"{function.__name__}: {ast.unparse(parent)!r} uses a narrowed set in a way this "
                                 "test cannot check; test it against a list inside the narrowing union")
    return words


def test_every_narrowed_test_reads_inside_the_union() -> None:
    gate = _read_against(critical._worth_scanning, {"word_set"}, critical)
    assert gate and gate <= critical._SCANNED, sorted(gate - critical._SCANNED)[:10]
    score_reads = (_read_against(score.features, {"known", "prose_known"}, score, {"_count_fractions"})
                   | _read_against(score._count_fractions, {"prose_known"}, score))
    assert score_reads and score_reads <= score._VOCABULARY, sorted(score_reads - score._VOCABULARY)[:10]


def test_phrase_index_needs_every_word_but_the_last_and_its_key() -> None:
    index = PhraseIndex(["delete the prod database", "wire money"])
    assert {"delete", "the", "prod", "wire"} <= index.needed
    lower = "please delete the prod databases now"
    full = frozenset(words(lower))
    assert index.first(lower, full & index.needed) == index.first(lower, full) == "delete the prod database"


@pytest.mark.parametrize(("text", "parts", "expected"), [
    ("costs 4 dollars", "0123456789", True), ("no digits", "0123456789", False), ("", "abc", False),
    ("€5 now", "$€£¥", True), ("how many are left", ("how m", "combien"), True), ("count them", ("how m",), False),
])
def test_holds_any(text: str, parts: str | tuple[str, ...], expected: bool) -> None:
    assert holds_any(text, parts) is expected
