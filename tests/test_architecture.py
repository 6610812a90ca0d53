"""The package's layers, read from its imports: lower layers never import upper ones, no import circles,
a pure core (no LiteLLM, no I/O), and modules a reader can take in at once."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "litellm_slm_router"
# Lowest first. A module may import its own layer and the layers below it.
LAYERS = {"core": 0, "ledger": 1, "records": 1, "adapters": 2, "proxy": 2, "tasks": 3, "local": 4, "cli": 5,
          "__init__": 6}
# The standard library the pure core may use: no files, sockets, processes, threads or logging.
CORE_STDLIB = {"__future__", "collections", "dataclasses", "difflib", "enum", "hashlib", "json", "math", "re", "time",
               "types", "typing", "uuid", "functools", "itertools"}
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        found[".".join(("litellm_slm_router", *parts))] = path
    return found


MODULES = _modules()


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module, only for type checking) for each import in a module, at any depth (lazy imports count)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    type_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            type_only.update(id(n) for child in node.body for n in ast.walk(child))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) in type_only) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # "from litellm_slm_router.core.classifier import risk_words" imports the submodule
            submodules = [f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in MODULES]
            found += [(m, id(node) in type_only) for m in submodules]
            if len(submodules) < len(node.names):
                found.append((node.module, id(node) in type_only))
    return found


def _layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS[parts[1] if len(parts) > 1 else "__init__"]


def _own(module: str) -> str | None:
    """The package module an import names (a submodule, or the package holding the name)."""
    while module and module not in MODULES:
        module = module.rpartition(".")[0]
    return module or None


def test_the_layers_are_the_folders_and_every_module_has_one():
    assert {m.split(".")[1] for m in MODULES if "." in m} <= set(LAYERS)
    assert all(_layer(m) is not None for m in MODULES)


def test_lower_layers_never_import_upper_ones():
    wrong = []
    for module, path in MODULES.items():
        for imported, _ in _imports(path):
            target = _own(imported) if imported.startswith("litellm_slm_router") else None
            if target and _layer(target) > _layer(module):
                wrong.append(f"{module} imports {target}")
    assert not wrong, wrong


def test_no_import_circles():
    graph = {m: {t for i, type_only in _imports(p) if i.startswith("litellm_slm_router")
                 and not type_only and (t := _own(i)) and t != m} for m, p in MODULES.items()}
    # a package's __init__ importing its own modules is how a package exports; the modules importing
    # the package's other modules through it is the circle to catch
    circles = []

    def visit(node: str, path: list[str]) -> None:
        for nxt in graph[node]:
            if nxt in path:
                circles.append(" -> ".join([*path[path.index(nxt):], nxt]))
            elif len(path) < 12:
                visit(nxt, [*path, nxt])

    for start in graph:
        visit(start, [start])
    assert not circles, sorted(set(circles))[:5]


@pytest.mark.parametrize("module", sorted(m for m in MODULES if m.startswith("litellm_slm_router.core")))
def test_the_core_is_pure(module):
    """No LiteLLM, no third-party code but pydantic, no standard-library I/O, no open() or print()."""
    for imported, _ in _imports(MODULES[module]):
        top = imported.split(".")[0]
        assert top in CORE_STDLIB | {"pydantic", "litellm_slm_router"}, f"{module} imports {imported}"
        if top == "litellm_slm_router":
            assert imported.startswith("litellm_slm_router.core"), f"{module} imports {imported}"
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    calls = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    assert not calls & {"open", "print", "input", "exec", "eval"}, module


# Generated tables of data, not code (bench/train_critical.py writes this one).
GENERATED = {"litellm_slm_router.core.classifier.critical_weights"}


@pytest.mark.parametrize("module", sorted(set(MODULES) - GENERATED))
def test_modules_stay_readable_in_one_sitting(module):
    lines = MODULES[module].read_text(encoding="utf-8").count("\n")
    assert lines <= MAX_LINES, f"{module}: {lines} lines"


def test_the_config_path_and_the_public_names_still_work():
    import litellm_slm_router
    from litellm_slm_router.adapters.proxy import handler as adapter_handler
    from litellm_slm_router.proxy import handler

    assert handler is adapter_handler
    for name in litellm_slm_router.__all__:
        assert getattr(litellm_slm_router, name) is not None, name
