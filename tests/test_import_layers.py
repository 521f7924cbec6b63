"""The package's imports point one way: kernels <- backends <- tensor core <- autograd <- ops
<- Tensor <- nn/optim, with no cycle and no import inside a function but lazy numba/cupy.

The imports are read from the source (``ast``), so the test sees every module whether or
not it is imported here. Imports under ``if TYPE_CHECKING:`` are for type checkers only and
are not followed.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# third-party modules that load slowly or need a GPU: imported on first use, inside functions
LAZY_THIRD_PARTY = {"numba", "numba_cuda", "cupy", "cupyx", "cupy_backends", "mpi4py"}
# our modules whose loading means loading CUDA (CuPy, Numba): also imported on first use
LAZY_OURS = ("gputensor.kernels", "gputensor.backends.cuda_backend", "gputensor.backends.simcupy",
             "gputensor.backends.kernel_ufuncs")

# lower layers first; a module may import its own layer and the layers below it
LAYERS = [
    ("kernels", ("gputensor.kernels",)),
    ("backends and plain values", ("gputensor.backends", "gputensor.dtypes", "gputensor.device",
                                   "gputensor.size", "gputensor.printing")),
    ("tensor core", ("gputensor._tensor_core", "gputensor.random", "gputensor.random_draws")),
    ("autograd", ("gputensor.autograd",)),
    ("ops", ("gputensor.ops",)),
    ("Tensor", ("gputensor._tensor_base", "gputensor._tensor_more", "gputensor._tensor")),
    # (gputensor.linalg and gputensor.special: torch's namespaces of ops, above ops)
    # (gputensor.compile traces and replays ops, nn modules and optimizers: above them)
    ("nn, optim and the rest", ("gputensor.linalg", "gputensor.special", "gputensor.distributions",
                                "gputensor.compile", "gputensor.compiler", "gputensor._dynamo",
                                "gputensor.")),
    ("the public surface", ("gputensor",)),
]


def _modules() -> dict:
    """{dotted name: path} for every module of the package (kernels/ as gputensor.kernels)."""
    found = {}
    for base, prefix in ((ROOT / "gputensor", "gputensor"),
                         (ROOT / "kernels", "gputensor.kernels")):
        for path in base.rglob("*.py"):
            parts = list(path.relative_to(base).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join([prefix, *parts])] = path
    return found


MODULES = _modules()


def _is_type_checking(node) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"
            or isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _targets(module: str, node) -> list[str]:
    """The modules an import statement loads (ours by dotted name, others by top name)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    is_package = MODULES[module].name == "__init__.py"
    if node.level:
        parts = module.split(".")
        base = parts if is_package else parts[:-1]
        base = base[:len(base) - (node.level - 1)]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module
    out = []
    for alias in node.names:
        name = f"{source}.{alias.name}"
        out.append(name if name in MODULES else source)
    return out


@functools.cache
def _imports(module: str):
    """(module-level imports, imports inside functions or classes) of one module."""
    tree = ast.parse(MODULES[module].read_text())
    top, inner = [], []

    def walk(nodes, nested: bool) -> None:
        for node in nodes:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                (inner if nested else top).extend(_targets(module, node))
            elif isinstance(node, ast.If) and _is_type_checking(node):
                walk(node.orelse, nested)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                walk(node.body, True)
            else:
                walk(ast.iter_child_nodes(node), nested)
    walk(tree.body, False)
    return top, inner


def _loads(target: str, importer: str) -> list[str]:
    """Our modules that importing ``target`` runs: it and its packages, except the importer's
    own packages (already being loaded) and the root package."""
    if target not in MODULES:
        return []
    parts = target.split(".")
    chain = [".".join(parts[:i]) for i in range(2, len(parts) + 1)]
    return [m for m in chain if m in MODULES and not importer.startswith(m + ".")
            and m != importer]


@functools.cache
def _graph() -> dict:
    return {m: sorted({t for target in _imports(m)[0] for t in _loads(target, m)})
            for m in MODULES}


def _layer(module: str) -> int:
    for rank, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p if p.endswith(".") else p + ".")
               for p in prefixes):
            return rank
    raise AssertionError(f"{module} is in no layer")


def _cycles(graph: dict) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
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
                out.append(sorted(component))
    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_the_package_has_no_import_cycle():
    assert _cycles(_graph()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"]}) == [["a", "b", "c"]]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_down(module):
    rank = _layer(module)
    upward = [t for t in _graph()[module] if _layer(t) > rank]
    assert upward == [], f"{module} ({LAYERS[rank][0]}) imports from a higher layer"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_import_inside_a_function_but_lazy_cuda(module):
    _, inner = _imports(module)
    eager = [t for t in inner if t.split(".")[0] not in LAZY_THIRD_PARTY
             and not t.startswith(LAZY_OURS)]
    assert eager == [], f"{module} imports inside a function what it could import at the top"


def test_kernels_import_nothing_from_gputensor():
    for module in MODULES:
        if module.startswith("gputensor.kernels"):
            top, inner = _imports(module)
            ours = [t for t in top + inner if t.startswith("gputensor")
                    and not t.startswith("gputensor.kernels")]
            assert ours == [], module
