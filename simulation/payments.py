"""A payment gateway simulated in PostgreSQL.

`tok_declined` is declined; `tok_limit_<amount>` authorizes up to `<amount>` minor units (so an
order changed to a larger total is declined); `tok_refund_declined` authorizes and captures, but
refuses every refund (a closed card); other tokens authorize anything.
"""

from uuid import uuid4

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from activities.payments import PaymentDeclined
from db.models import SimPaymentRecord
from db.session import SessionFactory
from simulation.world import SimulationConfig

DECLINED_TOKEN = "tok_declined"
LIMIT_PREFIX = "tok_limit_"
REFUND_DECLINED_TOKEN = "tok_refund_declined"


class SimulatedPaymentGateway:
    """Each operation is one row keyed by its idempotency key: a retry finds the first answer."""

    def __init__(self, sessions: SessionFactory, config: SimulationConfig) -> None:
        self._sessions, self._config = sessions, config

    async def authorize(
        self, order_id: str, token: str, amount: int, currency: str, key: str
    ) -> str:
        await self._config.call("authorize")
        _check_limit(token, amount)
        return await self._record(key, order_id, "authorize", amount, currency, token)

    async def adjust(self, order_id: str, token: str, amount: int, currency: str, key: str) -> str:
        await self._config.call("adjust")
        if await self._find(f"{order_id}:authorize") is None:
            raise RuntimeError(f"no authorization to adjust for order {order_id}")
        _check_limit(token, amount)
        return await self._record(key, order_id, "adjust", amount, currency)

    async def capture(self, order_id: str, amount: int, currency: str, key: str) -> str:
        await self._config.call("capture")
        if await self._find(f"{order_id}:authorize") is None:
            raise RuntimeError(f"no authorization to capture for order {order_id}")
        return await self._record(key, order_id, "capture", amount, currency)

    async def void(self, order_id: str, key: str) -> int:
        await self._config.call("void")
        authorization = await self._find(f"{order_id}:authorize")
        if authorization is None:
            return 0
        await self._record(key, order_id, "void", authorization.amount, authorization.currency)
        return authorization.amount

    async def refund(self, order_id: str, amount: int, currency: str, key: str) -> str:
        await self._config.call("refund")
        authorization = await self._find(f"{order_id}:authorize")
        if await self._find(f"{order_id}:capture") is None or authorization is None:
            raise RuntimeError(f"no capture to refund for order {order_id}")
        if authorization.token == REFUND_DECLINED_TOKEN:
            raise PaymentDeclined("refund refused: the card's account is closed")
        return await self._record(key, order_id, "refund", amount, currency)

    async def _record(
        self,
        key: str,
        order_id: str,
        kind: str,
        amount: int,
        currency: str,
        token: str | None = None,
    ) -> str:
        async with self._sessions.begin() as session:
            await session.execute(
                insert(SimPaymentRecord)
                .values(
                    idempotency_key=key,
                    payment_id=str(uuid4()),
                    order_id=order_id,
                    kind=kind,
                    amount=amount,
                    currency=currency,
                    token=token,
                )
                .on_conflict_do_nothing()
            )
            record = await session.get_one(SimPaymentRecord, key)
        return record.payment_id

    async def _find(self, key: str) -> SimPaymentRecord | None:
        async with self._sessions() as session:
            found: SimPaymentRecord | None = await session.scalar(
                select(SimPaymentRecord).where(SimPaymentRecord.idempotency_key == key)
            )
            return found


def _check_limit(token: str, amount: int) -> None:
    if token == DECLINED_TOKEN:
        raise PaymentDeclined("card declined")
    limit = token.removeprefix(LIMIT_PREFIX)
    if token.startswith(LIMIT_PREFIX) and limit.isdigit() and amount > int(limit):
        raise PaymentDeclined(f"card declined: {amount} is above its limit of {limit}")
