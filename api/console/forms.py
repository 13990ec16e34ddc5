"""Form fields to the support requests of api.schemas: strings become the strict models' types.

The models are strict (a number must be an int), so numbers are parsed here, and only ASCII
digits are numbers: `int()` would also take "1_000", "+5" or "٣". A refund's amount is typed in
major units ("12.50", or "12,50") and becomes minor units here, exactly: never through a float.
Anything that cannot become a request raises FormProblem; what the models refuse raises
pydantic's ValidationError. Both are shown to the agent, never a 500.
"""

import re
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request

from api.console.answers import FormProblem
from api.money_schemas import RefundCreate
from api.schemas import CancelCreate, ChangeCreate, HoldCreate, ReleaseCreate, StockAdjustment
from workflows.rules import ZERO_DECIMAL_CURRENCIES

NUMBER = re.compile(r"[0-9]{1,12}")
SIGNED = re.compile(r"[-+]?[0-9]{1,12}")  # an adjustment: negative removes stock
KEY = re.compile(r"[0-9a-f]{32}")  # what the page puts in each form: uuid4().hex
# Whole units, then at most two decimals after a point or a comma: no sign, no grouping.
MAJOR_UNITS = re.compile(r"(?P<whole>[0-9]{1,10})(?:[.,](?P<cents>[0-9]{1,2}))?")
ADDRESS_FIELDS = ("name", "line1", "line2", "city", "postal_code", "country")
MAX_FIELDS = 400  # the quantity form has three fields per line, up to 100 lines


async def read(request: Request) -> FormData:
    """The posted form, parsed once per request (Starlette keeps it: the CSRF check reads it
    first, the route after). No files: no console form uploads any."""
    return await request.form(max_files=0, max_fields=MAX_FIELDS)


class FormReader:
    """Reads fields of one form, collecting every problem so the agent sees them all at once."""

    def __init__(self, form: FormData) -> None:
        self._form = form
        self.problems: list[str] = []

    def text(self, name: str) -> str:
        """The field's text, trimmed; "" when absent (the model then says it is required)."""
        value = self._form.get(name)
        return self._clean(name, value) if isinstance(value, str) else ""

    def optional(self, name: str) -> str | None:
        """None for a field left empty."""
        return self.text(name) or None

    def texts(self, name: str) -> list[str]:
        """Every value of a repeated field (one per order line), in page order."""
        return [
            self._clean(name, value) for value in self._form.getlist(name) if isinstance(value, str)
        ]

    def number(self, text: str, label: str) -> int | None:
        """A whole number >= 0, or None after noting what is wrong with it."""
        if NUMBER.fullmatch(text):
            return int(text)
        self.problems.append(f"{label}: {text or 'nothing'} is not a whole number")
        return None

    def money(self, text: str, currency: str, label: str) -> int | None:
        """An amount in major units ("12.50") as minor units (1250), or None after noting
        what is wrong with it. A currency without minor units (JPY) takes whole numbers only."""
        whole_only = currency in ZERO_DECIMAL_CURRENCIES
        found = MAJOR_UNITS.fullmatch(text)
        if found is None or (whole_only and found["cents"]):
            example = "1250" if whole_only else "12.50"
            self.problems.append(f"{label}: {text} is not an amount of {currency} like {example}")
            return None
        if whole_only:
            return int(found["whole"])
        return int(found["whole"]) * 100 + int((found["cents"] or "0").ljust(2, "0"))

    def check(self) -> None:
        """Raise the problems collected so far."""
        if self.problems:
            raise FormProblem(self.problems)

    def _clean(self, name: str, value: str) -> str:
        if "\x00" in value:  # PostgreSQL cannot store it: say so rather than fail later
            self.problems.append(f"{name}: must not contain a NUL character")
            return value.replace("\x00", "")
        return value.strip()


def raw(form: FormData, name: str) -> str:
    """The field exactly as typed (passwords are not trimmed); "" when absent or a file."""
    value = form.get(name)
    return value if isinstance(value, str) else ""


def idempotency_key(form: FormData) -> str | None:
    """The page's token for this form: the same submission sent twice is one action."""
    key = form.get("key")
    return key if isinstance(key, str) and KEY.fullmatch(key) else None


def cancel(form: FormData) -> CancelCreate:
    read = FormReader(form)
    body = {"reason": read.text("reason")}
    read.check()
    return CancelCreate.model_validate(body)


def hold(form: FormData) -> HoldCreate:
    read = FormReader(form)
    body = {
        "reason_code": read.text("reason_code"),
        "note": read.optional("note"),
    }
    read.check()
    return HoldCreate.model_validate(body)


def release(form: FormData) -> ReleaseCreate:
    read = FormReader(form)
    body = {"note": read.optional("note")}
    read.check()
    return ReleaseCreate.model_validate(body)


def change_address(form: FormData) -> ChangeCreate:
    read = FormReader(form)
    address: dict[str, Any] = {name: read.text(name) for name in ADDRESS_FIELDS}
    address["line2"] = address["line2"] or None
    address["country"] = address["country"].upper()
    body = {
        "shipping_address": address,
        "reason": read.optional("reason"),
    }
    read.check()
    return ChangeCreate.model_validate(body)


def change_lines(form: FormData) -> ChangeCreate:
    """Only the lines whose quantity the agent edited, plus the added SKU if any."""
    read = FormReader(form)
    lines = _edited_lines(read) + _added_line(read)
    body = {
        "lines": lines,
        "reason": read.optional("reason"),
    }
    read.check()
    if not lines:
        raise FormProblem(["nothing to change: edit a quantity or add a SKU"])
    return ChangeCreate.model_validate(body)


def _edited_lines(read: FormReader) -> list[dict[str, Any]]:
    """Lines not named in a change stay as they are: send only what differs from the page."""
    skus, quantities, shown = read.texts("sku"), read.texts("quantity"), read.texts("shown")
    if not len(skus) == len(quantities) == len(shown):
        read.problems.append("the form does not match the order's lines: reload the page")
        return []
    lines = []
    for sku, text, before in zip(skus, quantities, shown, strict=True):
        quantity = read.number(text, f"quantity of {sku}")
        if quantity is not None and str(quantity) != before:
            lines.append({"sku": sku, "quantity": quantity})
    return lines


def _added_line(read: FormReader) -> list[dict[str, Any]]:
    sku = read.text("new_sku")
    if not sku:
        return []
    quantity = read.number(read.text("new_quantity"), f"quantity of {sku}")
    price_text = read.text("new_unit_price")
    price = read.number(price_text, f"unit price of {sku}") if price_text else None
    return [{"sku": sku, "quantity": quantity, "unit_price": price}]


def adjustment(form: FormData) -> tuple[StockAdjustment, int]:
    """The change of on_hand and its reason, and the on_hand the page showed when it was sent."""
    read = FormReader(form)
    text = read.text("delta")
    if SIGNED.fullmatch(text) is None or int(text) == 0:
        read.problems.append(f"change: {text or 'nothing'} is not a whole number other than 0")
    shown = read.number(read.text("shown"), "the on hand shown")
    read.check()
    body = StockAdjustment.model_validate({"delta": int(text), "reason": read.text("reason")})
    return body, shown or 0


def refund(form: FormData, currency: str) -> RefundCreate:
    """An amount (major units of the order's currency) or units per line, not both."""
    read = FormReader(form)
    typed = read.text("amount")
    amount = read.money(typed, currency, "amount") if typed else None
    lines = _refund_lines(read)
    if amount == 0:
        read.problems.append("amount: must be more than 0")
    if typed and lines:
        read.problems.append("give an amount or units to refund, not both")
    elif not typed and not lines and not read.problems:
        read.problems.append("nothing to refund: enter an amount or the units to refund")
    body = {
        "amount": amount,
        "lines": lines or None,
        "reason": read.text("reason"),
        "method": read.text("method"),
    }
    read.check()
    return RefundCreate.model_validate(body)


def _refund_lines(read: FormReader) -> list[dict[str, Any]]:
    """The lines given a number of units; those left empty or at 0 are not refunded."""
    skus, quantities = read.texts("sku"), read.texts("quantity")
    if len(skus) != len(quantities):
        read.problems.append("the form does not match the order's lines: reload the page")
        return []
    lines = []
    for sku, text in zip(skus, quantities, strict=True):
        quantity = read.number(text, f"units of {sku}") if text else 0
        if quantity:
            lines.append({"sku": sku, "quantity": quantity})
    return lines
