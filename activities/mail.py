"""Customer e-mails after the relay's own first send failed: sent by integration/mail/sender.py,
retried by the mail workflow; recorded `failed` after three days."""

from sqlalchemy.exc import NoResultFound
from temporalio import activity
from temporalio.exceptions import ApplicationError

from db import notifications
from db.notifications import NotificationStatus
from db.session import SessionFactory
from integration.mail.sender import Mailer, NoSmtp
from settings import Settings
from workflows.contracts import ActivityName
from workflows.integration_contracts import FailMailInput, MailInput

N = NotificationStatus


class MailActivities:
    """Sends each notification at most once per attempt that got as far as the server: a crash
    between the server's answer and our `sent` costs one duplicate with the same Message-ID."""

    def __init__(self, sessions: SessionFactory, settings: Settings) -> None:
        self._sessions = sessions
        self._mailer = Mailer(sessions, settings)

    @activity.defn(name=ActivityName.SEND_MAIL)
    async def send_mail(self, input: MailInput) -> None:
        """Render, record `sending`, send; an SMTP error is raised and retried by the workflow."""
        try:
            await self._mailer.send(input.notification_id)
        except NoSmtp as err:
            raise ApplicationError(str(err), type="NoSmtp") from None
        except NoResultFound:
            raise ApplicationError(input.notification_id, type="UnknownMail") from None

    @activity.defn(name=ActivityName.FAIL_MAIL)
    async def fail_mail(self, input: FailMailInput) -> None:
        """Three days of failures: the notification ends `failed`, with the last error."""
        async with self._sessions.begin() as session:
            note = await notifications.get(session, input.notification_id, lock=True)
            if note.status != N.SENT:
                note.status, note.last_error = N.FAILED.value, input.error[:1000]
