"""The Team panel's table: the operators online and what each is doing, this one marked "you"."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from console.models.record_table_model import Column, RecordTableModel

IDLE = "idle"


@dataclass(frozen=True)
class TeamMember:
    """An operator who is online, and what they are doing ("idle", "on a call with +44 …")."""

    name: str
    activity: str = IDLE


class PresenceModel(RecordTableModel[TeamMember]):
    """Operators online, by name; keyed by name, so an activity changes its row in place."""

    def __init__(self, parent=None) -> None:
        self.operator = ""  # this console's operator, shown as "(you)"
        columns = [
            Column[TeamMember]("Operator", self._name_text, chars=11),
            Column[TeamMember]("Doing", lambda m: m.activity, chars=24, stretch=1),
        ]
        super().__init__(columns, key=lambda m: m.name, parent=parent)

    def _name_text(self, member: TeamMember) -> str:
        return f"{member.name} (you)" if member.name == self.operator else member.name

    def set_operator(self, name: str) -> None:
        """Mark this console's operator."""
        self.operator = name
        self.set_records(self.records())

    def set_members(self, members: Iterable[TeamMember]) -> None:
        """Show exactly these operators (the server's list)."""
        self.set_records(sorted(members, key=lambda m: (m.name.casefold(), m.name)))

    def online(self, name: str) -> None:
        """An operator came online (idle until they say otherwise)."""
        if name and self.row_of(name) < 0:
            self.set_members([*self.records(), TeamMember(name)])

    def offline(self, name: str) -> bool:
        """An operator went offline; False when they were not listed."""
        if self.row_of(name) < 0:
            return False
        self.set_members([m for m in self.records() if m.name != name])
        return True

    def set_activity(self, name: str, activity: str) -> None:
        """What an operator is doing now (listing them if they were not)."""
        if not name:
            return
        row = self.row_of(name)
        member = self.record_at(row)
        if member is None:
            self.set_members([*self.records(), TeamMember(name, activity or IDLE)])
        elif member.activity != (activity or IDLE):
            self.put(replace(member, activity=activity or IDLE))

    def activity_of(self, name: str) -> str:
        """What an operator is doing, or '' when they are not online."""
        member = self.record_at(self.row_of(name))
        return member.activity if member is not None else ""

    def names(self) -> list[str]:
        """The operators online, in row order."""
        return [m.name for m in self.records()]
