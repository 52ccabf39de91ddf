"""The widget's ES modules: imports in one direction only, nothing imported from outside
``web_widget/src`` (the widget has no runtime dependencies), every module part of the bundle,
and the served bundle built from the current sources."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "web_widget" / "src"
ENTRY = "main.js"

# `import … from "x"`, `export … from "x"` (over several lines), `import "x"` and `import("x")`.
IMPORT = re.compile(
    r"""^\s*(?:import|export)\b[^;'"]*?\bfrom\s*["']([^"']+)["']"""
    r"""|^\s*import\s*["']([^"']+)["']"""
    r"""|\bimport\(\s*["']([^"']+)["']\s*\)""",
    re.MULTILINE,
)


def specifiers(source: str) -> list[str]:
    return [next(group for group in found if group) for found in IMPORT.findall(source)]


def module_graph() -> dict[str, list[str]]:
    """Each module's file name -> the file names it imports (all under web_widget/src)."""
    graph: dict[str, list[str]] = {}
    for path in sorted(SRC.glob("*.js")):
        graph[path.name] = []
        for spec in specifiers(path.read_text("utf-8")):
            assert re.fullmatch(r"\./[\w-]+\.js", spec), f"{path.name} imports {spec!r}"
            graph[path.name].append(spec[2:])
    return graph


def find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """One import cycle as the path that closes it (a -> b -> a), or None."""
    done: set[str] = set()
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        if node in path:
            return [*path[path.index(node) :], node]
        if node in done:
            return None
        path.append(node)
        for target in graph.get(node, []):
            cycle = visit(target)
            if cycle:
                return cycle
        path.pop()
        done.add(node)
        return None

    for start in sorted(graph):
        cycle = visit(start)
        if cycle:
            return cycle
    return None


def test_the_widget_modules_import_one_another_without_a_cycle() -> None:
    graph = module_graph()
    assert ENTRY in graph
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_every_import_names_a_module_and_every_module_is_in_the_bundle() -> None:
    graph = module_graph()
    missing = {f"{name} -> {target}" for name, targets in graph.items() for target in targets}
    missing = {edge for edge in missing if edge.split(" -> ")[1] not in graph}
    assert not missing
    reached: set[str] = set()
    todo = [ENTRY]
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo.extend(graph[name])
    assert sorted(set(graph) - reached) == [], "modules the entry never imports"


@pytest.mark.parametrize(
    ("graph", "cycle"),
    [
        ({"a.js": ["b.js"], "b.js": ["c.js"], "c.js": []}, None),
        ({"a.js": ["b.js", "c.js"], "b.js": ["c.js"], "c.js": []}, None),
        ({"a.js": ["b.js"], "b.js": ["a.js"]}, ["a.js", "b.js", "a.js"]),
        ({"a.js": ["b.js"], "b.js": ["c.js"], "c.js": ["b.js"]}, ["b.js", "c.js", "b.js"]),
        ({"a.js": ["a.js"]}, ["a.js", "a.js"]),
    ],
)
def test_the_checker_finds_cycles(graph: dict[str, list[str]], cycle: list[str] | None) -> None:
    # Guards the guard: a checker that finds nothing would pass forever.
    assert find_cycle(graph) == cycle


def test_the_checker_reads_every_form_of_import() -> None:
    source = (
        'import { a, b } from "./one.js";\n'
        "import {\n  c,\n  d\n} from './two.js';\n"
        'import "./three.js";\n'
        'export { e } from "./four.js";\n'
        'const later = () => import("./five.js");\n'
        '// "from" in a comment is not an import\n'
    )
    assert specifiers(source) == ["./one.js", "./two.js", "./three.js", "./four.js", "./five.js"]
    assert "view.js" in module_graph()["main.js"]


def test_the_served_bundle_is_built_from_the_current_sources() -> None:
    # scripts/setup builds it; after editing web_widget/src, run python -m web_widget.build.
    check = [sys.executable, "-m", "web_widget.build", "--check"]
    done = subprocess.run(check, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
