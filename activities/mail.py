"""Customer e-mails: rendered from their event, recorded as `sending` with their Message-ID, then
handed to the SMTP server; `sent` once it took them."""

from datetime import UTC, datetime

from sqlalchemy.exc import NoResultFound
from temporalio import activity
from temporalio.exceptions import ApplicationError

from db import notifications
from db.notifications import NotificationStatus
from db.session import SessionFactory
from integration.mail.render import MailKind, render
from integration.mail.smtp import SmtpConfig, build_message, send
from settings import Settings
from workflows.contracts import ActivityName
from workflows.integration_contracts import FailMailInput, MailInput

N = NotificationStatus
SMTP_TIMEOUT = 10.0  # seconds a step of the SMTP conversation may take (workflows/mail.py)


class MailActivities:
    """Sends each notification at most once per attempt that got as far as the server: a crash
    between the server's answer and our `sent` costs one duplicate with the same Message-ID."""

    def __init__(self, sessions: SessionFactory, settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings
        url = settings.smtp_url
        self._smtp = None if url is None else SmtpConfig.from_url(url.get_secret_value())

    @activity.defn(name=ActivityName.SEND_MAIL)
    async def send_mail(self, input: MailInput) -> None:
        """Render, record `sending`, send; an SMTP error is raised and retried by the workflow."""
        if self._smtp is None:
            raise ApplicationError("OMS_SMTP_URL is not set: no mail can be sent", type="NoSmtp")
        async with self._sessions.begin() as session:
            try:
                note = await notifications.get(session, input.notification_id, lock=True)
            except NoResultFound:
                raise ApplicationError(input.notification_id, type="UnknownMail") from None
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
        except Exception as err:  # the workflow retries; the notification says why meanwhile
            await self._note_error(input.notification_id, f"{type(err).__name__}: {err}")
            raise
        async with self._sessions.begin() as session:
            note = await notifications.get(session, input.notification_id, lock=True)
            note.status, note.sent_at, note.last_error = N.SENT.value, datetime.now(UTC), None

    async def _note_error(self, notification_id: str, error: str) -> None:
        async with self._sessions.begin() as session:
            note = await notifications.get(session, notification_id, lock=True)
            note.last_error = error[:1000]

    @activity.defn(name=ActivityName.FAIL_MAIL)
    async def fail_mail(self, input: FailMailInput) -> None:
        """Three days of failures: the notification ends `failed`, with the last error."""
        async with self._sessions.begin() as session:
            note = await notifications.get(session, input.notification_id, lock=True)
            if note.status != N.SENT:
                note.status, note.last_error = N.FAILED.value, input.error[:1000]
