"""The declarative base every row derives from, and the one timestamp type (UTC-aware)."""

from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.orm import DeclarativeBase

Timestamp = DateTime(timezone=True)


class Base(DeclarativeBase):
    def column_values(self) -> dict[str, Any]:
        """The columns set on this new row, for an `INSERT ... ON CONFLICT` of its values."""
        given = vars(self)
        return {c.key: given[c.key] for c in self.__table__.columns if c.key in given}
