"""Unit tests of the parts that need no window: console core, webhook and sandbox."""
