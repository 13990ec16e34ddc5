"""Customer e-mails as the tests make them: the shipped mail of the catalog's example order (its
data made by the real snapshot code, so a template that drifts from the events fails here too),
rendered and sent over real SMTP to a mail catcher."""

from typing import Any

from integration.catalog import EventType
from integration.catalog_doc import example
from integration.mail.catcher import MailCatcher
from integration.mail.render import MailKind, Rendered, render
from integration.mail.smtp import SmtpConfig, build_message, send

SENDER = "Example Shop <shop@example.com>"
TO = "Grete Müller <grete@example.de>"


def shipped_data(order_id: str = "ord-mail-1") -> dict[str, Any]:
    """`order.shipped`'s data as the catalog shows it, for order `order_id`, and the shop."""
    data: dict[str, Any] = example(EventType.ORDER_SHIPPED)["data"]
    return data | {"order": data["order"] | {"id": order_id}, "shop": "Example Shop GmbH"}


def tracking_number() -> str:
    number: str = shipped_data()["shipment"]["tracking_number"]
    return number


def shipped_mail(order_id: str = "ord-mail-1", language: str = "en") -> Rendered:
    return render(MailKind.SHIPPED, language, shipped_data(order_id))


async def send_shipped(
    catcher: MailCatcher, order_id: str = "ord-mail-1", language: str = "en"
) -> Rendered:
    """The shipped mail, sent to the catcher over SMTP; what was rendered."""
    rendered = shipped_mail(order_id, language)
    message_id = f"<shipped.42.{order_id}@example.com>"
    await send(build_message(rendered, TO, SENDER, message_id), SmtpConfig.from_url(catcher.url))
    return rendered
