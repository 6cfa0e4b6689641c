"""Subscribe and Recording Rules: Twilio's checks on them, and the tracks a set of rules selects.

Twilio reads a list of rules in order, starting from no tracks: an include rule adds the tracks
its filters match, an exclude rule takes them away. Filters in one rule combine with AND.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sandbox.errors import TwilioApiError
from sandbox.models import Track

MAX_RULES = 20
RULE_TYPES = ("include", "exclude")
PRIORITIES = ("low", "standard", "high")


@dataclass(frozen=True)
class RuleSpec:
    """What one kind of rules accepts, and the error Twilio answers for anything else."""

    code: int
    message: str
    filters: tuple[str, ...]
    kinds: tuple[str, ...]


SUBSCRIBE = RuleSpec(
    53215,
    "Invalid Subscribe Rule(s)",
    ("all", "publisher", "track", "kind", "priority"),
    ("audio", "video", "data"),
)
RECORDING = RuleSpec(
    53120, "Invalid Recording Rule(s)", ("all", "publisher", "track", "kind"), ("audio", "video")
)
DEFAULT_SUBSCRIBE_RULES: tuple[dict, ...] = ({"type": "include", "all": True},)


class _DuplicateFilter(ValueError):
    """A rule names the same filter twice."""


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    names = [name for name, _ in pairs]
    if len(names) != len(set(names)):
        raise _DuplicateFilter(names)
    return dict(pairs)


def parse_rules(raw: str | None, spec: RuleSpec) -> list[dict]:
    """The rules in a Rules parameter (a JSON array, or an object holding one under "rules").

    Raises TwilioApiError(400, spec.code) for anything Twilio refuses; nothing is changed then.
    """
    refused = TwilioApiError(400, spec.code, spec.message)
    if raw is None or not raw.strip():
        raise refused
    try:
        data = json.loads(raw, object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError):
        raise refused from None
    if isinstance(data, dict) and set(data) == {"rules"}:
        data = data["rules"]
    if not isinstance(data, list) or not 1 <= len(data) <= MAX_RULES:
        raise refused
    return [_rule(item, spec, refused) for item in data]


def _rule(item: object, spec: RuleSpec, refused: TwilioApiError) -> dict:
    if not isinstance(item, dict) or item.get("type") not in RULE_TYPES:
        raise refused
    filters = {name: value for name, value in item.items() if name != "type"}
    if not filters or any(name not in spec.filters for name in filters):
        raise refused
    if "all" in filters:
        if len(filters) > 1 or filters["all"] not in (True, "true"):
            raise refused
        return {"type": item["type"], "all": True}
    if any(not isinstance(value, str) or not value for value in filters.values()):
        raise refused
    if "kind" in filters and filters["kind"] not in spec.kinds:
        raise refused
    if "priority" in filters and filters["priority"] not in PRIORITIES:
        raise refused
    return {"type": item["type"], **filters}


def _matches(rule: dict, track: Track) -> bool:
    if rule.get("all"):
        return True
    checks = {
        "publisher": (track.publisher_identity, track.publisher_sid),
        "track": (track.name, track.sid),
        "kind": (track.kind,),
        "priority": (track.priority,),
    }
    return all(rule[name] in checks[name] for name in checks if name in rule)


def selected(rules: Sequence[dict], tracks: Iterable[Track]) -> list[Track]:
    """The tracks a list of rules selects, in the order of `tracks`."""
    tracks = list(tracks)
    chosen: set[str] = set()
    for rule in rules:
        matched = {t.sid for t in tracks if _matches(rule, t)}
        chosen = chosen | matched if rule["type"] == "include" else chosen - matched
    return [t for t in tracks if t.sid in chosen]


def subscribed(
    rules: Sequence[dict] | None, tracks: Iterable[Track], subscriber: str
) -> list[Track]:
    """The tracks a participant (by SID) receives: never its own (Twilio's filters skip them)."""
    others = [t for t in tracks if t.publisher_sid != subscriber]
    return selected(DEFAULT_SUBSCRIBE_RULES if rules is None else rules, others)


def shown(rule: dict, spec: RuleSpec) -> dict:
    """A rule as Twilio's JSON shows it: every filter of its kind, null when unused."""
    return {"type": rule["type"], **{name: rule.get(name) for name in spec.filters}}
