"""Every place that registers the search attributes names the ones the workflow upserts."""

import re
from pathlib import Path

import pytest

from devstack.temporal import cli_type, search_attribute_flags
from workflows.contracts import SEARCH_ATTRIBUTES

REPO = Path(__file__).resolve().parents[2]
EXPECTED = [f"{key.name}={cli_type(key)}" for key in SEARCH_ATTRIBUTES]


def test_the_workflows_publish_their_statuses_customer_hold_total_skus_and_lateness() -> None:
    assert EXPECTED == [
        "OrderStatus=Keyword",
        "CustomerId=Keyword",
        "OnHold=Bool",
        "OrderTotal=Int",
        "Skus=KeywordList",
        "RefundStatus=Keyword",
        "OrderId=Keyword",
        "ReturnStatus=Keyword",
        "Late=Bool",
    ]


def test_make_run_registers_each_one() -> None:
    assert search_attribute_flags(SEARCH_ATTRIBUTES)[1::2] == EXPECTED


@pytest.mark.parametrize(
    ("path", "pattern"),
    [
        ("docker-compose.yml", r"SEARCH_ATTRIBUTES: (.+)"),
        ("deploy/temporal/setup-namespace.sh", r"SEARCH_ATTRIBUTES:=([^}]+)}"),
    ],
)
def test_docker_compose_registers_each_one(path: str, pattern: str) -> None:
    found = re.search(pattern, (REPO / path).read_text())
    assert found is not None, f"{path} names no search attributes"
    assert found.group(1).split() == EXPECTED
