"""What can be labeled: each task, the kind of thing it is about, and the values it accepts."""

from __future__ import annotations

from dataclasses import dataclass

from models.detection import CAUSES

YES = ("yes", "y", "true", "1", "confirmed", "confirm")
NO = ("no", "n", "false", "0", "rejected", "reject")


@dataclass(frozen=True)
class Task:
    name: str
    target_types: tuple[str, ...]
    values: tuple[str, ...] | None  # None: yes/no

    @property
    def binary(self) -> bool:
        return self.values is None

    def normalise(self, raw: str) -> str | None:
        """The stored value for what an analyst typed, or None when it is not valid."""
        v = raw.strip().lower()
        if self.binary:
            if v in YES:
                return "yes"
            if v in NO:
                return "no"
            return None
        return v if v in (self.values or ()) else None

    def allowed(self) -> str:
        return "yes/no" if self.binary else ", ".join(self.values or ())


TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        Task("malicious", ("review",), None),
        Task("deceptive", ("review",), None),
        Task("cause", ("review",), CAUSES),
        Task("professional", ("reviewer",), None),
        Task("attack", ("shop", "listing"), None),
        Task("image_mismatch", ("listing",), None),
    )
}
# Flags are labeled under the task they make a claim about.
FLAG_KIND_TASK = {
    "malicious": "malicious",
    "deceptive": "deceptive",
    "cause": "cause",
    "professional": "professional",
    "watchlist": "professional",
    "attack": "attack",
    "image_mismatch": "image_mismatch",
}
REVIEW_TASKS = tuple(name for name, t in TASKS.items() if t.target_types == ("review",))


def get_task(name: str) -> Task:
    try:
        return TASKS[name]
    except KeyError:
        raise KeyError(f"unknown task {name!r} (one of: {', '.join(TASKS)})") from None
