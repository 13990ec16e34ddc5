"""The accounting journal: every line booked in a period, as JSON or as CSV for a bookkeeper."""

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum
from itertools import groupby
from typing import Annotated

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from api.auth import grants
from api.deps import SessionDep
from api.errors import field_error, invalid
from db.journal import JournalRow, lines_between
from security.roles import Scope

router = APIRouter(prefix="/v1/accounting", tags=["accounting"])

# A period's lines are answered in one piece (cut anywhere, it would no longer balance), so a
# period holding more than this is refused: ask for a shorter one.
MAX_LINES = 100_000
CSV_HEADER = [
    *("entry_id", "at", "kind", "description", "currency"),
    *("order_id", "refund_id", "document", "account", "debit", "credit"),
]
INSTANT = (
    "An ISO 8601 date or date and time (`2026-01-01`, `2026-01-01T12:00:00+01:00`); "
    "UTC unless it has an offset."
)


class JournalFormat(StrEnum):
    """What the journal is answered as."""

    JSON = "json"
    CSV = "csv"


class JournalLinePublic(BaseModel):
    """One side of one account: exactly one of debit and credit is non-zero (minor units)."""

    account: str
    debit: int
    credit: int


class JournalEntryPublic(BaseModel):
    """One balanced booking: its lines' debits equal their credits."""

    id: int
    at: datetime
    kind: str
    description: str
    currency: str
    order_id: str | None
    refund_id: str | None
    document: str | None
    lines: list[JournalLinePublic]


class JournalTotalPublic(BaseModel):
    """A period's sums in one currency: always equal, since every entry balances."""

    currency: str
    debit: int
    credit: int


class JournalPublic(BaseModel):
    """The entries booked from `from` (inclusive) to `to` (exclusive), oldest first."""

    start: datetime | None = Field(serialization_alias="from")
    end: datetime | None = Field(serialization_alias="to")
    entries: list[JournalEntryPublic]
    totals: list[JournalTotalPublic]


CSV_ANSWER = {
    "description": "The journal's entries, or with `format=csv` one CSV row per line",
    "content": {"text/csv": {"schema": {"type": "string"}}},
}


@router.get(
    "/journal",
    response_model=JournalPublic,
    responses={200: CSV_ANSWER},
    dependencies=[grants(Scope.ACCOUNTING_READ)],
)
async def get_journal(
    session: SessionDep,
    start: Annotated[str | None, Query(alias="from", max_length=64, description=INSTANT)] = None,
    end: Annotated[str | None, Query(alias="to", max_length=64, description=INSTANT)] = None,
    output: Annotated[JournalFormat, Query(alias="format")] = JournalFormat.JSON,
) -> JournalPublic | Response:
    """The journal of a period (`to` exclusive; either end open if left out), in minor units.

    A day's date means its midnight, so `from=2026-01-01&to=2026-02-01` is January. A period of
    more than 100,000 lines is refused (422): ask for shorter ones."""
    period = _instant(start, "from"), _instant(end, "to")
    if period[0] is not None and period[1] is not None and period[0] > period[1]:
        raise invalid([field_error(["query", "from"], "from is after to", "period", start)])
    rows = await lines_between(session, *period, limit=MAX_LINES + 1)
    if len(rows) > MAX_LINES:
        msg = f"the period holds more than {MAX_LINES} journal lines: ask for a shorter one"
        raise invalid([field_error(["query", "from"], msg, "period_too_long", start)])
    if output is JournalFormat.CSV:
        return _csv(rows)
    return to_journal_public(rows, *period)


def _instant(text: str | None, name: str) -> datetime | None:
    """The UTC instant a query parameter names; a 422 at its name if it names none."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except (ValueError, OverflowError):  # not ISO 8601; or out of range once made UTC
        msg = "expected an ISO 8601 date or date and time"
        raise invalid([field_error(["query", name], msg, "datetime_parsing", text)]) from None


def to_journal_public(
    rows: list[JournalRow], start: datetime | None, end: datetime | None
) -> JournalPublic:
    """Rows (ordered by entry) grouped into entries, with each currency's totals."""
    entries = [_entry(list(lines)) for _, lines in groupby(rows, key=lambda row: row.entry_id)]
    return JournalPublic(start=start, end=end, entries=entries, totals=_totals(rows))


def _entry(lines: list[JournalRow]) -> JournalEntryPublic:
    first = lines[0]
    return JournalEntryPublic(
        id=first.entry_id,
        at=first.at.astimezone(UTC),
        kind=first.kind,
        description=first.description,
        currency=first.currency,
        order_id=first.order_id,
        refund_id=first.refund_id,
        document=first.document,
        lines=[JournalLinePublic(account=r.account, debit=r.debit, credit=r.credit) for r in lines],
    )


def _totals(rows: Iterable[JournalRow]) -> list[JournalTotalPublic]:
    sums: defaultdict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        sums[row.currency][0] += row.debit
        sums[row.currency][1] += row.credit
    return [
        JournalTotalPublic(currency=currency, debit=debit, credit=credit)
        for currency, (debit, credit) in sorted(sums.items())
    ]


def _csv_row(row: JournalRow) -> tuple[object, ...]:
    """A line's cells in CSV_HEADER's order."""
    at = row.at.astimezone(UTC).isoformat()
    entry = (row.entry_id, at, row.kind, row.description, row.currency)
    return (*entry, row.order_id, row.refund_id, row.document, row.account, row.debit, row.credit)


def _csv(rows: Iterable[JournalRow]) -> Response:
    """One row per line, amounts in minor units; empty cells where an entry has no such fact."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_HEADER)
    writer.writerows(_csv_row(row) for row in rows)
    disposition = 'attachment; filename="journal.csv"'
    return Response(
        buffer.getvalue(), media_type="text/csv", headers={"Content-Disposition": disposition}
    )
