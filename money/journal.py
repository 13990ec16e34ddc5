"""The journal's bookings: which accounts each money event debits and credits, in minor units.

Pure: a builder turns one event (an invoice, a capture, a hold of store credit…) into a
`Booking` whose postings balance; db/journal.py writes it. The accounts are roles (`Account`)
that a `Chart` maps to the codes of the deployment's chart of accounts.

The receivable is the hinge: an invoice raises it, payments (card or store credit) clear it, a
credit note lowers it and the refund that pays the credit note out raises it back. So after an
order is invoiced, paid and refunded, its receivable is zero again.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from types import MappingProxyType

from money.tax import rate_text


class Account(StrEnum):
    """The role of an account; the chart maps each to a code."""

    PSP_CLEARING = "psp_clearing"  # money the payment provider owes us / we owe it
    RECEIVABLE = "receivable"  # customer receivable: invoices raise it, payments clear it
    REVENUE = "revenue"  # per tax rate
    VAT_PAYABLE = "vat_payable"  # per tax rate
    REFUNDS = "refunds"  # sales returns/refunds (contra revenue), per tax rate
    STORE_CREDIT = "store_credit"  # liability: customers' available credit
    STORE_CREDIT_HELD = "store_credit_held"  # liability: credit held by open orders
    GOODWILL = "goodwill"  # expense: goodwill credit granted


A = Account

# Where `{rate}` stands in a code, the tax rate's canonical text goes ("19", "25.5").
RATE = "{rate}"
LONGEST_RATE = "99.99"
MAX_CODE = 64  # journal_lines.account is varchar(64)
PER_RATE = frozenset({Account.REVENUE, Account.VAT_PAYABLE, Account.REFUNDS})

# SKR03-like codes (DATEV's chart for German trading companies); a deployment maps its own with
# OMS_CHART_OF_ACCOUNTS. Per-rate accounts get the rate as a suffix ("8400-19", "1776-7"), where
# SKR03 proper has one account per rate (8300 revenue 7%, 8400 revenue 19%).
DEFAULT_CHART: dict[Account, str] = {
    Account.PSP_CLEARING: "1361",  # 1360 Geldtransit: a sub-account for the payment provider
    Account.RECEIVABLE: "1400",  # Forderungen aus Lieferungen und Leistungen
    Account.REVENUE: "8400-{rate}",  # Erlöse
    Account.VAT_PAYABLE: "1776-{rate}",  # Umsatzsteuer
    Account.REFUNDS: "8700-{rate}",  # Erlösschmälerungen
    Account.STORE_CREDIT: "1701",  # 1700 Sonstige Verbindlichkeiten: customers' credit
    Account.STORE_CREDIT_HELD: "1702",  # 1700 Sonstige Verbindlichkeiten: held by open orders
    Account.GOODWILL: "4900",  # Sonstige betriebliche Aufwendungen: goodwill (Kulanz)
}
_NO_OVERRIDES: Mapping[str, str] = MappingProxyType({})


class Chart:
    """The account codes of one deployment: DEFAULT_CHART with its overrides (settings)."""

    def __init__(self, overrides: Mapping[str, str] = _NO_OVERRIDES) -> None:
        unknown = sorted(set(overrides) - set(Account))
        if unknown:
            known = ", ".join(sorted(Account))
            raise ValueError(f"unknown accounts {', '.join(unknown)} (known: {known})")
        self._codes = DEFAULT_CHART | {Account(key): code for key, code in overrides.items()}
        for role, code in self._codes.items():
            _check_code(role, code)

    def account(self, role: Account, rate: Decimal | None = None) -> str:
        """The code of `role`; per-rate accounts need the tax rate, the others refuse one."""
        code = self._codes[role]
        if role not in PER_RATE:
            if rate is not None:
                raise ValueError(f"{role} is not kept per tax rate")
            return code
        if rate is None:
            raise ValueError(f"{role} is kept per tax rate: which rate?")
        return code.replace(RATE, rate_text(rate))


def _check_code(role: Account, code: str) -> None:
    """A code is non-blank and fits the table; a per-rate one must name where the rate goes, or
    every rate's amounts would fall into one account; a flat one must not (nothing fills it)."""
    if not code.strip():
        raise ValueError(f"the account for {role} is blank")
    if (RATE in code) != (role in PER_RATE):
        need = "must" if role in PER_RATE else "must not"
        raise ValueError(f"the account for {role} {need} contain {RATE}: {code!r}")
    if len(code.replace(RATE, LONGEST_RATE)) > MAX_CODE:
        raise ValueError(f"the account for {role} is longer than {MAX_CODE} characters")


@dataclass(frozen=True, kw_only=True)
class Posting:
    """One line of a booking: an amount (minor units) on one side of one account."""

    account: str
    debit: int = 0
    credit: int = 0

    def __post_init__(self) -> None:
        # The table's CHECK again, here where the mistake is made: exactly one side, positive.
        if self.debit < 0 or self.credit < 0 or (self.debit == 0) == (self.credit == 0):
            raise ValueError(f"a posting is a positive debit or credit: {self}")


@dataclass(frozen=True, kw_only=True)
class Booking:
    """One journal entry to be: its kind, what it is in words, and its postings."""

    kind: str
    description: str
    postings: list[Posting]

    @property
    def balanced(self) -> bool:
        """Its debits equal its credits (double entry)."""
        return sum(p.debit for p in self.postings) == sum(p.credit for p in self.postings)


# One rate's share of a document: (rate, net, tax), minor units.
Breakdown = Sequence[tuple[Decimal, int, int]]


def invoice(chart: Chart, number: str, breakdown: Breakdown) -> Booking:
    """An invoice raises the receivable by its gross; revenue and VAT per rate."""
    revenue = [(chart.account(Account.REVENUE, rate), net) for rate, net, _ in breakdown]
    vat = [(chart.account(Account.VAT_PAYABLE, rate), tax) for rate, _, tax in breakdown]
    gross = [(chart.account(Account.RECEIVABLE), _gross(breakdown))]
    return _booking("invoice", f"Invoice {number}", debits=gross, credits=revenue + vat)


def credit_note(chart: Chart, number: str, breakdown: Breakdown) -> Booking:
    """A credit note reverses an invoice's share: refunds and VAT per rate against the
    receivable (the refund paying it out raises the receivable back)."""
    refunds = [(chart.account(Account.REFUNDS, rate), net) for rate, net, _ in breakdown]
    vat = [(chart.account(Account.VAT_PAYABLE, rate), tax) for rate, _, tax in breakdown]
    gross = [(chart.account(Account.RECEIVABLE), _gross(breakdown))]
    return _booking("credit_note", f"Credit note {number}", debits=refunds + vat, credits=gross)


def card_capture(chart: Chart, order_id: str, amount: int) -> Booking:
    """The provider captured the card: it owes us the money, the customer no longer does."""
    text = f"Card capture for order {order_id}"
    return _transfer(chart, "capture", text, amount, dr=A.PSP_CLEARING, cr=A.RECEIVABLE)


def card_refund(chart: Chart, refund_id: str, amount: int) -> Booking:
    """A refund to the card: the provider pays it out of what it owes us."""
    text = f"Card refund {refund_id}"
    return _transfer(chart, "refund", text, amount, dr=A.RECEIVABLE, cr=A.PSP_CLEARING)


def refund_to_store_credit(chart: Chart, refund_id: str, amount: int) -> Booking:
    """A refund paid out as store credit: we owe the customer credit instead of money."""
    text = f"Refund {refund_id} as store credit"
    return _transfer(chart, "store_credit_issued", text, amount, dr=A.RECEIVABLE, cr=A.STORE_CREDIT)


def goodwill_credit(chart: Chart, customer_id: str, amount: int) -> Booking:
    """Store credit granted as goodwill: an expense, and credit we now owe."""
    text = f"Goodwill store credit for customer {customer_id}"
    return _transfer(chart, "store_credit_issued", text, amount, dr=A.GOODWILL, cr=A.STORE_CREDIT)


def credit_hold(chart: Chart, order_id: str, amount: int) -> Booking:
    """An order holds some of a customer's credit: still owed, no longer available."""
    text = f"Store credit held for order {order_id}"
    return _transfer(
        chart, "store_credit_held", text, amount, dr=A.STORE_CREDIT, cr=A.STORE_CREDIT_HELD
    )


def credit_release(chart: Chart, order_id: str, amount: int) -> Booking:
    """An order lets go of the credit it held (cancelled, or paid otherwise)."""
    text = f"Store credit released from order {order_id}"
    return _transfer(
        chart, "store_credit_released", text, amount, dr=A.STORE_CREDIT_HELD, cr=A.STORE_CREDIT
    )


def credit_redemption(chart: Chart, order_id: str, amount: int) -> Booking:
    """Held credit pays the order: what we owed the customer settles their receivable."""
    text = f"Store credit redeemed for order {order_id}"
    return _transfer(
        chart, "store_credit_redeemed", text, amount, dr=A.STORE_CREDIT_HELD, cr=A.RECEIVABLE
    )


def _gross(breakdown: Breakdown) -> int:
    return sum(net + tax for _, net, tax in breakdown)


def _transfer(
    chart: Chart, kind: str, description: str, amount: int, *, dr: Account, cr: Account
) -> Booking:
    """`amount` from one account to another: no postings at all when it is zero."""
    debits, credits = [(chart.account(dr), amount)], [(chart.account(cr), amount)]
    return _booking(kind, description, debits=debits, credits=credits)


def _booking(
    kind: str,
    description: str,
    *,
    debits: Iterable[tuple[str, int]],
    credits: Iterable[tuple[str, int]],
) -> Booking:
    """A booking of these amounts per account, each account once per side, zeros left out
    (the table refuses a zero line; a zero-rated line has no VAT to book)."""
    postings = [Posting(account=a, debit=n) for a, n in _summed(debits).items() if n]
    postings += [Posting(account=a, credit=n) for a, n in _summed(credits).items() if n]
    booking = Booking(kind=kind, description=description, postings=postings)
    assert booking.balanced, booking  # the builders above balance by construction
    return booking


def _summed(amounts: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Amounts per account, in first-seen order (two breakdown rows of one rate: one line)."""
    summed: dict[str, int] = {}
    for account, amount in amounts:
        summed[account] = summed.get(account, 0) + amount
    return summed
