"""`python -m cli`: make run's bootstrap and the api-keys commands, as processes against a
database of their own, their keys then used against the real app."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from dotenv import dotenv_values

from db.console_users import ConsoleUserRepository
from db.session import create_engine, create_session_factory
from security.passwords import verify_password
from security.roles import Role
from settings import Settings
from tests.harness.keys import TEST_SECRET, bearer
from tests.harness.servers import REPO, new_database, serve_api

pytestmark = pytest.mark.integration

KEY_VARIABLES = ["OMS_ADMIN_KEY", "OMS_STOREFRONT_KEY", "OMS_SUPPORT_KEY", "OMS_WAREHOUSE_KEY"]


@pytest.fixture
def database(postgres_url: str) -> str:
    """A migrated database of this test's own: the bootstrap's names are fixed."""
    return new_database(postgres_url, "cli")


def cli(database: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OMS_DATABASE_URL": database, "OMS_SECRET_KEY": TEST_SECRET}
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def bootstrap(database: str, credentials: Path) -> dict[str, str]:
    done = cli(database, "bootstrap", "--credentials", str(credentials))
    assert done.returncode == 0, done.stderr
    return {name: value or "" for name, value in dotenv_values(credentials).items()}


async def test_bootstrap_writes_working_credentials_once_and_reuses_them(
    database: str, settings: Settings, tmp_path: Path
) -> None:
    credentials = tmp_path / ".oms" / "credentials.env"

    first = bootstrap(database, credentials)
    again = bootstrap(database, credentials)

    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    assert set(first) == {*KEY_VARIABLES, "OMS_OPS_KEY", "OMS_CONSOLE_USER", "OMS_CONSOLE_PASSWORD"}
    assert again == first  # the second start reuses everything
    assert len(first["OMS_CONSOLE_PASSWORD"]) >= 12
    engine = create_engine(Settings(database_url=database))
    async with create_session_factory(engine)() as session:
        admin = await ConsoleUserRepository(session).named(first["OMS_CONSOLE_USER"])
    await engine.dispose()
    assert admin is not None
    assert admin.role == Role.ADMIN.value
    assert verify_password(admin.password_hash, first["OMS_CONSOLE_PASSWORD"])
    own = settings.model_copy(update={"database_url": database})
    async with serve_api(own) as api:
        for variable, path in [
            ("OMS_ADMIN_KEY", "/v1/api-keys"),
            ("OMS_STOREFRONT_KEY", "/v1/orders"),
            ("OMS_OPS_KEY", "/v1/orders"),
        ]:
            answer = await api.get(path, headers=bearer(first[variable]))
            assert answer.status_code == 200, (variable, answer.text)
        storefront = await api.get("/v1/api-keys", headers=bearer(first["OMS_ADMIN_KEY"]))
        channels = {key["role"]: key["channel"] for key in storefront.json()["items"]}
        assert channels[Role.STOREFRONT.value] == "default"


async def test_bootstrap_replaces_only_a_key_that_stopped_working(
    database: str, settings: Settings, tmp_path: Path
) -> None:
    credentials = tmp_path / "credentials.env"
    first = bootstrap(database, credentials)
    own = settings.model_copy(update={"database_url": database})
    async with serve_api(own, first["OMS_ADMIN_KEY"]) as api:
        keys = (await api.get("/v1/api-keys")).json()["items"]
        support = next(
            k for k in keys if k["role"] == "support" and k["name"] == "make-run-support"
        )
        assert (await api.delete(f"/v1/api-keys/{support['id']}")).status_code == 204

        after = bootstrap(database, credentials)

        assert after["OMS_SUPPORT_KEY"] != first["OMS_SUPPORT_KEY"]
        assert {k: v for k, v in after.items() if k != "OMS_SUPPORT_KEY"} == {
            k: v for k, v in first.items() if k != "OMS_SUPPORT_KEY"
        }
        works = await api.get("/v1/orders", headers=bearer(after["OMS_SUPPORT_KEY"]))
        assert works.status_code == 200


async def test_api_keys_from_the_shell_are_shown_once_listed_without_secret_and_revoked(
    database: str, settings: Settings
) -> None:
    created = cli(
        database,
        "api-keys",
        "create",
        "--name",
        "shop-eu",
        "--role",
        "storefront",
        "--channel",
        "eu",
    )
    refused = cli(database, "api-keys", "create", "--name", "x", "--role", "storefront")

    assert created.returncode == 0, created.stderr
    summary, key = created.stdout.splitlines()
    key_id = summary.split()[0]
    assert "storefront@eu" in summary
    assert (refused.returncode, refused.stdout.strip()) == (2, "a storefront key needs a channel")
    listed = cli(database, "api-keys", "list")
    assert key_id in listed.stdout
    assert key not in listed.stdout
    own = settings.model_copy(update={"database_url": database})
    async with serve_api(own, key) as api:
        assert (await api.get("/v1/orders")).status_code == 200
        assert cli(database, "api-keys", "revoke", key_id).returncode == 0
        assert (await api.get("/v1/orders")).status_code == 401
    assert cli(database, "api-keys", "revoke", "key_nope").returncode == 2
