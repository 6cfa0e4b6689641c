"""Test-wide setup: offscreen Qt, and no user files or keyring touched by tests."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
