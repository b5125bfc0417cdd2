"""Imports every model so the metadata is complete (Alembic, tests, create_all)."""

from mel.accounts.models import ApiToken, LoginSession, User  # noqa: F401
from mel.catalogue.models import (  # noqa: F401
    CategoryOption,
    DisaggregationCategory,
    DisaggregationSet,
    DisaggregationSetCategory,
    Indicator,
    OptionCombo,
    OrgUnit,
    Pillar,
    Programme,
    ReportingForm,
    ReportingFormIndicator,
    ReportingFormOrgUnit,
    ResultsNode,
    ValidationRule,
)
from mel.db import Base
from mel.guidelines.models import HandbookEdition, HandbookFile, HandbookRun  # noqa: F401
from mel.jobs import ImportJob  # noqa: F401
from mel.learning.models import EvidenceFile, EvidenceItem, LearningQuestion  # noqa: F401
from mel.meetings.models import Attendee, Decision, Meeting, MeetingAction  # noqa: F401
from mel.plans.models import (  # noqa: F401
    Activity,
    ActivityUpdate,
    ActivityUpdateChange,
    Pmp,
    PmpLine,
    PmpVersion,
    Target,
    WorkPlan,
)
from mel.reporting.actions import ReportAction  # noqa: F401
from mel.reporting.models import ReportRun  # noqa: F401
from mel.returns.models import (  # noqa: F401
    DataValue,
    FigureSpan,
    FigureStale,
    ImportBatch,
    NarrativeChange,
    Return,
    ReturnEvent,
    ValueChange,
    ValueFlag,
)
from mel.review.models import Notification, QueryMessage, ValueQuery  # noqa: F401
from mel.scheduler.models import JobRun, SchedulerLease, apscheduler_jobs  # noqa: F401

metadata = Base.metadata
