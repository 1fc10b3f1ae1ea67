import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
DEV_QUESTIONS = SHARED / "eval" / "dev-questions.jsonl"


@pytest.fixture(scope="session", autouse=True)
def _isolated_cache(tmp_path_factory):
    os.environ["KYODO_CACHE_DIR"] = str(tmp_path_factory.mktemp("kyodo-cache"))
    os.environ.pop("KYODO_KNOWLEDGE_DIR", None)


@pytest.fixture(scope="session")
def kb():
    from knowledge.base import load_knowledge

    return load_knowledge(cache_dir=os.environ["KYODO_CACHE_DIR"])


PG_URL = os.environ.get("KYODO_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _postgres_reachable() -> str | None:
    import psycopg

    try:
        psycopg.connect(PG_URL.replace("postgresql+psycopg", "postgresql"), connect_timeout=3).close()
        return None
    except Exception as exc:  # any failure means: not here
        return f"PostgreSQL not reachable at {PG_URL}: {exc.__class__.__name__}"


@pytest.fixture(scope="session")
def postgres_url():
    reason = _postgres_reachable()
    if reason:
        if os.environ.get("KYODO_REQUIRE_POSTGRES") == "1":
            pytest.fail(reason + " (KYODO_REQUIRE_POSTGRES=1: PostgreSQL tests may not skip)")
        pytest.skip(reason)
    return PG_URL


def _fresh_postgres(url: str):
    """An engine on a schema of its own, dropped afterwards."""
    import uuid

    from sqlalchemy import create_engine, text

    from store.db import make_engine

    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url + ("&" if "?" in url else "?") + f"options=-csearch_path%3D{schema}")

    def drop():
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return engine, drop


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """A migrated, empty database: SQLite (WAL) file and PostgreSQL."""
    from store.db import make_engine, migrate

    if request.param == "sqlite":
        engine, cleanup = make_engine(f"sqlite:///{tmp_path / 'desk.db'}"), None
    else:
        engine, cleanup = _fresh_postgres(request.getfixturevalue("postgres_url"))
    migrate(engine)
    yield engine
    engine.dispose()
    if cleanup:
        cleanup()


def _conforming(mock):
    """Stop the mock, then fail the test if any request broke the platform's documented limits."""
    mock.stop()
    assert not mock.violations, f"payloads the platform would refuse: {mock.violations[:5]}"


@pytest.fixture
def line_api():
    from tests.support.mock_platform import MockPlatform
    from tests.support.platform_limits import line_refusal, line_violations

    mock = MockPlatform(default_body={"sentMessages": [{"id": "1", "quoteToken": "q"}]},
                        limits=line_violations, refuse=line_refusal).start()
    yield mock
    _conforming(mock)


@pytest.fixture
def line_server(db, kb, line_api):
    """The real app (SQLite or PostgreSQL) with LINE switched on against the mock LINE API."""
    from app.server import create_app
    from app.settings import Settings
    from bot.runtime import Desk
    from tests.support.live import LINE_SECRET, LINE_TOKEN, LiveServer

    settings = Settings(line_channel_secret=LINE_SECRET, line_channel_access_token=LINE_TOKEN,
                        line_api_base_url=line_api.url)
    with LiveServer(create_app(settings, Desk(db, kb, settings.desk), run_scheduler=False)) as server:
        server.db, server.line = db, line_api
        yield server


@pytest.fixture
def slack_api():
    from tests.support.mock_platform import MockPlatform
    from tests.support.platform_limits import slack_refusal, slack_violations
    from tests.support.slack_fake import slack_api_answers

    mock = MockPlatform(default_body={"ok": True}, limits=slack_violations, refuse=slack_refusal).start()
    slack_api_answers(mock)
    yield mock
    _conforming(mock)


@pytest.fixture
def desk_server(db, kb, line_api, slack_api):
    """The real app with LINE and the Slack staff desk switched on, against both mocks; the web
    chat's process-wide rate out of reach of a test's quick requests (test_web_flood.py tests it)."""
    from app.server import create_app
    from app.settings import Settings
    from bot.runtime import Desk
    from tests.support.live import LINE_SECRET, LINE_TOKEN, LiveServer
    from tests.support.slack_fake import SLACK_SECRET, STAFF_CHANNEL

    settings = Settings(line_channel_secret=LINE_SECRET, line_channel_access_token=LINE_TOKEN,
                        line_api_base_url=line_api.url, slack_bot_token="xoxb-test", slack_signing_secret=SLACK_SECRET,
                        slack_api_url=slack_api.url + "/", slack_staff_channel=STAFF_CHANNEL,
                        slack_staff_user_ids=("USTAFF1", "USTAFF2"), web_messages_per_second=100_000)
    with LiveServer(create_app(settings, Desk(db, kb, settings.desk), run_scheduler=False)) as server:
        server.db, server.line, server.slack = db, line_api, slack_api
        yield server


SLOW_FOLDERS = ("e2e", "reliability", "security")


def pytest_collection_modifyitems(config, items):
    """Tests that start servers, browsers or processes are `slow`: `pytest -m "not slow"` is the quick loop."""
    for item in items:
        if Path(str(item.fspath)).parent.name in SLOW_FOLDERS:
            item.add_marker(pytest.mark.slow)
