"""The widget's ES modules: imports in one direction only, nothing imported from outside
``web_widget/src`` (the widget has no runtime dependencies), every module part of the launcher
(widget.js from ``main.js``) or of the chat panel (widget-chat.en.js and widget-chat.zh.js, both
from ``chat.js`` and made of the same modules) and none part of both, and the served bundles
built from the current sources."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from web_widget.build import build

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "web_widget" / "src"
LAUNCHER = "main.js"
CHAT = "chat.js"

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
    """Each module's file name -> the file names it imports (all under web_widget/src). A
    stylesheet is imported as text (esbuild minifies it) and imports nothing."""
    graph: dict[str, list[str]] = {path.name: [] for path in sorted(SRC.glob("*.css"))}
    for path in sorted(SRC.glob("*.js")):
        graph[path.name] = []
        for spec in specifiers(path.read_text("utf-8")):
            assert re.fullmatch(r"\./[\w-]+\.(js|css)", spec), f"{path.name} imports {spec!r}"
            graph[path.name].append(spec[2:])
    return graph


def reached(graph: dict[str, list[str]], entry: str) -> set[str]:
    found: set[str] = set()
    todo = [entry]
    while todo:
        name = todo.pop()
        if name not in found:
            found.add(name)
            todo.extend(graph[name])
    return found


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
    assert LAUNCHER in graph
    assert CHAT in graph
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_every_import_names_a_module_and_every_module_is_in_a_bundle() -> None:
    graph = module_graph()
    missing = {f"{name} -> {target}" for name, targets in graph.items() for target in targets}
    missing = {edge for edge in missing if edge.split(" -> ")[1] not in graph}
    assert not missing
    everywhere = reached(graph, LAUNCHER) | reached(graph, CHAT)
    assert sorted(set(graph) - everywhere) == [], "modules neither entry imports"
    importers = {name for name, targets in graph.items() if {LAUNCHER, CHAT} & set(targets)}
    assert importers == set(), "an entry is imported"


def test_the_launcher_never_imports_the_chat() -> None:
    # widget.js stays small: what only the open chat needs comes with widget-chat.js.
    graph = module_graph()
    launcher = reached(graph, LAUNCHER)
    chat_only = reached(graph, CHAT) - launcher
    assert {"view.js", "socket.js", "texts.js", "chat.css"} <= chat_only
    assert launcher & chat_only == set()


def test_the_launcher_hands_the_chat_every_one_of_its_modules() -> None:
    # widget-chat.js imports any of them from widget.js (build.mjs), by the names main.js gives.
    source = (SRC / LAUNCHER).read_text("utf-8")
    shared = re.search(r"share\(\{(.*?)\}\);", source, re.DOTALL)
    assert shared is not None, "main.js hands its modules over with share({...})"
    named = dict(re.findall(r'"([\w-]+\.js)": (\w+)', shared.group(1)))
    namespaces = dict(re.findall(r'import \* as (\w+) from "\./([\w-]+\.js)"', source))
    launcher = {name for name in reached(module_graph(), LAUNCHER) if name.endswith(".js")}
    assert set(named) == launcher - {LAUNCHER}
    assert all(namespaces[variable] == name for name, variable in named.items())


def test_no_module_goes_into_both_bundles(tmp_path: Path) -> None:
    built = build(tmp_path)
    graph = module_graph()
    launcher = reached(graph, LAUNCHER)
    assert set(built.launcher_sources) == {f"src/{name}" for name in launcher}
    assert set(built.chat_sources) == {f"src/{name}" for name in reached(graph, CHAT) - launcher}
    assert sorted(built.chats) == ["en", "zh"]
    for chat in built.chats.values():
        assert built.launcher.stat().st_size < chat.stat().st_size


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
    assert "view.js" in module_graph()["chat.js"]
    assert "launcher.css" in module_graph()["launcher.js"]


def test_the_served_bundles_are_built_from_the_current_sources() -> None:
    # scripts/setup builds it; after editing web_widget/src, run python -m web_widget.build.
    check = [sys.executable, "-m", "web_widget.build", "--check"]
    done = subprocess.run(check, cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
