"""The HTTP models spell the order's words exactly as the workflow's enums do.

api/schemas.py never imports workflows/contracts.py (the three type families stay apart), so
its Literals are written out; these tests are what keeps the two spellings one vocabulary."""

from enum import StrEnum
from typing import Any, get_args

import pytest
from pydantic import BaseModel

from api import schemas
from security.roles import Role
from workflows import contracts


@pytest.mark.parametrize(
    ("literal", "enum"),
    [
        (schemas.OrderStatusName, contracts.OrderStatus),
        (schemas.HoldReason, contracts.HoldReason),
        (schemas.SupportActionName, contracts.SupportAction),
        (schemas.AuditOutcomeName, contracts.AuditOutcome),
        (schemas.RoleName, Role),
    ],
    ids=["status", "hold reason", "support action", "audit outcome", "role"],
)
def test_each_http_literal_names_exactly_the_enums_values_in_order(
    literal: Any, enum: type[StrEnum]
) -> None:
    assert get_args(literal) == tuple(member.value for member in enum)


def annotation(model: type[BaseModel], name: str) -> object:
    return model.model_fields[name].annotation


def test_an_order_and_each_history_entry_show_a_status_of_the_enum() -> None:
    assert annotation(schemas.OrderPublic, "status") == schemas.OrderStatusName
    assert annotation(schemas.HistoryPublic, "status") == schemas.OrderStatusName


def test_a_hold_and_an_audit_row_use_the_shared_literals() -> None:
    assert annotation(schemas.HoldCreate, "reason_code") == schemas.HoldReason
    assert annotation(schemas.AuditPublic, "action") == schemas.SupportActionName
    assert annotation(schemas.AuditPublic, "outcome") == schemas.AuditOutcomeName
