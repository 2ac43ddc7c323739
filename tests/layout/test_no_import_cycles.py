"""No module of bot/ imports itself through others: its imports are read with `ast`, wherever they stand.

An import inside a function counts like one at the top (a deliberate lazy import, such as cli -> server
so that `notesbot search` does not load Slack, may stay only while it closes no cycle). Importing
`a.b.c` also runs the packages `a.b` and `a` unless the importing module is already inside them, so an
edge goes to those packages too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parents[2] / "bot"

Graph = dict[str, set[str]]


def module_names(root: Path) -> dict[str, Path]:
    """Every module under the package folder `root`, by dotted name (a package by its own name)."""
    names = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        names[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return names


def imported(module: str, path: Path, modules: set[str]) -> set[str]:
    """The modules of `modules` that importing `module` (the file at `path`) runs, directly."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    targets: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, package)
            targets |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    running = {m for target in targets for m in _with_packages(target) if not _contains(m, module)}
    return (running & modules) - {module}


def _absolute(node: ast.ImportFrom, package: str) -> str:
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    base = ".".join(parts[: len(parts) - node.level + 1])
    return f"{base}.{node.module}" if node.module else base


def _with_packages(target: str) -> Iterator[str]:
    """`a.b.c`, `a.b`, `a`: what importing `a.b.c` may run."""
    parts = target.split(".")
    for end in range(len(parts), 0, -1):
        yield ".".join(parts[:end])


def _contains(package: str, module: str) -> bool:
    """`module` is `package` or inside it (so `package` already runs when `module` does)."""
    return module == package or module.startswith(package + ".")


def import_graph(root: Path) -> Graph:
    modules = module_names(root)
    return {name: imported(name, path, set(modules)) for name, path in modules.items()}


def cycles(graph: Graph) -> list[list[str]]:
    """The import cycles of `graph`: each group of modules that import one another, sorted (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while not group or group[-1] != node:
                group.append(stack.pop())
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def reachable(graph: Graph, start: str) -> set[str]:
    """Every module that importing `start` runs, at any depth."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for target in graph[todo.pop()] - seen:
            seen.add(target)
            todo.append(target)
    return seen


def write_package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / next(iter(files)).split("/")[0]


def test_no_module_of_bot_imports_another_in_a_cycle() -> None:
    assert cycles(import_graph(BOT)) == []


def test_the_command_line_s_lazy_import_of_the_server_is_read_and_leads_nowhere_back() -> None:
    graph = import_graph(BOT)

    assert "bot.slack.server" in graph["bot.cli"]  # imported inside cli's `serve` command only
    assert "bot.cli" not in reachable(graph, "bot.slack.server")


@pytest.mark.parametrize(
    ("files", "cycle"),
    [
        pytest.param(
            {
                "pkg/__init__.py": "",
                "pkg/a.py": "from pkg.b import helper\n",
                "pkg/b.py": "def helper():\n    from pkg import a\n    return a\n",
                "pkg/c.py": "import pkg.a\n",  # leads into the cycle, is not part of it
            },
            ["pkg.a", "pkg.b"],
            id="closed by an import inside a function",
        ),
        pytest.param(
            {
                "pkg/__init__.py": "",
                "pkg/sub/__init__.py": "",
                "pkg/sub/x.py": "from .. import y\n",
                "pkg/y.py": "from .sub.x import z\n",
            },
            ["pkg.sub.x", "pkg.y"],
            id="through relative imports",
        ),
        pytest.param(
            {
                "pkg/__init__.py": "",
                "pkg/rooms/__init__.py": "from pkg.rooms import one\n",
                "pkg/rooms/one.py": "from pkg import helpers\n",
                "pkg/rooms/two.py": "",
                "pkg/helpers.py": "from pkg.rooms.two import thing\n",  # runs pkg/rooms/__init__.py, hence one
            },
            ["pkg.helpers", "pkg.rooms", "pkg.rooms.one"],
            id="through a package that imports its modules",
        ),
    ],
)
def test_a_cycle_is_found_wherever_its_imports_stand(tmp_path: Path, files: dict[str, str], cycle: list[str]) -> None:
    assert cycles(import_graph(write_package(tmp_path, files))) == [cycle]
