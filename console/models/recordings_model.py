"""The recordings table of a room: each recorded track, its kind, duration, size and status."""

from __future__ import annotations

from console.core.calls.records import Recording
from console.models.record_table_model import Column, RecordTableModel


def format_size(size: int) -> str:
    """Bytes as an operator reads them: 900 B, 12.3 KB, 4.5 MB."""
    if size < 1000:
        return f"{size} B"
    for unit in ("KB", "MB", "GB"):
        size /= 1000
        if size < 1000 or unit == "GB":
            return f"{size:.1f} {unit}"
    return ""  # not reached


def format_duration(seconds: int) -> str:
    """A recording's length: 45s, 3m 12s, 1h 05m."""
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {seconds % 3600 // 60:02d}m"


def _track(recording: Recording) -> str:
    return (
        f"{recording.identity} ({recording.track_name})"
        if recording.identity
        else (recording.track_name)
    )


def _status(recording: Recording) -> str:
    return "recording" if recording.recording else recording.status


def _duration(recording: Recording) -> str:
    return "…" if recording.recording else format_duration(recording.duration)


def _size(recording: Recording) -> str:
    return "…" if recording.recording else format_size(recording.size)


class RecordingsModel(RecordTableModel[Recording]):
    """A room's recordings, oldest first, keyed by SID."""

    def __init__(self, parent=None) -> None:
        columns = [
            Column[Recording]("Track", _track, chars=24, stretch=1),
            Column[Recording]("Kind", lambda r: r.kind, chars=6),
            Column[Recording]("Duration", _duration, chars=8),
            Column[Recording]("Size", _size, chars=9),
            Column[Recording]("Status", _status, chars=10),
        ]
        super().__init__(columns, key=lambda r: r.sid, parent=parent)
