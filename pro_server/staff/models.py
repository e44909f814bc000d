"""Staff users and the sites they belong to."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Column, ForeignKey, String, Table, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from pro_server.crypto import EncryptedText
from pro_server.db import Base, CreatedAt, enum_type
from pro_server.studies.models import Site


class Role(enum.StrEnum):
    admin = "admin"
    coordinator = "coordinator"
    investigator = "investigator"
    monitor = "monitor"


staff_site = Table(
    "staff_site",
    Base.metadata,
    Column("staff_user_id", ForeignKey("staff_user.id"), primary_key=True),
    Column("site_id", ForeignKey("site.id"), primary_key=True),
)


class StaffUser(CreatedAt, Base):
    __tablename__ = "staff_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(enum_type(Role, name="role", length=20))
    active: Mapped[bool] = mapped_column(default=True)
    session_version: Mapped[int] = mapped_column(default=1)
    last_login_at: Mapped[datetime | None]
    # Set by an admin's reset, at creation or by `pro admin create`: only the password
    # change is allowed until then.
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    password_changed_at: Mapped[datetime | None]
    # Failed sign-ins (and signatures) in a row; at LOGIN_LOCKOUT_FAILURES the account locks
    # until an admin unlocks it.
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_at: Mapped[datetime | None]
    # TOTP second factor: the secret is encrypted like contact data; enabled once confirmed.
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText())
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)  # no code used twice

    sites: Mapped[list[Site]] = relationship(secondary=staff_site, order_by="Site.code")

    @property
    def site_ids(self) -> set[int]:
        return {site.id for site in self.sites}
