"""Tests of the team server, against a real PostgreSQL."""
