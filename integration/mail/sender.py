"""Sending one recorded customer e-mail: rendered from its event, recorded as `sending` with its
Message-ID, handed to the SMTP server, then recorded `sent`. A crash between the server's answer
and `sent` costs one duplicate with the same Message-ID. Used by the relay's first send
(integration/dispatch.py) and by the mail workflow's activity."""

from datetime import UTC, datetime

from db import notifications
from db.notifications import NotificationStatus
from db.session import SessionFactory
from integration.mail.render import MailKind, render
from integration.mail.smtp import SmtpConfig, build_message, send
from settings import Settings

N = NotificationStatus
SMTP_TIMEOUT = 10.0  # seconds a step of the SMTP conversation may take (workflows/mail.py)


class NoSmtp(Exception):
    """OMS_SMTP_URL is not set: no mail can be sent."""


class Mailer:
    """Sends notifications through the configured SMTP server."""

    def __init__(self, sessions: SessionFactory, settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings
        url = settings.smtp_url
        self._smtp = None if url is None else SmtpConfig.from_url(url.get_secret_value())

    async def send(self, notification_id: str) -> None:
        """Render, record `sending`, send, record `sent` (nothing when it is `sent` already).
        Raises what the SMTP conversation raised, recorded as the notification's last error;
        NoResultFound for an unknown notification, NoSmtp without a server."""
        if self._smtp is None:
            raise NoSmtp("OMS_SMTP_URL is not set: no mail can be sent")
        async with self._sessions.begin() as session:
            note = await notifications.get(session, notification_id, lock=True)
            if note.status == N.SENT:
                return  # a retry after the server took it and we recorded so
            data = await notifications.mail_data(session, note, self._settings)
            rendered = render(MailKind(note.kind), note.language, data)
            note.status, note.subject = N.SENDING.value, rendered.subject
            note.attempts += 1
            to, message_id = note.to_address, note.message_id
        message = build_message(rendered, to, self._settings.mail_from, message_id)
        try:
            await send(message, self._smtp, timeout=SMTP_TIMEOUT)
        except Exception as err:  # retried by the caller; the notification says why meanwhile
            await self._note_error(notification_id, f"{type(err).__name__}: {err}")
            raise
        async with self._sessions.begin() as session:
            note = await notifications.get(session, notification_id, lock=True)
            note.status, note.sent_at, note.last_error = N.SENT.value, datetime.now(UTC), None

    async def _note_error(self, notification_id: str, error: str) -> None:
        async with self._sessions.begin() as session:
            note = await notifications.get(session, notification_id, lock=True)
            note.last_error = error[:1000]
