"""money.tax: splitting gross prices, allocating sums, spelling rates (properties, known values)."""

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from money.tax import allocate, parse_rate, rate_text, split_gross

RATES = st.sampled_from([Decimal("0"), Decimal("7"), Decimal("19"), Decimal("25.5")])
ANY_RATE = st.decimals(min_value=0, max_value=Decimal("99.99"), places=2)
GROSS = st.integers(min_value=0, max_value=10**9)


def rounded_tax(net: int, rate: Decimal) -> int:
    """The reference: net × rate / 100, half-up to the cent, in Decimal (not the module's ints)."""
    return int((net * rate / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def reachable(gross: int, rate: Decimal, near: int) -> bool:
    """Whether some net near `near` has net + rounded tax == gross exactly."""
    return any(n + rounded_tax(n, rate) == gross for n in range(max(0, near - 3), near + 4))


@given(gross=GROSS, rate=RATES | ANY_RATE)
def test_net_plus_tax_is_always_the_gross(gross: int, rate: Decimal) -> None:
    net, tax = split_gross(gross, rate)

    assert net + tax == gross
    assert net >= 0
    assert tax >= 0


@given(gross=GROSS, rate=RATES | ANY_RATE)
def test_tax_is_the_rounded_product_unless_no_net_reaches_the_gross(
    gross: int, rate: Decimal
) -> None:
    net, tax = split_gross(gross, rate)

    if reachable(gross, rate, net):
        assert tax == rounded_tax(net, rate)
    else:
        assert tax == rounded_tax(net, rate) + 1


@pytest.mark.parametrize("rate", [Decimal("7"), Decimal("19"), Decimal("25.5")], ids=str)
def test_every_small_gross_gets_the_largest_net_that_does_not_overshoot(rate: Decimal) -> None:
    gross_of = [n + rounded_tax(n, rate) for n in range(3000)]
    best = 0
    for gross in range(gross_of[-1]):
        while gross_of[best + 1] <= gross:
            best += 1
        assert split_gross(gross, rate) == (best, gross - best)


def test_unreachable_gross_puts_the_extra_cent_on_the_tax() -> None:
    # net 2 → gross 2 (tax 0.38 → 0), net 3 → gross 4 (tax 0.57 → 1): nothing gives 3.
    assert split_gross(3, Decimal("19")) == (2, 1)


@pytest.mark.parametrize(
    ("gross", "rate", "expected"),
    [
        (11900, Decimal("19"), (10000, 1900)),
        (10700, Decimal("7"), (10000, 700)),
        (12550, Decimal("25.5"), (10000, 2550)),
        (999, Decimal("0"), (999, 0)),
        (0, Decimal("19"), (0, 0)),
        (1999, Decimal("19"), (1680, 319)),  # 16.80 * 0.19 = 3.192
        (5995, Decimal("7"), (5603, 392)),  # 56.03 * 0.07 = 3.9221
        (4241, Decimal("19.00"), (3564, 677)),  # 35.64 * 0.19 = 6.7716
    ],
)
def test_known_splits(gross: int, rate: Decimal, expected: tuple[int, int]) -> None:
    assert split_gross(gross, rate) == expected


def test_negative_gross_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        split_gross(-1, Decimal("19"))


@pytest.mark.parametrize("rate", ["100", "-1", "19.001", "NaN", "Infinity"])
def test_split_refuses_a_rate_outside_0_to_99_99(rate: str) -> None:
    with pytest.raises(ValueError, match="rate"):
        split_gross(100, Decimal(rate))


WEIGHTS = st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=8)


@given(amount=st.integers(min_value=-(10**9), max_value=10**9), weights=WEIGHTS)
def test_allocation_sums_exactly_to_the_amount(amount: int, weights: list[int]) -> None:
    assert sum(allocate(amount, weights)) == amount


@given(amount=st.integers(min_value=0, max_value=10**9), weights=WEIGHTS)
def test_each_share_is_within_one_cent_of_its_exact_quota(amount: int, weights: list[int]) -> None:
    total = sum(weights)
    shares = allocate(amount, weights)

    if total:
        assert all(
            abs(share * total - amount * weight) < total
            for share, weight in zip(shares, weights, strict=True)
        )


@pytest.mark.parametrize(
    ("amount", "weights", "expected"),
    [
        (100, [1, 1, 1], [34, 33, 33]),
        (2, [1, 1, 1], [1, 1, 0]),
        (10, [3, 0, 7], [3, 0, 7]),
        (1000, [2500, 7500], [250, 750]),
        (7, [0, 0, 0], [7, 0, 0]),
        (-100, [1, 1, 1], [-34, -33, -33]),
        (5, [1, 2], [2, 3]),  # remainders 2/3 and 1/3: the larger one gets the cent
    ],
)
def test_known_allocations(amount: int, weights: list[int], expected: list[int]) -> None:
    assert allocate(amount, weights) == expected


def test_allocating_over_no_weights_is_refused() -> None:
    with pytest.raises(ValueError, match="no weights"):
        allocate(10, [])


def test_a_negative_weight_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        allocate(10, [1, -1])


@pytest.mark.parametrize(
    ("rate", "text"),
    [
        (Decimal("19"), "19"),
        (Decimal("19.00"), "19"),
        (Decimal("25.5"), "25.5"),
        (Decimal("25.50"), "25.5"),
        (Decimal("0"), "0"),
        (Decimal("0.00"), "0"),
        (Decimal("7"), "7"),
        (Decimal("1E+1"), "10"),
        (Decimal("5.55"), "5.55"),
    ],
)
def test_rate_text_is_canonical(rate: Decimal, text: str) -> None:
    assert rate_text(rate) == text


@given(rate=ANY_RATE)
def test_parse_rate_reads_back_what_rate_text_wrote(rate: Decimal) -> None:
    text = rate_text(rate)

    assert parse_rate(text) == rate
    assert rate_text(parse_rate(text)) == text


@pytest.mark.parametrize(
    "text", ["100", "-1", "19.001", "1e1", "abc", "", " 19", "19 ", "NaN", "١٩", "19.", ".5"]
)
def test_parse_rate_refuses_anything_but_0_to_99_99_with_two_decimals(text: str) -> None:
    with pytest.raises(ValueError, match="not a tax rate"):
        parse_rate(text)


def test_rate_text_refuses_a_rate_that_could_not_be_read_back() -> None:
    with pytest.raises(ValueError, match="rate"):
        rate_text(Decimal("100"))
