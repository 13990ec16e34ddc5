"""Tax arithmetic on integer minor units: splitting gross prices, allocating sums, spelling rates.

Prices are gross (tax-inclusive) and rates are `Decimal` percents. Everything here is exact
integer arithmetic on the rate's rational value: no float, and no dependence on the ambient
`decimal` context (its precision or rounding), so a result never changes with who calls it.
"""

import re
from collections.abc import Sequence
from decimal import Decimal

HUNDRED = 100
# 0 <= rate < 100 with at most two decimals, ASCII digits only: "19", "7", "25.5", "0", "19.00".
RATE_TEXT = re.compile(r"[0-9]{1,2}(?:\.[0-9]{1,2})?")


def split_gross(gross: int, rate: Decimal) -> tuple[int, int]:
    """(net, tax) of a gross amount at `rate` percent: net + tax == gross, always.

    Tax is net × rate / 100 rounded half-up to the cent whenever some integer net makes both
    hold. Such a net is unique (N + round(N·r) grows by at least 1 per cent of net). It does not
    always exist: when round(N·r) steps up by one between N and N + 1, the gross value in
    between is skipped (at 19%, net 1 gives gross 1 and net 3 gives gross 4, so no net gives
    gross 3). Then the net is the largest N with N + round(N·r) <= gross and the tax is
    gross − N, exactly one cent above round(N·r). EN 16931 (BR-CO-17) tolerates that cent.
    """
    if gross < 0:
        raise ValueError(f"gross must not be negative, got {gross}")
    numerator, denominator = _percent_ratio(rate)
    net = max(
        n
        for n in _candidates(gross, numerator, denominator)
        if n + _tax_on(n, numerator, denominator) <= gross
    )
    return net, gross - net


def allocate(amount: int, weights: Sequence[int]) -> list[int]:
    """`amount` split in proportion to `weights` (largest remainder), summing exactly to it.

    Each share is the floor of its exact quota; the cents left over go one each to the largest
    remainders, ties to the earlier weight, so the result is deterministic. All-zero weights put
    everything in the first slot: there is no proportion to follow, and losing the amount would
    be worse. A negative amount is allocated as the negation of its absolute value's allocation.
    """
    if not weights:
        raise ValueError("cannot allocate over no weights")
    if any(weight < 0 for weight in weights):
        raise ValueError(f"weights must not be negative, got {list(weights)}")
    if amount < 0:
        return [-share for share in allocate(-amount, weights)]
    total = sum(weights)
    if total == 0:
        return [amount] + [0] * (len(weights) - 1)
    shares = [amount * weight // total for weight in weights]
    remainders = [amount * weight % total for weight in weights]
    by_remainder = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in by_remainder[: amount - sum(shares)]:
        shares[i] += 1
    return shares


def rate_text(rate: Decimal) -> str:
    """The canonical spelling of a rate for JSON and account names: "19", "25.5", "0".

    No exponent and no trailing zeros, so Decimal("19.00") and Decimal("19") name the same
    account. Refuses a rate `parse_rate` would refuse, so every spelling can be read back.
    """
    _check_rate(rate)
    text = format(rate.normalize(), "f")
    return "0" if text == "-0" else text


def parse_rate(text: str) -> Decimal:
    """The rate `text` spells: 0 <= rate < 100 with at most two decimals, else ValueError."""
    if RATE_TEXT.fullmatch(text) is None:
        raise ValueError(f"not a tax rate (0 to 99.99, at most 2 decimals): {text!r}")
    return Decimal(rate_text(Decimal(text)))


def _check_rate(rate: Decimal) -> None:
    if not rate.is_finite() or not 0 <= rate < HUNDRED:
        raise ValueError(f"a tax rate is 0 <= rate < 100, got {rate}")
    if rate != rate.quantize(Decimal("0.01")):
        raise ValueError(f"a tax rate has at most 2 decimals, got {rate}")


def _percent_ratio(rate: Decimal) -> tuple[int, int]:
    """rate / 100 as an exact fraction (numerator, denominator)."""
    _check_rate(rate)
    numerator, denominator = rate.as_integer_ratio()
    return numerator, denominator * HUNDRED


def _tax_on(net: int, numerator: int, denominator: int) -> int:
    """net × numerator / denominator rounded half-up (all non-negative)."""
    return (2 * net * numerator + denominator) // (2 * denominator)


def _candidates(gross: int, numerator: int, denominator: int) -> range:
    """Nets around round(gross / (1 + r)) that surely bracket the answer.

    The answer lies within 0.5 of gross / (1 + r) (rounding moves the tax by at most half a
    cent), so two either side of its rounding is more than enough.
    """
    scaled = denominator + numerator
    centre = (2 * gross * denominator + scaled) // (2 * scaled)
    return range(max(0, centre - 2), centre + 3)
