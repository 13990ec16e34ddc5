"""The secrets of `make run`, made on its first start and kept under the data folder (0600).

`secret.key` keys the hashes of API keys (OMS_SECRET_KEY); `payload.keys` holds the key that
encrypts Temporal payloads (OMS_PAYLOAD_KEYS_FILE, security/payloads.py). Both survive restarts
with the data they protect: deleting `payload.keys` makes the stored histories unreadable.
What the environment (or `.env`) already sets is used instead and nothing is written for it.
"""

import os
import secrets
import sys
from pathlib import Path

from security.payloads import new_key
from settings import Settings

SECRET_FILE = "secret.key"
PAYLOAD_KEYS_FILE = "payload.keys"
PAYLOAD_KEYS_HEADER = (
    "# Temporal payload keys, id:base64key, one a line. The first encrypts, all decrypt.\n"
    "# Rotate: add a new key as the first line, keep the old ones until their histories age out.\n"
)


def child_secrets(settings: Settings, data_dir: Path) -> dict[str, str]:
    """The OMS_ variables the worker and the API need for the secrets the settings lack."""
    env: dict[str, str] = {}
    if settings.secret_key is None and settings.secret_key_file is None:
        secret = _create_once(data_dir / SECRET_FILE, secrets.token_urlsafe(32) + "\n")
        env["OMS_SECRET_KEY"] = secret.read_text().strip()
    if settings.payload_keys is None and settings.payload_keys_file is None:
        keys = _create_once(data_dir / PAYLOAD_KEYS_FILE, PAYLOAD_KEYS_HEADER + new_key().line())
        env["OMS_PAYLOAD_KEYS_FILE"] = str(keys)
    return env


def _create_once(path: Path, content: str) -> Path:
    """`path`, written with `content` (owner-only) unless it exists; never overwritten."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    with os.fdopen(descriptor, "w") as file:
        file.write(content if content.endswith("\n") else content + "\n")
    print(f"devstack: wrote {path} (keep it: it is needed to read what it protects)", flush=True)
    return path


def write_secrets(directory: Path) -> None:
    """`python -m devstack.secrets DIR`: both files in DIR unless there (docker-compose's
    one-shot `secrets` service, into a volume only the API and the worker mount)."""
    _create_once(directory / SECRET_FILE, secrets.token_urlsafe(32) + "\n")
    _create_once(directory / PAYLOAD_KEYS_FILE, PAYLOAD_KEYS_HEADER + new_key().line())


if __name__ == "__main__":
    write_secrets(Path(sys.argv[1]))
