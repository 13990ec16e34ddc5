"""`make run`: embedded Temporal and PostgreSQL, migrations, then the worker and the API."""

import os
import subprocess
import sys
from pathlib import Path

from devstack.network import LOOPBACK, is_listening, port_of, wait_until_listening
from devstack.postgres import EmbeddedPostgres
from devstack.secrets import child_secrets
from devstack.supervisor import Program, Stopped, Supervisor
from devstack.temporal import EmbeddedTemporal
from settings import Settings

API_START_TIMEOUT = 60.0
CREDENTIALS = "credentials.env"  # make run's API keys and console admin (python -m cli bootstrap)


def run(settings: Settings) -> int:
    """Start the OMS, say where it is, supervise it until Ctrl-C (0) or until a part dies (1)."""
    try:
        with Supervisor() as supervisor:
            _start(settings, supervisor)
            return supervisor.wait()
    except Stopped as signal_name:
        print(f"devstack: {signal_name}: stopped")
        return 0
    except (OSError, RuntimeError, subprocess.CalledProcessError) as error:
        print(f"devstack: {error}; stopped", file=sys.stderr)
        return 1


def _start(settings: Settings, supervisor: Supervisor) -> None:
    data_dir = settings.data_dir.resolve()
    temporal = EmbeddedTemporal(
        data_dir,
        port=port_of(settings.temporal_address),
        ui_port=settings.temporal_ui_port,
        namespace=settings.temporal_namespace,
        codec_endpoint=f"http://{_reachable(settings)}:{settings.api_port}/codec",
    )
    supervisor.start(temporal)
    print(f"devstack: Temporal on {temporal.address} (log: {temporal.log_path})", flush=True)
    database_url = _database_url(settings, data_dir, supervisor)
    env = _child_env(settings, database_url, temporal) | child_secrets(settings, data_dir)
    env |= _mail(settings, data_dir, supervisor)
    subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], env=env, check=True)
    print("devstack: database migrated", flush=True)
    _bootstrap(data_dir / CREDENTIALS, env)
    print("devstack: starting the worker and the API", flush=True)
    supervisor.start(Program("worker", [sys.executable, "worker.py"], env))
    api = Program("api", _api_command(settings), env)
    supervisor.start(api)
    wait_until_listening(
        api.name, api.process, settings.api_port, API_START_TIMEOUT, _reachable(settings)
    )
    _announce(settings, temporal, data_dir, env.get("OMS_MAIL_CATCHER_DIR"))


def _bootstrap(credentials: Path, env: dict[str, str]) -> None:
    """One API key per role and a console admin, made once and kept in `credentials`."""
    bootstrap = [sys.executable, "-m", "cli", "bootstrap", "--credentials", str(credentials)]
    subprocess.run(bootstrap, env=env, check=True)
    print(f"devstack: API keys and the console admin are in {credentials}", flush=True)


def _database_url(settings: Settings, data_dir: Path, supervisor: Supervisor) -> str:
    """OMS_DATABASE_URL when set; otherwise an embedded PostgreSQL kept under the data folder."""
    if settings.database_url is not None:
        return settings.database_url
    if is_listening(settings.postgres_port):
        raise RuntimeError(f"{LOOPBACK}:{settings.postgres_port} is in use (set OMS_POSTGRES_PORT)")
    postgres = EmbeddedPostgres(data_dir / "postgres", settings.postgres_port)
    supervisor.start(postgres)
    print(
        f"devstack: PostgreSQL on {LOOPBACK}:{postgres.port} (data: {postgres.data_dir})",
        flush=True,
    )
    return postgres.url


def _mail(settings: Settings, data_dir: Path, supervisor: Supervisor) -> dict[str, str]:
    """Customer e-mails go to a local mail catcher (a real SMTP server keeping each message
    under .oms/mail/, shown by the console's Mail page) unless OMS_SMTP_URL names a server.
    Webhooks may go to local receivers."""
    env = {"OMS_WEBHOOK_ALLOW_PRIVATE": os.environ.get("OMS_WEBHOOK_ALLOW_PRIVATE", "true")}
    if settings.smtp_url is not None:
        return env
    mailbox, port = data_dir / "mail", settings.mail_catcher_port
    if is_listening(port):
        raise RuntimeError(f"{LOOPBACK}:{port} is in use (set OMS_MAIL_CATCHER_PORT)")
    catcher = [sys.executable, "-m", "integration.mail.catcher", "--dir", str(mailbox)]
    program = Program("mail", [*catcher, "--host", LOOPBACK, "--port", str(port)], dict(os.environ))
    supervisor.start(program)
    wait_until_listening(program.name, program.process, port, API_START_TIMEOUT, LOOPBACK)
    print(f"devstack: mail catcher on {LOOPBACK}:{port} (mail: {mailbox})", flush=True)
    return env | {
        "OMS_SMTP_URL": f"smtp://{LOOPBACK}:{port}",
        "OMS_MAIL_CATCHER_DIR": str(mailbox),
    }


def _child_env(settings: Settings, database_url: str, temporal: EmbeddedTemporal) -> dict[str, str]:
    """This process's environment plus where the embedded servers are, for the children."""
    return {
        **os.environ,  # PATH and the like; the OMS_ values below win
        "OMS_DATABASE_URL": database_url,
        "OMS_TEMPORAL_ADDRESS": temporal.address,
        "OMS_TEMPORAL_NAMESPACE": settings.temporal_namespace,
        "OMS_TEMPORAL_UI_URL": temporal.ui_url or settings.temporal_ui_url,
        "OMS_API_HOST": settings.api_host,
        "OMS_API_PORT": str(settings.api_port),
        "PYTHONUNBUFFERED": "1",  # their logs reach the terminal as they happen
    }


def _api_command(settings: Settings) -> list[str]:
    return [
        *(sys.executable, "-m", "uvicorn", "api.main:app"),
        *("--host", settings.api_host, "--port", str(settings.api_port)),
    ]


def _reachable(settings: Settings) -> str:
    """Where to knock to see the API listening: a wildcard bind is reached on loopback."""
    return LOOPBACK if settings.api_host in ("0.0.0.0", "::", "") else settings.api_host


def _announce(
    settings: Settings, temporal: EmbeddedTemporal, data_dir: Path, mailbox: str | None
) -> None:
    api = f"http://{_reachable(settings)}:{settings.api_port}"
    caught = f"  Mail caught  {api}/console/mail (kept in {mailbox})\n" if mailbox else ""
    print(
        "\nOMS is running. Ctrl-C stops it.\n"
        f"  API          {api}\n"
        f"  API docs     {api}/docs\n"
        f"  Temporal UI  {temporal.ui_url}\n"
        f"  Credentials  {data_dir / CREDENTIALS} (source it: $OMS_STOREFRONT_KEY, ...)\n"
        f"{caught}"
        f"  Data, logs   {data_dir}\n",
        flush=True,
    )
