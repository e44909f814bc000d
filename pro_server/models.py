"""Imports every feature's models so that Base.metadata knows all tables (Alembic, tests)."""

from pro_server.audit.models import AuditEvent
from pro_server.db import Base
from pro_server.participants.models import Participant
from pro_server.staff.models import StaffUser
from pro_server.studies.models import Site, Study

__all__ = ["AuditEvent", "Base", "Participant", "Site", "StaffUser", "Study"]
