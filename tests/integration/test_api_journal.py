"""The journal in PostgreSQL and over HTTP: posted once per key, read by period, as JSON or CSV.

The journal is shared by every test of the session, so each test books its entries on a day of
its own, centuries from now and (almost surely) from the others'."""

import csv
import io
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from uuid import uuid4

import httpx
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from api.routes import accounting
from db.journal import lines_between, post
from db.models import JournalEntryRecord
from db.session import SessionFactory
from money.journal import Booking, Chart, Posting, card_capture, credit_hold, invoice
from security.roles import Role
from tests.harness.keys import bearer

pytestmark = pytest.mark.integration

CHART = Chart()
JOURNAL = "/v1/accounting/journal"
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
CSV_HEADER = (
    "entry_id,at,kind,description,currency,order_id,refund_id,document,account,debit,credit"
)


def quiet_day() -> datetime:
    """The midnight (UTC) of a day between the years 1000 and 1820 that no other test books on."""
    return datetime(1000, 1, 1, tzinfo=UTC) + DAY * (uuid4().int % 300_000)


def period(start: date, end: date) -> dict[str, str]:
    """The query of the period from `start` to `end`, as ISO 8601 dates or datetimes."""
    return {"from": start.isoformat(), "to": end.isoformat()}


def descriptions(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return [entry["description"] for entry in answer.json()["entries"]]


async def book(
    sessions: SessionFactory, booking: Booking, at: datetime, currency: str = "EUR", **facts: str
) -> None:
    async with sessions.begin() as session:
        key = f"test:{uuid4()}"
        assert await post(session, booking, currency=currency, key=key, at=at, **facts)


async def test_the_json_journal_groups_a_periods_lines_into_entries_with_totals(
    api: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    start = quiet_day()
    sale = invoice(CHART, "INV-2026-000001", [(Decimal("19"), 1000, 190)])
    await book(sessions, sale, start + HOUR, order_id="o-1", document="INV-2026-000001")
    await book(sessions, card_capture(CHART, "o-1", 1190), start + 2 * HOUR, order_id="o-1")

    answer = await api.get(JOURNAL, params=period(start, start + DAY))

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [datetime.fromisoformat(body[end]) for end in ("from", "to")] == [start, start + DAY]
    first, second = body["entries"]
    assert {key: value for key, value in first.items() if key not in ("id", "at")} == {
        "kind": "invoice",
        "description": "Invoice INV-2026-000001",
        "currency": "EUR",
        "order_id": "o-1",
        "refund_id": None,
        "document": "INV-2026-000001",
        "lines": [
            {"account": "1400", "debit": 1190, "credit": 0},
            {"account": "8400-19", "debit": 0, "credit": 1000},
            {"account": "1776-19", "debit": 0, "credit": 190},
        ],
    }
    assert datetime.fromisoformat(first["at"]) == start + HOUR
    assert (second["kind"], second["document"], second["id"] > first["id"]) == (
        "capture",
        None,
        True,
    )
    assert body["totals"] == [{"currency": "EUR", "debit": 2380, "credit": 2380}]


async def test_the_csv_journal_is_one_row_per_line_in_minor_units(
    api: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    start = quiet_day()
    await book(sessions, credit_hold(CHART, "o-2", 500), start, order_id="o-2")

    answer = await api.get(JOURNAL, params={**period(start, start + DAY), "format": "csv"})

    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/csv")
    header, *rows = list(csv.reader(io.StringIO(answer.text)))
    assert header == CSV_HEADER.split(",")
    facts = [start.isoformat(), "store_credit_held", "Store credit held for order o-2", "EUR"]
    assert [row[1:] for row in rows] == [
        [*facts, "o-2", "", "", "1701", "500", "0"],
        [*facts, "o-2", "", "", "1702", "0", "500"],
    ]
    assert rows[0][0] == rows[1][0]  # one entry


async def test_from_is_inclusive_and_to_exclusive(
    api: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    start = quiet_day()
    for n in range(3):
        await book(sessions, card_capture(CHART, f"o-{n}", 100 + n), start + n * HOUR)
    await book(sessions, card_capture(CHART, "o-next-day", 1), start + DAY)

    middle = await api.get(JOURNAL, params=period(start + HOUR, start + 2 * HOUR))
    day = await api.get(JOURNAL, params=period(start.date(), (start + DAY).date()))

    assert descriptions(middle) == ["Card capture for order o-1"]
    assert descriptions(day) == [f"Card capture for order o-{n}" for n in range(3)]


async def test_a_period_given_with_an_offset_is_read_in_utc(
    api: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    start = quiet_day()
    await book(sessions, card_capture(CHART, "o-tz", 7), start + HOUR)
    in_paris = (start + HOUR).astimezone(timezone(HOUR))

    answer = await api.get(JOURNAL, params=period(in_paris, in_paris + HOUR))

    assert in_paris.isoformat().endswith("T02:00:00+01:00")
    assert descriptions(answer) == ["Card capture for order o-tz"]


async def test_post_writes_an_entry_once_per_key(sessions: SessionFactory) -> None:
    key, at = f"test:{uuid4()}", quiet_day()
    first = card_capture(CHART, "o-1", 100)
    retried = card_capture(CHART, "o-1", 999)  # whatever a retry carries, the first post stands

    async with sessions.begin() as session:
        posted = await post(session, first, currency="EUR", key=key, at=at)
    async with sessions.begin() as session:
        again = await post(session, retried, currency="EUR", key=key, at=at)

    async with sessions() as session:
        count = select(func.count()).where(JournalEntryRecord.idempotency_key == key)
        assert (posted, again, await session.scalar(count)) == (True, False, 1)
        lines = await lines_between(session, at, at + DAY)
    assert [(row.debit, row.credit) for row in lines] == [(100, 0), (0, 100)]


@pytest.mark.parametrize(
    ("booking", "match"),
    [
        (
            Booking(
                kind="invoice",
                description="lopsided",
                postings=[Posting(account="1400", debit=5), Posting(account="8400-19", credit=4)],
            ),
            "does not balance",
        ),
        (card_capture(CHART, "o-1", 0), "no postings"),
    ],
    ids=["unbalanced", "empty"],
)
async def test_post_refuses_what_cannot_be_an_entry(
    sessions: SessionFactory, booking: Booking, match: str
) -> None:
    async with sessions() as session:
        with pytest.raises(ValueError, match=match):
            await post(session, booking, currency="EUR", key=f"test:{uuid4()}", at=quiet_day())


async def test_every_period_balances_in_each_currency(
    api: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    start = quiet_day()
    await book(sessions, invoice(CHART, "INV-X", [(Decimal("25.5"), 1000, 255)]), start)
    await book(sessions, card_capture(CHART, "o-sek", 300), start, currency="SEK")

    mine = (await api.get(JOURNAL, params=period(start, start + DAY))).json()
    everything = (await api.get(JOURNAL)).json()

    assert mine["totals"] == [
        {"currency": "EUR", "debit": 1255, "credit": 1255},
        {"currency": "SEK", "debit": 300, "credit": 300},
    ]
    assert (everything["from"], everything["to"]) == (None, None)
    assert all(total["debit"] == total["credit"] for total in everything["totals"])


@pytest.mark.parametrize(
    ("params", "loc"),
    [
        ({"from": "yesterday"}, ["query", "from"]),
        ({"to": "2026-13-01"}, ["query", "to"]),
        ({"from": "2026-02-01", "to": "2026-01-31T23:59:59Z"}, ["query", "from"]),
        ({"format": "xml"}, ["query", "format"]),
    ],
)
async def test_a_bad_period_or_format_answers_422_at_its_parameter(
    api: httpx.AsyncClient, params: dict[str, str], loc: list[str]
) -> None:
    answer = await api.get(JOURNAL, params=params)

    assert answer.status_code == 422
    assert [error["loc"] for error in answer.json()["detail"]] == [loc]


async def test_ops_may_read_the_journal_and_support_may_not(
    api: httpx.AsyncClient, role_keys: dict[Role, str]
) -> None:
    ops = await api.get(JOURNAL, headers=bearer(role_keys[Role.OPS]))
    support = await api.get(JOURNAL, headers=bearer(role_keys[Role.SUPPORT]))

    assert ops.status_code == 200
    assert (support.status_code, support.json()["scope"]) == (403, "accounting:read")


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE journal_lines SET debit = debit + 1 WHERE entry_id = :id",
        "DELETE FROM journal_lines WHERE entry_id = :id",
        "UPDATE journal_entries SET description = 'edited' WHERE id = :id",
    ],
)
async def test_the_journal_refuses_changes(sessions: SessionFactory, statement: str) -> None:
    at = quiet_day()
    await book(sessions, card_capture(CHART, "o-1", 100), at)
    async with sessions() as session:
        [row, _] = await lines_between(session, at, at + DAY)

    async with sessions() as session:  # closed unfinished: rolled back
        with pytest.raises(DBAPIError, match="append-only"):
            await session.execute(text(statement), {"id": row.entry_id})


async def test_a_period_of_more_lines_than_the_cap_is_refused_whole(
    api: httpx.AsyncClient, sessions: SessionFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = quiet_day()
    await book(sessions, card_capture(CHART, "o-big", 100), start)
    monkeypatch.setattr(accounting, "MAX_LINES", 1)  # one entry is two lines

    answer = await api.get(JOURNAL, params=period(start, start + DAY))

    assert answer.status_code == 422
    [error] = answer.json()["detail"]
    assert (error["loc"], error["type"]) == (["query", "from"], "period_too_long")
