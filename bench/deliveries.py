"""Phase 2b (`--subscribers N`): the pipeline's events POSTed to N webhook endpoints subscribed to
everything (a local receiver answering 204) and its customer e-mails sent to a local mail catcher.

The orders' figures (phase 2) then include what deliveries and mails take from the shared Temporal
server and worker; this phase adds when the last of them arrived after the last order completed,
and each one's lag from the event's write to the receiver's 2xx (or the mail server's 250)."""

import asyncio
import sys
import time
from dataclasses import dataclass

import httpx
import psycopg
from psycopg.rows import TupleRow

from bench.cpu import cpu_by_part, cpu_share
from bench.drive import GIVE_UP_S, POLL
from bench.progress import Bar
from bench.stack import BenchStack, LoggedProgram
from bench.stats import Summary, summarize
from devstack.network import LOOPBACK, free_port, wait_until_listening
from security.roles import Role

RECEIVER_PATH = "/hook"
# Everything the relay has not fanned out yet, and what it fanned out but is not done.
BACKLOG = """
SELECT
  (SELECT count(*) FROM events e JOIN relay_cursors c ON c.name = 'relay'
    WHERE (e.tx, e.id) > (c.tx, c.event_id)),
  (SELECT count(*) FROM webhook_deliveries),
  (SELECT count(*) FROM webhook_deliveries WHERE status = 'succeeded'),
  (SELECT count(*) FROM notifications),
  (SELECT count(*) FROM notifications WHERE status = 'sent'),
  (SELECT count(*) FROM webhook_attempts)
"""
DELIVERY_LAGS = """
SELECT extract(epoch FROM d.succeeded_at - e.occurred_at)::float
FROM webhook_deliveries d JOIN events e ON e.id = d.event_id WHERE d.status = 'succeeded'
"""
MAIL_LAGS = """
SELECT extract(epoch FROM n.sent_at - e.occurred_at)::float
FROM notifications n JOIN events e ON e.id = n.event_id WHERE n.status = 'sent'
"""


@dataclass(frozen=True, kw_only=True)
class Drain:
    """What the pipeline's events and mails became, and how late they arrived."""

    subscribers: int
    deliveries: int
    delivered: int
    attempts: int
    mails: int
    sent: int
    drained_s: float  # from the last order's completion to the last delivery or mail
    timed_out: bool
    delivery_lag: Summary  # event written → the receiver's 2xx recorded
    mail_lag: Summary  # event written → the mail server's 250 recorded
    cpu: dict[str, float]  # % of the machine meanwhile

    def to_json(self) -> dict[str, object]:
        return {
            **{
                k: getattr(self, k)
                for k in ("subscribers", "deliveries", "delivered", "attempts", "mails", "sent")
            },
            "drained_s": self.drained_s,
            "timed_out": self.timed_out,
            "delivery_lag": self.delivery_lag.to_json(),
            "mail_lag": self.mail_lag.to_json(),
            "cpu_percent_of_machine": self.cpu,
        }


def _module(*args: str) -> list[str]:
    return [sys.executable, "-m", *args]


def _listening(port: int) -> list[str]:
    return ["--host", LOOPBACK, "--port", str(port)]


def start_sinks(stack: BenchStack) -> list[LoggedProgram]:
    """The receiver and the mail catcher, listening; the OMS processes started afterwards send
    to them (so call this before the API and the workers start)."""
    receiver_port, mail_port = free_port(), free_port()
    receiver = stack.start_program(
        "receiver",
        _module("uvicorn", "bench.receiver:app", "--lifespan", "off", "--no-access-log")
        + _listening(receiver_port),
        "orders",
    )
    catcher = stack.start_program(
        "mail-catcher",
        _module("integration.mail.catcher", "--dir", str(stack.logs / "mail"))
        + _listening(mail_port),
        "orders",
    )
    for program, port in ((receiver, receiver_port), (catcher, mail_port)):
        wait_until_listening(program.name, program.process, port, 60.0)
    stack.receiver_url = f"http://{LOOPBACK}:{receiver_port}{RECEIVER_PATH}"
    stack.extra_env = {
        "OMS_SMTP_URL": f"smtp://{LOOPBACK}:{mail_port}",
        "OMS_WEBHOOK_ALLOW_PRIVATE": "true",  # the receiver is on loopback
    }
    return [receiver, catcher]


async def subscribe(http: httpx.AsyncClient, stack: BenchStack, count: int) -> None:
    """`count` endpoints subscribed to every event type, all at the receiver (as the admin)."""
    admin = {"Authorization": f"Bearer {await stack.api_key(Role.ADMIN)}"}
    for n in range(count):
        body = {"url": stack.receiver_url, "events": ["*"], "description": f"bench {n}"}
        answer = await http.post("/v1/webhook-endpoints", json=body, headers=admin)
        answer.raise_for_status()


async def _backlog(conn: psycopg.AsyncConnection[TupleRow]) -> tuple[int, ...]:
    cursor = await conn.execute(BACKLOG)
    row = await cursor.fetchone()
    assert row is not None
    return tuple(int(n) for n in row)


async def _lags(conn: psycopg.AsyncConnection[TupleRow], query: str) -> Summary:
    cursor = await conn.execute(query)
    return summarize([float(seconds) for (seconds,) in await cursor.fetchall()])


async def measure_drain(dsn: str, subscribers: int) -> Drain:
    """Wait (bounded) until every event is fanned out and every delivery and mail is done."""
    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        cpu_before, began = cpu_by_part(), time.perf_counter()
        unfanned, deliveries, delivered, mails, sent, attempts = await _backlog(conn)
        with Bar("deliveries and mails: done", deliveries + mails, "msg") as bar:
            while unfanned or delivered < deliveries or sent < mails:
                if time.perf_counter() - began > GIVE_UP_S + 0.1 * deliveries:
                    break
                await asyncio.sleep(POLL)
                unfanned, deliveries, delivered, mails, sent, attempts = await _backlog(conn)
                bar.show(delivered + sent, of=deliveries + mails)
        elapsed = time.perf_counter() - began
        return Drain(
            subscribers=subscribers,
            deliveries=deliveries,
            delivered=delivered,
            attempts=attempts,
            mails=mails,
            sent=sent,
            drained_s=elapsed,
            timed_out=bool(unfanned) or delivered < deliveries or sent < mails,
            delivery_lag=await _lags(conn, DELIVERY_LAGS),
            mail_lag=await _lags(conn, MAIL_LAGS),
            cpu=cpu_share(cpu_before, cpu_by_part(), elapsed),
        )
