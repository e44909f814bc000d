"""Study protocols as data, and the pure schedule, window, status and amendment computations.

No Flask, no database, no clock: every function takes the time it needs as an argument.
"""

from pro_server.protocol.amendment import (
    AmendmentDecision,
    AmendmentPlan,
    ExistingAssessment,
    plan_amendment,
)
from pro_server.protocol.definitions import (
    ProtocolDefinition,
    ProtocolDefinitionError,
    ProtocolRegistry,
    UnknownProtocolError,
    default_registry,
    load_protocols,
)
from pro_server.protocol.planner import (
    InfusionRecord,
    PlannedAssessment,
    ScheduledInfusion,
    find_day0,
    infusion_schedule,
    plan_assessments,
    planned_infusion_dates,
    project_calendar,
)
from pro_server.protocol.status import AssessmentStatus, derive_status, next_status_change

__all__ = [
    "AmendmentDecision",
    "AmendmentPlan",
    "AssessmentStatus",
    "ExistingAssessment",
    "InfusionRecord",
    "PlannedAssessment",
    "ProtocolDefinition",
    "ProtocolDefinitionError",
    "ProtocolRegistry",
    "ScheduledInfusion",
    "UnknownProtocolError",
    "default_registry",
    "derive_status",
    "find_day0",
    "infusion_schedule",
    "load_protocols",
    "next_status_change",
    "plan_amendment",
    "plan_assessments",
    "planned_infusion_dates",
    "project_calendar",
]
