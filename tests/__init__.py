"""Switchboard's tests: unit, gui, e2e, reliability, package; benchmarks in bench/."""
