"""The import boundaries ARCHITECTURE.md promises, checked on every module's source."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIRST_PARTY = {
    "core",
    "knowledge_base",
    "bot",
    "handoff",
    "channels",
    "analytics",
    "web_widget",
    "kefu",
}

# package -> the first-party packages it may import (besides itself)
ALLOWED: dict[str, set[str]] = {
    "core": set(),
    "knowledge_base": {"core"},
    "bot": {"core", "knowledge_base"},
    "handoff": {"core", "knowledge_base", "bot"},
    "channels": {"core", "knowledge_base", "bot", "handoff"},
    "analytics": {"core", "knowledge_base", "bot", "handoff"},
    "web_widget": set(),
    "kefu": FIRST_PARTY,
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & FIRST_PARTY


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_it_may(package: str) -> None:
    offenders = []
    for path in sorted((ROOT / package).rglob("*.py")):
        forbidden = _imports(path) - ALLOWED[package] - {package}
        if forbidden:
            offenders.append(f"{path.relative_to(ROOT)} imports {sorted(forbidden)}")
    assert not offenders, "\n".join(offenders)


def test_the_checker_sees_imports() -> None:
    # Guards the guard: a boundary test that parses nothing would pass forever.
    assert "core" in _imports(ROOT / "knowledge_base" / "service.py")
    assert "knowledge_base" in _imports(ROOT / "kefu" / "services.py")
