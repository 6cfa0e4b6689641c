"""Finding widgets the way assistive technology does: by accessible name."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget


def by_name(root: QWidget, name: str, kind: type[QWidget] = QWidget) -> QWidget:
    """The one visible-or-not child of root whose accessibleName is name."""
    found = [w for w in root.findChildren(kind) if w.accessibleName() == name]
    if len(found) != 1:
        raise AssertionError(f"expected one {kind.__name__} named {name!r}, found {len(found)}")
    return found[0]
