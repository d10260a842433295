from __future__ import annotations

import pytest

import support


@pytest.fixture(scope="session")
def workos():
    client = support.make_client()
    yield client
    client.close()


@pytest.fixture(scope="session")
def workos_no_retry():
    client = support.make_client(max_retries=0)
    yield client
    client.close()


def pytest_report_header(config):
    import workos

    version = getattr(workos, "__version__", None)
    if version is None:
        try:
            from importlib.metadata import version as dist_version

            version = dist_version("workos")
        except Exception:  # pragma: no cover
            version = "unknown"
    return [f"workos (Python SDK) {version}; server {support.PORTICO_URL}"]


def pytest_terminal_summary(terminalreporter):
    if support.NOTES:
        terminalreporter.section("compatibility notes")
        for line in support.NOTES:
            terminalreporter.write_line(line)
