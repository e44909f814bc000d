"""Who may see and do what: the one place access is decided. Every route asks here.

Scope rules: coordinators and investigators act on participants of their own sites;
monitors read every site of the study and change nothing; admins manage studies, sites
and users and do not handle participant data. A participant the caller may not see gets
the same 404 as one that does not exist. The audit trail is read by monitors,
investigators and admins, each within the same sight (audit_sight).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from pro_server.errors import Forbidden, NotFound
from pro_server.staff.models import Role, StaffUser


class Capability(enum.StrEnum):
    read_participants = "read_participants"
    write_participants = "write_participants"
    approve_changes = "approve_changes"
    administer = "administer"
    export_data = "export_data"
    read_audit = "read_audit"


_ROLE_CAPABILITIES: dict[Role, frozenset[Capability]] = {
    Role.admin: frozenset({Capability.administer, Capability.read_audit}),
    Role.coordinator: frozenset({Capability.read_participants, Capability.write_participants}),
    Role.investigator: frozenset(
        {Capability.read_participants, Capability.write_participants, Capability.approve_changes,
         Capability.read_audit}
    ),
    Role.monitor: frozenset(
        {Capability.read_participants, Capability.export_data, Capability.read_audit}
    ),
}

def has(user: StaffUser, capability: Capability) -> bool:
    return capability in _ROLE_CAPABILITIES[user.role]


def require(user: StaffUser, capability: Capability) -> None:
    if not has(user, capability):
        raise Forbidden(f"Role {user.role.value} may not {capability.value.replace('_', ' ')}")


def readable_site_ids(user: StaffUser) -> set[int]:
    """Sites whose participants the user may read.

    A monitor reads every site of each study they are attached to (through any site).
    """
    require(user, Capability.read_participants)
    if user.role is Role.monitor:
        return {site.id for member_site in user.sites for site in member_site.study.sites}
    return user.site_ids


def can_read_site(user: StaffUser, site_id: int) -> bool:
    return has(user, Capability.read_participants) and site_id in readable_site_ids(user)


def can_write_site(user: StaffUser, site_id: int) -> bool:
    return has(user, Capability.write_participants) and site_id in user.site_ids


def check_site(
    user: StaffUser, site_id: int, *, write: bool = False, what: str = "Participant"
) -> None:
    """404 when the site's data is out of the user's sight; 403 when it is visible but read-only."""
    if not can_read_site(user, site_id):
        raise NotFound(f"{what} not found")
    if write and not can_write_site(user, site_id):
        raise Forbidden(f"Role {user.role.value} has read-only access")


def check_approver(user: StaffUser, site_id: int) -> None:
    check_site(user, site_id, what="Change request")
    if not (has(user, Capability.approve_changes) and site_id in user.site_ids):
        raise Forbidden("Only an investigator of this site may approve or reject changes")


@dataclass(frozen=True)
class AuditSight:
    """Which audit events a user may read, by what the event is about.

    participant_sites: events with a site (participants, their surveys, visits, messages).
    studies: study-level events (a study, no site); None means every study.
    staff_of_sites: events about staff accounts (no study, no site: sign-ins, passwords),
    of staff members of these sites; None means every account and system event.
    """

    participant_sites: frozenset[int]
    studies: frozenset[int] | None
    staff_of_sites: frozenset[int] | None


def audit_sight(user: StaffUser) -> AuditSight:
    """Monitors: their studies, every site. Investigators: their own sites' participants and
    their own sites' staff, no other site's events. Admins: studies, sites, accounts and the
    system, never participant data (as everywhere else)."""
    require(user, Capability.read_audit)
    if user.role is Role.admin:
        return AuditSight(frozenset(), None, None)
    sites = frozenset(readable_site_ids(user))
    studies = frozenset(s.study_id for s in user.sites) if user.role is Role.monitor else (
        frozenset())
    return AuditSight(sites, studies, sites)
