"""Shared helpers and fakes for the test suite."""
