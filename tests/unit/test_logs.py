"""What the server's log shows: the desk's own lines, library warnings, no library chatter and
no request bodies."""
import logging

import pytest

from app import logs


@pytest.fixture(autouse=True)
def root_at_debug():
    """The root logger lets everything through, so only the desk's own levels hold lines back."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    yield
    root.setLevel(level)


def test_library_chatter_is_held_back_but_its_warnings_show():
    for name in ("bm25s", "alembic.runtime.migration", "apscheduler.scheduler"):
        logging.getLogger(name).setLevel(logging.NOTSET)
    logs.protect()
    for name in ("bm25s", "alembic.runtime.migration", "apscheduler.scheduler"):
        logger = logging.getLogger(name)
        assert not logger.isEnabledFor(logging.INFO), name
        assert logger.isEnabledFor(logging.WARNING), name


def test_clients_that_log_request_bodies_show_errors_only():
    logs.protect()
    for name in ("slack_sdk.web.base_client", "linebot", "httpx", "apscheduler.executors.default"):
        logger = logging.getLogger(name)
        assert not logger.isEnabledFor(logging.WARNING), name
        assert logger.isEnabledFor(logging.ERROR), name
