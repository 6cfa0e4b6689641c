"""Tests of the sandbox's parts: state, TwiML player, fault plans."""
