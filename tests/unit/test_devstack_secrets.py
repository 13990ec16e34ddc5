"""`make run`'s secrets (devstack/secrets.py): made once, owner-only, kept, never overriding
what the environment sets; and its Temporal UI decodes through the API's codec."""

import stat
from pathlib import Path

from devstack.secrets import PAYLOAD_KEYS_FILE, SECRET_FILE, child_secrets
from devstack.temporal import EmbeddedTemporal
from security.payloads import data_converter, load_keys
from settings import Settings
from tests.harness.keys import TEST_PAYLOAD_KEYS, TEST_SECRET

UNSET = Settings(secret_key=None, payload_keys=None, payload_keys_file=None)


def test_the_first_start_writes_a_server_secret_and_a_payload_key_only_the_owner_reads(
    tmp_path: Path,
) -> None:
    env = child_secrets(UNSET, tmp_path)

    keys_file = Path(env["OMS_PAYLOAD_KEYS_FILE"])
    assert keys_file == tmp_path / PAYLOAD_KEYS_FILE
    assert env["OMS_SECRET_KEY"] == (tmp_path / SECRET_FILE).read_text().strip()
    for path in (keys_file, tmp_path / SECRET_FILE):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    children = Settings(payload_keys=None, payload_keys_file=keys_file)
    assert len(load_keys(children)) == 1
    assert data_converter(children).payload_codec is not None


def test_later_starts_keep_the_same_secrets(tmp_path: Path) -> None:
    first = child_secrets(UNSET, tmp_path)
    written = (tmp_path / PAYLOAD_KEYS_FILE).read_text()

    assert child_secrets(UNSET, tmp_path) == first
    assert (tmp_path / PAYLOAD_KEYS_FILE).read_text() == written


def test_secrets_the_environment_sets_are_used_and_nothing_is_written(tmp_path: Path) -> None:
    configured = Settings(secret_key=TEST_SECRET, payload_keys=TEST_PAYLOAD_KEYS)

    assert child_secrets(configured, tmp_path) == {}
    assert list(tmp_path.iterdir()) == []


def test_the_temporal_ui_is_pointed_at_the_codec_endpoint(tmp_path: Path) -> None:
    codec = "http://127.0.0.1:8000/codec"
    with_ui = EmbeddedTemporal(tmp_path, port=7233, ui_port=8233, codec_endpoint=codec)
    headless = EmbeddedTemporal(tmp_path, port=7233, codec_endpoint=codec)

    command = with_ui._command()

    assert command[command.index("--ui-codec-endpoint") + 1] == codec
    assert "--ui-codec-endpoint" not in headless._command()
