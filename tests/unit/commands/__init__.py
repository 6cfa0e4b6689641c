"""Tests of the command line's parsing: every bad value is one line and exit 2."""
