"""The project's import graph read with ast, and the layering rules it must keep."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

PACKAGES = ("console", "webhook", "sandbox", "server")

# (importer prefix, imported prefix, why): an importer under the first may not import the second.
FORBIDDEN = (
    ("console.core", "console.ui", "the core has no widgets"),
    ("console.core", "console.models", "the core has no Qt models"),
    ("console.core", "console.commands", "the core is what commands use, not the reverse"),
    ("console.models", "console.ui", "models never reach into widgets"),
    ("console.models", "console.commands", "models never reach into commands"),
    ("console.ui", "console.commands", "widgets never reach into commands"),
    ("webhook", "console", "the webhook runs headless, without the console"),
    ("sandbox", "console", "the sandbox runs headless, without the console"),
    ("webhook", "sandbox", "the webhook and the sandbox talk only over HTTP"),
    ("sandbox", "webhook", "the webhook and the sandbox talk only over HTTP"),
    ("server", "console.ui", "the team server runs headless, on the console's core only"),
    ("server", "console.models", "the team server runs headless, on the console's core only"),
    ("server", "console.commands", "commands start the server, not the reverse"),
    ("server", "sandbox", "the server reaches Twilio, or the sandbox, only over HTTP"),
    ("console.core", "server", "the server is built on the core, not the reverse"),
    ("webhook", "server", "the server is built on the webhook, not the reverse"),
    ("sandbox", "server", "the sandbox and the server talk only over HTTP"),
)
# Third-party modules a layer may not import at all.
FORBIDDEN_EXTERNAL = (
    ("console.core", "PySide6.QtWidgets", "the core runs without a display"),
    ("console.core", "PySide6.QtGui", "the core runs without a display"),
    ("console.models", "PySide6.QtWidgets", "models hold data, not widgets"),
    ("server", "PySide6.QtWidgets", "the team server runs without a display"),
    ("server", "PySide6.QtGui", "the team server runs without a display"),
)


@dataclass(frozen=True)
class Import:
    """One import statement: who imports what, and where."""

    importer: str
    imported: str
    path: Path
    line: int


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def module_names(root: Path) -> dict[str, Path]:
    """Every module of the project's packages under root, by dotted name."""
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _targets(module: str, is_package: bool, node: ast.AST) -> Iterable[str]:
    """The dotted names an import statement brings in, relative ones resolved."""
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
    elif isinstance(node, ast.ImportFrom):
        if node.level:
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[: len(base) - node.level + 1]
            prefix = ".".join([*base, node.module] if node.module else base)
        else:
            prefix = node.module or ""
        for alias in node.names:
            yield f"{prefix}.{alias.name}"
        yield prefix


def imports(root: Path) -> list[Import]:
    """Every import in the project, at module level, in functions and under TYPE_CHECKING."""
    modules = module_names(root)
    found: list[Import] = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            seen: set[str] = set()
            for name in _targets(module, path.name == "__init__.py", node):
                target = _resolve(name, modules)
                if target != module and target not in seen:
                    seen.add(target)
                    found.append(Import(module, target, path, node.lineno))
    return _drop_covered_prefixes(found, modules)


def _resolve(name: str, modules: dict[str, Path]) -> str:
    """The project module a dotted name lives in, or the name itself for third-party code."""
    probe = name
    while probe:
        if probe in modules:
            return probe
        probe = probe.rpartition(".")[0]
    return name


def _drop_covered_prefixes(found: list[Import], modules: dict[str, Path]) -> list[Import]:
    """`from a.b import c` names both a.b and a.b.c; keep a.b only when nothing under it came."""
    by_statement: dict[tuple[str, int], set[str]] = {}
    for item in found:
        by_statement.setdefault((item.importer, item.line), set()).add(item.imported)
    kept = []
    for item in found:
        siblings = by_statement[(item.importer, item.line)]
        covered = any(s != item.imported and s.startswith(item.imported + ".") for s in siblings)
        if not (covered and item.imported in modules):
            kept.append(item)
    return kept


def cycles(found: list[Import]) -> list[list[str]]:
    """Groups of project modules that import each other, directly or through others."""
    graph: dict[str, set[str]] = {}
    for item in found:
        graph.setdefault(item.importer, set())
        if item.imported.split(".")[0] in PACKAGES:
            graph[item.importer].add(item.imported)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def broken_rules(found: list[Import]) -> list[str]:
    """Each import that breaks a layering rule, as 'path:line: importer -> imported (why)'."""
    problems = []
    for item in found:
        for importer, imported, why in FORBIDDEN + FORBIDDEN_EXTERNAL:
            if _under(item.importer, importer) and _under(item.imported, imported):
                problems.append(
                    f"{item.path}:{item.line}: {item.importer} -> {item.imported} ({why})"
                )
    return problems
