"""The HTTP models spell the order's words exactly as the workflow's enums do.

api/schemas.py never imports workflows/contracts.py (the three type families stay apart), so
its Literals are written out; these tests are what keeps the two spellings one vocabulary."""

from enum import StrEnum
from typing import Any, get_args

import pytest
from pydantic import BaseModel

from api import integration_schemas, return_schemas, schemas
from db import notifications, webhooks
from integration import catalog
from security.roles import Role
from workflows import contracts, return_contracts


@pytest.mark.parametrize(
    ("literal", "enum"),
    [
        (schemas.OrderStatusName, contracts.OrderStatus),
        (schemas.HoldReason, contracts.HoldReason),
        (schemas.SupportActionName, contracts.SupportAction),
        (schemas.AuditOutcomeName, contracts.AuditOutcome),
        (schemas.RoleName, Role),
        (schemas.ReturnStatusName, return_contracts.ReturnStatus),
        (schemas.ReturnAuditActionName, return_contracts.ReturnAuditAction),
        (return_schemas.ReturnReasonName, return_contracts.ReturnReason),
        (return_schemas.ResolutionName, return_contracts.Resolution),
        (return_schemas.ClaimTypeName, return_contracts.ClaimType),
        (return_schemas.ConditionName, return_contracts.Condition),
        (integration_schemas.EventTypeName, catalog.EventType),
        (integration_schemas.DeliveryStatusName, webhooks.DeliveryStatus),
        (integration_schemas.NotificationStatusName, notifications.NotificationStatus),
    ],
    ids=[
        "status",
        "hold reason",
        "support action",
        "audit outcome",
        "role",
        "return status",
        "return audit action",
        "return reason",
        "resolution",
        "claim type",
        "condition",
        "event type",
        "delivery status",
        "notification status",
    ],
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
    assert annotation(schemas.AuditPublic, "action") == schemas.AuditActionName
    assert annotation(schemas.AuditPublic, "outcome") == schemas.AuditOutcomeName


def test_an_audit_row_names_a_support_action_or_a_return_action() -> None:
    both = (*get_args(schemas.SupportActionName), *get_args(schemas.ReturnAuditActionName))
    assert get_args(schemas.AuditActionName) == both
    assert all(len(action) <= 16 for action in both)  # order_audit.action is String(16)


def test_a_return_and_a_claim_use_the_shared_literals() -> None:
    rs = return_schemas
    assert annotation(rs.ReturnPublic, "status") == schemas.ReturnStatusName
    assert annotation(rs.ReturnHistoryPublic, "status") == schemas.ReturnStatusName
    assert annotation(rs.ClaimPublic, "status") == schemas.ReturnStatusName
    assert annotation(rs.ReturnLineCreate, "reason") == rs.ReturnReasonName
    assert annotation(rs.ReceiptLine, "condition") == rs.ConditionName
    assert annotation(rs.ClaimCreate, "type") == rs.ClaimTypeName
    assert set(get_args(rs.ReturnResolutionName)) | set(get_args(rs.ClaimResolutionName)) == set(
        get_args(rs.ResolutionName)
    )
