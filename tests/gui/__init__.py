"""Tests of the console window and its Qt glue under pytest-qt, offscreen."""
