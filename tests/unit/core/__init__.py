"""Tests of the console core: gateway inputs, history, credentials, preferences, tunnel."""
