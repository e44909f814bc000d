"""Every feature's models, so that Base.metadata knows all tables (Alembic, tests)."""

from pro_server.db import Base
from pro_server.features import import_all_models

import_all_models()

__all__ = ["Base"]
