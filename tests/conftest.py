"""Shared fixtures. In this process the credential chain never probes the ECS metadata address, and nothing leaves
127.0.0.1. Proxy variables from the developer's shell stay: the bot must reach loopback directly whatever they say."""

from __future__ import annotations

import os

# Set before anything imports alibabacloud_credentials: it reads these variables once, at import. Tests of the ECS
# RAM role run `python -m bot` without it, against harness.proxy's stand-in metadata service.
os.environ["ALIBABA_CLOUD_ECS_METADATA_DISABLED"] = "true"

import pytest  # noqa: E402

from bot.sandbox import CccServer, sample_instances  # noqa: E402


@pytest.fixture(scope="session")
def sample_data() -> dict[str, list[dict]]:
    return sample_instances()


@pytest.fixture(scope="session")
def _shared_ccc_server(sample_data):
    # One server for the session: stopping one costs up to 0.5 s (serve_forever's poll interval).
    server = CccServer(sample_data).start()
    yield server
    server.stop()


@pytest.fixture
def ccc_server(_shared_ccc_server):
    """The sandbox CCC on 127.0.0.1 with the sample data, its call counter at 0 and no faults queued."""
    server = _shared_ccc_server
    server.clear_faults()
    server.latency = 0.0
    server.calls = 0
    yield server
    server.clear_faults()
    server.latency = 0.0
    assert_no_handler_errors(server)


def assert_no_handler_errors(server: CccServer) -> None:
    """A test that made the CCC stand-in fail in its own code passed, if it did, for the wrong reason."""
    errors, server.handler_errors[:] = list(server.handler_errors), []
    assert not errors, f"the CCC stand-in failed in its own code (its traceback is in the log): {errors!r}"
