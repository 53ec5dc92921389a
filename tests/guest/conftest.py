"""Guest-side pytest setup: a work directory, a subreaper, and console
markers so the host can tell which test a kernel message belongs to."""

import os

import pytest

import crlib


@pytest.fixture(scope="session", autouse=True)
def guest_session():
    crlib.WORK.mkdir(parents=True, exist_ok=True)
    if os.path.exists("/proc/self"):
        crlib.become_subreaper()
    yield


@pytest.fixture
def image(tmp_path):
    return tmp_path / "image.cr"


def pytest_runtest_logstart(nodeid, location):
    crlib.kmsg(f"cr-test: START {nodeid}")


def pytest_runtest_logfinish(nodeid, location):
    crlib.kmsg(f"cr-test: END {nodeid}")
