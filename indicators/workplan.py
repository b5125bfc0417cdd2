"""The joint work plan's vocabulary: an activity's quarterly progress status as people read it."""

from __future__ import annotations

ACTIVITY_STATUSES: dict[str, str] = {
    "not_started": "Not started",
    "on_track": "On track",
    "delayed": "Delayed",
    "completed": "Completed",
    "dropped": "Dropped",
}
