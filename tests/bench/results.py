"""One benchmark figure beside its baseline, its goal, and whether the goal was met."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Figure:
    """A measured value, the baseline measured in the same run, and the goal it must meet."""

    name: str
    value: float
    unit: str
    baseline: float | None
    goal: str
    met: bool
    note: str = ""

    @property
    def ratio(self) -> float | None:
        """value / baseline, when there is a baseline."""
        if not self.baseline:
            return None
        return self.value / self.baseline

    def as_dict(self) -> dict:
        """For the JSON report."""
        return {**asdict(self), "ratio": self.ratio}


def table(figures: list[Figure]) -> str:
    """A plain-text table of the figures."""
    rows = [("benchmark", "value", "baseline", "ratio", "goal", "met")]
    for f in figures:
        ratio = f"{f.ratio:.2f}x" if f.ratio is not None else "-"
        base = f"{f.baseline:.4g} {f.unit}" if f.baseline is not None else "-"
        rows.append(
            (f.name, f"{f.value:.4g} {f.unit}", base, ratio, f.goal, "yes" if f.met else "NO")
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
