"""Helpers shared by the tests: servers, stand-ins, polling. Fixtures stay in conftest.py."""
