"""Calls and rooms as records: dial input and lists, the call history, reasons, room controls."""
