"""The words of TWG meetings shown to people: status labels (English msgids, said where they are shown)."""

from __future__ import annotations

from mel.i18n import N_
from mel.meetings.models import ACTION_STATUSES, MEETING_STATUSES
from reports.story import ACTION_STATUSES as ACTION_STATUS_WORDS

MEETING_STATUS_LABELS = {"planned": N_("Planned"), "held": N_("Held"), "cancelled": N_("Cancelled")}
# An action of a meeting has the statuses (and words) of a report's actions: one vocabulary.
ACTION_STATUS_LABELS = {code: ACTION_STATUS_WORDS[code] for code in ACTION_STATUSES}
OPEN_STATUSES = ("open", "in_progress")

assert tuple(MEETING_STATUS_LABELS) == MEETING_STATUSES
