"""The agent console's modules (kefu/web/console/*.js), read with a real JavaScript parser
(tree-sitter): no import cycle, imports only downward through the layers ARCHITECTURE.md names,
only the store changes the state, and only the effect modules call the API.

"Only the store changes the state" is checked statically in every module but store.js: no
assignment (``=``, ``+=``, ``++``, ``delete``) and no mutating call (``.set``, ``.add``,
``.delete``, ``.clear``, ``.push``, ``.splice``..., ``Object.assign``) may target a value reached
from the store: the imported ``state`` (under any name, or ``store.state`` through a namespace
import), what a function imported from store.js returns (``currentTicket()``, ``conv(state,
cid)``), anything reached from those by ``.x``, ``[i]`` or a method call (``state.convs.get(cid)
.pending``), and local names bound to such a value (``const record = conv(state, cid)``,
``const { lists } = state``). What it cannot follow is a value handed over as an argument (a
listener's ``(now, before)``): there the store's own freezing stops writes to plain objects and
arrays at run time (modules are strict, so such a write throws).

Each check is also run on modules made here, so that a checker that sees nothing fails.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import tree_sitter_javascript
from tree_sitter import Language, Node, Parser

CONSOLE = Path(__file__).resolve().parents[2] / "kefu" / "web" / "console"
STORE = "store.js"

# Each module's layer; a module imports only from lower layers. A new module gets a row here
# (and a line in ARCHITECTURE.md's table of the console).
LAYERS: dict[str, int] = {
    "constants.js": 0,
    "rich.js": 0,
    "store.js": 1,
    "selectors.js": 2,
    "desk.js": 3,
    "requests.js": 3,
    "socket.js": 4,
    "canned.js": 5,
    "notify.js": 5,
    "service-language.js": 5,
    "actions.js": 6,
    "assist.js": 6,
    "complaints.js": 6,
    "composer.js": 6,
    "context.js": 6,
    "lists.js": 6,
    "presence.js": 6,
    "service-language-list.js": 6,
    "ticket.js": 6,
    "transcript.js": 6,
    "shortcuts.js": 7,
    "console.js": 8,
}
# Only these may call the shared API client: views go through them.
EFFECTS = {"desk.js", "requests.js", "socket.js"}
MUTATORS = {
    "set", "add", "delete", "clear", "push", "pop", "shift", "unshift", "splice", "sort",
    "reverse", "fill", "copyWithin",
}  # fmt: skip
OBJECT_WRITERS = {"assign", "defineProperty", "defineProperties", "setPrototypeOf"}

PARSER = Parser(Language(tree_sitter_javascript.language()))


@dataclass
class Module:
    name: str
    tree: Node
    # specifier -> the names imported from it (local name -> exported name; "*" for a namespace)
    imports: dict[str, dict[str, str]] = field(default_factory=dict)
    exports: set[str] = field(default_factory=set)


def _text(node: Node | None) -> str:
    assert node is not None
    assert node.text is not None
    return node.text.decode()


def _walk(node: Node) -> Iterator[Node]:
    yield node
    for child in node.children:
        yield from _walk(child)


def _string(node: Node | None) -> str | None:
    if node is None or node.type != "string":
        return None
    return "".join(_text(c) for c in node.children if c.type == "string_fragment")


def parse(path: Path) -> Module:
    tree = PARSER.parse(path.read_bytes()).root_node
    assert not tree.has_error, f"{path.name} does not parse"
    module = Module(path.name, tree)
    for node in _walk(tree):
        if node.type == "import_statement":
            source = _string(node.child_by_field_name("source"))
            assert source is not None
            names = module.imports.setdefault(source, {})
            for clause in (c for c in node.children if c.type == "import_clause"):
                for part in clause.children:
                    if part.type == "identifier":
                        names[_text(part)] = "default"
                    elif part.type == "namespace_import":
                        names[_text(part.children[-1])] = "*"
                    elif part.type == "named_imports":
                        for spec in (s for s in part.children if s.type == "import_specifier"):
                            name = _text(spec.child_by_field_name("name"))
                            alias = spec.child_by_field_name("alias")
                            names[_text(alias) if alias else name] = name
        elif node.type == "call_expression":
            function = node.child_by_field_name("function")
            arguments = node.child_by_field_name("arguments")
            if function is not None and function.type == "import" and arguments is not None:
                source = _string(arguments.named_children[0] if arguments.named_children else None)
                if source is not None:
                    module.imports.setdefault(source, {})["(dynamic)"] = "*"
        elif node.type == "export_statement":
            source = _string(node.child_by_field_name("source"))
            if source is not None:
                module.imports.setdefault(source, {})["(re-export)"] = "*"
            declaration = node.child_by_field_name("declaration")
            if declaration is not None:
                named = declaration.child_by_field_name("name")
                if named is not None:
                    module.exports.add(_text(named))
                for declarator in declaration.children:
                    if declarator.type == "variable_declarator":
                        module.exports.add(_text(declarator.child_by_field_name("name")))
            for clause in (c for c in node.children if c.type == "export_clause"):
                for spec in (s for s in clause.children if s.type == "export_specifier"):
                    alias = spec.child_by_field_name("alias")
                    module.exports.add(_text(alias or spec.child_by_field_name("name")))
    return module


def local(specifier: str) -> str | None:
    """The module a specifier names in the same folder ("./x.js"), else None."""
    if specifier.startswith("./") and "/" not in specifier[2:]:
        return specifier[2:]
    assert not specifier.startswith("../"), f"{specifier}: the console imports only its own folder"
    return None


def load(folder: Path) -> dict[str, Module]:
    return {path.name: parse(path) for path in sorted(folder.glob("*.js"))}


def graph(modules: dict[str, Module]) -> dict[str, list[str]]:
    return {
        name: sorted({t for s in module.imports if (t := local(s)) is not None})
        for name, module in modules.items()
    }


def find_cycles(edges: dict[str, list[str]]) -> list[list[str]]:
    """Every cycle a depth-first walk meets, each as a path that ends where it began."""
    cycles: list[list[str]] = []
    done: set[str] = set()
    path: list[str] = []

    def visit(name: str) -> None:
        if name in path:
            cycles.append([*path[path.index(name) :], name])
            return
        if name in done:
            return
        path.append(name)
        for target in edges.get(name, []):
            visit(target)
        path.pop()
        done.add(name)

    for name in sorted(edges):
        visit(name)
    return cycles


def state_writes(module: Module) -> list[str]:
    """Writes to the store's state in ``module``, as "file:line: code"."""
    store_imports = module.imports.get(f"./{STORE}", {})
    roots = {alias for alias, name in store_imports.items() if name == "state"}
    namespaces = {alias for alias, name in store_imports.items() if name == "*"}
    getters = {
        alias for alias, name in store_imports.items() if name not in {"state", "*", "dispatch"}
    } - {alias for alias, name in store_imports.items() if name == "subscribe"}

    def rooted(node: Node | None) -> bool:
        if node is None:
            return False
        if node.type == "identifier":
            return _text(node) in roots
        if node.type == "parenthesized_expression":
            return any(rooted(c) for c in node.named_children)
        if node.type in {"member_expression", "subscript_expression"}:
            target = node.child_by_field_name("object")
            if target is not None and target.type == "identifier" and _text(target) in namespaces:
                return _text(node.child_by_field_name("property")) == "state"
            return rooted(target)
        if node.type == "call_expression":
            function = node.child_by_field_name("function")
            if function is not None and function.type == "identifier":
                return _text(function) in getters
            if function is not None and function.type == "member_expression":
                return rooted(function.child_by_field_name("object"))
        return False

    def bound(pattern: Node) -> Iterator[str]:
        for node in _walk(pattern):
            if node.type in {"identifier", "shorthand_property_identifier_pattern"}:
                parent = node.parent
                is_key = parent is not None and parent.type == "pair_pattern"
                if is_key and parent.child_by_field_name("key") == node:  # type: ignore[union-attr]
                    continue
                yield _text(node)

    # Local names bound to a state value, until no more are found.
    while True:
        found = {
            name
            for node in _walk(module.tree)
            if node.type == "variable_declarator" and rooted(node.child_by_field_name("value"))
            for name in bound(node.child_by_field_name("name"))  # type: ignore[arg-type]
        } - roots
        if not found:
            break
        roots |= found

    writes: list[str] = []
    for node in _walk(module.tree):
        target: Node | None = None
        if node.type in {"assignment_expression", "augmented_assignment_expression"}:
            target = node.child_by_field_name("left")
        elif node.type == "update_expression" or (
            node.type == "unary_expression"
            and _text(node.child_by_field_name("operator")) == "delete"
        ):
            target = node.child_by_field_name("argument")
        elif node.type == "call_expression":
            function = node.child_by_field_name("function")
            if function is not None and function.type == "member_expression":
                owner = function.child_by_field_name("object")
                method = _text(function.child_by_field_name("property"))
                arguments = node.child_by_field_name("arguments")
                if method in MUTATORS:
                    target = owner
                elif (
                    owner is not None
                    and _text(owner) == "Object"
                    and method in OBJECT_WRITERS
                    and arguments is not None
                    and arguments.named_children
                ):
                    target = arguments.named_children[0]
        if target is not None and rooted(target):
            line = node.start_point[0] + 1
            writes.append(f"{module.name}:{line}: {_text(node).splitlines()[0]}")
    return writes


# -- the console ----------------------------------------------------------------------------

MODULES = load(CONSOLE)


def test_the_console_has_no_import_cycle() -> None:
    cycles = find_cycles(graph(MODULES))
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_every_module_has_a_layer_and_imports_only_below_it() -> None:
    assert set(MODULES) == set(LAYERS), (
        f"modules without a layer: {sorted(set(MODULES) - set(LAYERS))}; "
        f"layers without a module: {sorted(set(LAYERS) - set(MODULES))}"
    )
    upward = [
        f"{name} (layer {LAYERS[name]}) imports {target} (layer {LAYERS[target]})"
        for name, targets in graph(MODULES).items()
        for target in targets
        if LAYERS[target] >= LAYERS[name]
    ]
    assert not upward, "\n".join(upward)


def test_every_imported_name_is_exported() -> None:
    missing = [
        f"{name} imports {wanted} from {target}, which does not export it"
        for name, module in MODULES.items()
        for specifier, names in module.imports.items()
        if (target := local(specifier)) is not None
        for wanted in names.values()
        if wanted != "*" and wanted not in MODULES[target].exports
    ]
    assert not missing, "\n".join(missing)


def test_only_the_store_changes_the_state() -> None:
    assert "state" in MODULES[STORE].exports
    writes = [w for name, module in MODULES.items() if name != STORE for w in state_writes(module)]
    assert not writes, "the state changes outside the store:\n" + "\n".join(writes)


def test_only_the_effect_modules_call_the_api() -> None:
    callers = sorted(
        name
        for name, module in MODULES.items()
        if "api" in module.imports.get("/staff/assets/api.js", {}).values()
    )
    assert set(callers) <= EFFECTS, f"views that call the API themselves: {set(callers) - EFFECTS}"


# -- the checks see what they must ------------------------------------------------------------

CYCLE = {
    "a.js": 'import {\n  b,\n  c as see,\n} from "./b.js";\nexport const a = 1;\n',
    "b.js": 'export { c } from "./c.js";\nexport const b = 2;\n',
    "c.js": 'export async function c() {\n  return import("./a.js");\n}\n',
    "d.js": 'import { a } from "./a.js";\n',
}


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, "utf-8")
    return folder


def test_a_cycle_through_multi_line_re_exported_and_dynamic_imports_is_named(
    tmp_path: Path,
) -> None:
    modules = load(write(tmp_path, CYCLE))
    assert graph(modules) == {
        "a.js": ["b.js"],
        "b.js": ["c.js"],
        "c.js": ["a.js"],
        "d.js": ["a.js"],
    }
    assert find_cycles(graph(modules)) == [["a.js", "b.js", "c.js", "a.js"]]


def test_a_cycle_added_to_the_console_is_found(tmp_path: Path) -> None:
    copy = tmp_path / "console"
    shutil.copytree(CONSOLE, copy)
    store = copy / STORE
    store.write_text('import { updateTitle } from "./lists.js";\n' + store.read_text("utf-8"))
    cycles = find_cycles(graph(load(copy)))
    assert ["store.js", "lists.js", "store.js"] in cycles


WRITES = {
    "store.js": (
        "export let state = {};\nexport function conv() {}\nexport function dispatch() {}\n"
    ),
    "view.js": """import { conv, dispatch, state as s } from "./store.js";
import * as store from "./store.js";

s.selectedId = "1";
s.lists.mine[0] = null;
s.skewMs += 5;
s.skewMs++;
delete s.detail;
s.fresh.add("2");
s.convs.get("c").pending.set("x", 1);
store.state.unread.clear();
Object.assign(s.agent, { presence: "online" });
const record = conv(s, "c");
record.events.delete(3);
const { drafts } = s;
drafts.set("1", "hi");
// Reads, and writes to the view's own things, are fine:
const mine = new Map();
mine.set(s.selectedId, s.lists);
const copy = [...s.lists.mine];
copy.push(1);
dispatch({ type: "x" });
""",
}


def test_the_state_check_sees_every_kind_of_write(tmp_path: Path) -> None:
    modules = load(write(tmp_path, WRITES))
    lines = [int(w.split(":")[1]) for w in state_writes(modules["view.js"])]
    assert lines == [4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16]
    assert state_writes(modules["store.js"]) == []
