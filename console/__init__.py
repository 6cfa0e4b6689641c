"""Switchboard's desktop console: the Qt window, settings, background work and command line."""
