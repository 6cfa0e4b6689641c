"""The package layers hold: no import circles, and no layer imports one above it."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.helpers.import_graph import PACKAGES, broken_rules, cycles, imports, module_names

ROOT = Path(__file__).resolve().parents[2]


def test_the_project_has_no_import_circles() -> None:
    assert cycles(imports(ROOT)) == []


def test_no_import_breaks_a_layering_rule() -> None:
    assert broken_rules(imports(ROOT)) == []


def test_every_package_says_what_lives_in_it() -> None:
    for name, path in module_names(ROOT).items():
        if path.name == "__init__.py":
            text = path.read_text(encoding="utf-8").lstrip()
            assert text.startswith('"""'), f"{name} has no docstring"


def _copy(tmp_path: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(
            ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    return tmp_path


def _append(path: Path, line: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + line + "\n", encoding="utf-8")


def test_a_core_module_importing_a_widget_module_is_caught(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _append(
        root / "console/core/calls/records.py",
        "from console.ui.window.main_window import MainWindow",
    )
    problems = broken_rules(imports(root))
    assert len(problems) == 1
    assert "console.core.calls.records -> console.ui.window.main_window" in problems[0]
    assert "no widgets" in problems[0]


def test_an_import_hidden_in_a_function_still_makes_a_circle(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    path = root / "console/core/calls/records.py"
    _append(path, "\n\ndef _late():\n    from console.core.calls import history_store  # noqa\n")
    circle = ["console.core.calls.history_store", "console.core.calls.records"]
    assert circle in cycles(imports(root))


def test_an_import_under_type_checking_still_counts(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _append(
        root / "console/models/rooms_model.py",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from console.ui import dial_pad",
    )
    problems = broken_rules(imports(root))
    assert any("console.models.rooms_model -> console.ui.dial_pad" in p for p in problems)


def test_relative_imports_are_resolved(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _append(root / "webhook/health.py", "from ..console.core.calls import records")
    _append(root / "sandbox/ids.py", "from . import core")
    found = imports(root)
    assert any(i.importer == "sandbox.ids" and i.imported == "sandbox.core" for i in found)
    assert any(
        i.importer == "webhook.health" and i.imported == "console.core.calls.records" for i in found
    )


def test_qt_widgets_in_the_core_are_caught(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    _append(root / "console/core/calls/history.py", "from PySide6.QtWidgets import QWidget")
    problems = broken_rules(imports(root))
    assert any("console.core.calls.history -> PySide6.QtWidgets" in p for p in problems)


def test_the_server_takes_only_the_core_from_the_console() -> None:
    above_core = [
        f"{i.path}:{i.line}: {i.importer} -> {i.imported}"
        for i in imports(ROOT)
        if i.importer.split(".")[0] == "server"
        and i.imported.split(".")[0] == "console"
        and not (i.imported + ".").startswith("console.core.")
    ]
    assert above_core == []
