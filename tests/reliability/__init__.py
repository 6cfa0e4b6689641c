"""Reliability: webhook fuzzing and load, REST faults, crash safety, secrets and binding."""
