"""Parses TwiML answers so tests can check their structure, not their text."""

from __future__ import annotations

import xml.etree.ElementTree as ET


def parse_twiml(document: str | bytes) -> ET.Element:
    """Parse a TwiML document and check that its root is <Response>."""
    root = ET.fromstring(document)
    assert root.tag == "Response", f"root is {root.tag}"
    return root


def verbs(root: ET.Element) -> list[str]:
    """The top-level verbs of a TwiML document, in order."""
    return [child.tag for child in root]


def room_of(root: ET.Element) -> ET.Element:
    """The single <Room> inside the single <Connect>."""
    connects = root.findall("Connect")
    assert len(connects) == 1
    rooms = connects[0].findall("Room")
    assert len(rooms) == 1
    assert len(list(rooms[0])) == 0, "Room must hold only text"
    return rooms[0]
