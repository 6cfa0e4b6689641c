"""Tests of the packaged app and the wheel: built, installed and run."""
