"""Tests of the console's dialogs, driving real widgets."""
