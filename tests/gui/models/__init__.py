"""Tests of the Qt item models, checked with qtmodeltester."""
