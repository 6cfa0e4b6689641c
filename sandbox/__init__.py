"""An offline stand-in for the part of Twilio's REST API Switchboard uses, and it plays calls."""

from sandbox.clock import Clock
from sandbox.core import Sandbox
from sandbox.server import SandboxServer

__all__ = ["Clock", "Sandbox", "SandboxServer"]
