"""The pure order rules: transitions, totals, money and summaries (refusals: test_support_rules)."""

from itertools import pairwise

import pytest

from settings import Settings
from workflows.contracts import OrderLine, OrderStatus, StockLine
from workflows.rules import (
    TERMINAL,
    TRANSITIONS,
    IllegalTransition,
    check_transition,
    format_money,
    order_total,
)
from workflows.steps import describe_lines

S = OrderStatus


def test_every_status_has_a_row_in_the_transition_table() -> None:
    assert set(TRANSITIONS) == set(OrderStatus)


def test_terminal_statuses_are_exactly_completed_cancelled_failed() -> None:
    assert {S.COMPLETED, S.CANCELLED, S.FAILED} == TERMINAL


def test_the_happy_path_is_allowed_step_by_step() -> None:
    path = [S.PENDING, S.RESERVED, S.PICKED, S.PACKED, S.SHIPPED, S.DELIVERED, S.COMPLETED]
    for current, new in pairwise(path):
        check_transition(current, new)


@pytest.mark.parametrize(
    ("current", "new"),
    [
        (S.PENDING, S.SHIPPED),
        (S.SHIPPED, S.CANCELLED),
        (S.COMPLETED, S.FAILED),
        (S.PICKED, S.RESERVED),
    ],
)
def test_a_move_outside_the_table_is_refused(current: OrderStatus, new: OrderStatus) -> None:
    with pytest.raises(IllegalTransition):
        check_transition(current, new)


def test_total_is_quantity_times_unit_price_summed() -> None:
    lines = [
        OrderLine(sku="A", quantity=2, unit_price=1999),
        OrderLine(sku="B", quantity=1, unit_price=1),
    ]
    assert order_total(lines) == 3999


def test_money_reads_in_major_units_unless_the_currency_has_none() -> None:
    assert format_money(3998, "EUR") == "39.98 EUR"
    assert format_money(5, "USD") == "0.05 USD"
    assert format_money(500, "JPY") == "500 JPY"


def test_activity_summaries_name_quantities_and_skus_and_stay_short() -> None:
    lines = [StockLine(sku=f"SKU-{i}", quantity=i) for i in range(1, 6)]
    assert describe_lines(lines[:1]) == "1 × SKU-1"
    assert describe_lines(lines) == "1 × SKU-1, 2 × SKU-2, 3 × SKU-3 and 2 more"


@pytest.mark.parametrize(
    "url", ["postgresql://u@h/db", "postgres://u@h/db", "postgresql+psycopg2://u@h/db"]
)
def test_any_postgres_url_is_driven_by_psycopg3(url: str) -> None:
    assert Settings(database_url=url).database_url == "postgresql+psycopg://u@h/db"


def test_a_non_postgres_url_is_refused() -> None:
    with pytest.raises(ValueError, match="postgresql"):
        Settings(database_url="mysql://u@h/db")
