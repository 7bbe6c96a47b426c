"""callbacks/ is a set of leaves: no import cycle, and no callback imports another.

Also a command-line check for the whole repository's packages:
    python tests/callbacks/test_imports.py keras_seminar tuning experiments
run in the repository root prints every import cycle among those packages (function-level
imports included) and exits 1 if there is one. tuning/ and experiments/ are read under the names
they install as (`keras_seminar.tuning`, `keras_seminar.experiments`; setup.cfg's package_dir).
"""

import ast
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Repository folders installed under another package name (setup.cfg's package_dir).
INSTALLED_AS = {"tuning": "keras_seminar.tuning", "experiments": "keras_seminar.experiments"}
CALLBACKS = ("tensorboard", "gradient_norms", "sparsity", "information_plane", "backup", "nan_guard")


def modules(packages, root=ROOT):
    """`{module name: file path}` of every .py file under `packages`."""
    found = {}
    for package in packages:
        for folder, _, files in os.walk(os.path.join(root, package)):
            for name in files:
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    parts = os.path.relpath(path, root)[:-3].split(os.sep)
                    if parts[0] in INSTALLED_AS:
                        parts = INSTALLED_AS[parts[0]].split(".") + parts[1:]
                    found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def import_graph(packages, root=ROOT):
    """`{module: set of modules it imports}` among `packages`, from the AST (every import
    statement, at any depth). Importing `a.b.c` also runs `a.b`'s `__init__` unless the
    importer is inside `a.b` already (then it is running)."""
    known = modules(packages, root)
    graph = {}
    for module, path in known.items():
        is_package = path.endswith("__init__.py")
        with open(path) as f:
            tree = ast.parse(f.read(), path)
        targets = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = module.split(".")[:len(module.split(".")) - node.level + is_package]
                    base = ".".join(anchor + ([base] if base else []))
                targets.add(base)
                targets.update(f"{base}.{alias.name}" for alias in node.names)
        edges = set()
        for target in targets:
            parts = target.split(".")
            for i in range(1, len(parts) + 1):
                name = ".".join(parts[:i])
                inside = module == name or module.startswith(name + ".")
                if name in known and name != module and not inside:
                    edges.add(name)
        graph[module] = edges
    return graph


def cycles(graph):
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(max(10000, sys.getrecursionlimit()))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycle_through_callbacks_or_lr_finder():
    graph = import_graph(["keras_seminar"])
    touching = [c for c in cycles(graph) if any(m.startswith("keras_seminar.callbacks") or
                                               m == "keras_seminar.lr_finder" for m in c)]
    assert touching == []


def test_a_callback_never_imports_another():
    graph = import_graph(["keras_seminar"])
    callbacks = {f"keras_seminar.callbacks.{name}" for name in CALLBACKS}
    for module in callbacks:
        assert graph[module] & callbacks == set(), module
    assert "keras_seminar.lr_finder" not in graph["keras_seminar.callbacks"]


def test_the_whole_namespace_has_no_cycle_and_the_core_never_imports_what_sits_on_top():
    graph = import_graph(["keras_seminar", "tuning", "experiments"])
    assert "keras_seminar.tuning.search" in graph and "keras_seminar.experiments.depth" in graph
    assert cycles(graph) == []
    on_top = tuple(INSTALLED_AS.values())
    core = {m: edges for m, edges in graph.items() if not m.startswith(on_top)}
    assert [(m, sorted(e for e in edges if e.startswith(on_top)))
            for m, edges in core.items() if any(e.startswith(on_top) for e in edges)] == []


def test_the_checker_finds_a_cycle(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "a.py").write_text("from pkg import b\n")
    (tmp_path / "pkg" / "b.py").write_text("def f():\n    from pkg.a import x\n")
    (tmp_path / "pkg" / "c.py").write_text("from . import a\n")
    assert cycles(import_graph(["pkg"], root=str(tmp_path))) == [["pkg.a", "pkg.b"]]


if __name__ == "__main__":
    found = cycles(import_graph(sys.argv[1:] or ["keras_seminar"], root=os.getcwd()))
    for component in found:
        print("cycle:", " <-> ".join(component))
    print(f"{len(found)} import cycle(s) in {sys.argv[1:] or ['keras_seminar']}")
    sys.exit(1 if found else 0)
