"""The reliability suite drives the same window session as the GUI tests."""

from tests.gui.conftest import session  # noqa: F401 - a fixture, shared with tests/gui
