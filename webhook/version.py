"""The installed package's version, without importing the web stack."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def package_version() -> str:
    """The installed distribution's version."""
    try:
        return version("room-switchboard")
    except PackageNotFoundError:
        return "0+unknown"
