"""Engines, sessions and migrations for SQLite (WAL, the embedded default) and PostgreSQL."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from sqlalchemy import Table, event, inspect
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlmodel import Session, SQLModel, create_engine

MIGRATIONS = Path(__file__).parent / "migrations"
_POSTGRES_OPTIONS = dict(pool_recycle=1800, hide_parameters=True,
                         connect_args={"application_name": "kyodo-desk", "connect_timeout": 10})


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record):
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
            # Let the "begin" listener below issue BEGIN, not pysqlite's own deferred BEGIN.
            dbapi_connection.isolation_level = None

        @event.listens_for(engine, "begin")
        def _sqlite_begin_immediate(conn):
            # Take the write lock at BEGIN so read-then-write turns serialize instead of failing.
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    # hide_parameters: an error message never carries what a citizen typed into the logs.
    # No pre-ping (a round trip per transaction): a connection found dropped fails its transaction,
    # which is redone (loops) or answered 500 and redelivered (webhooks), and the pool is refreshed.
    return create_engine(url, pool_size=12, max_overflow=8, **_POSTGRES_OPTIONS)


def make_async_engine(engine: Engine) -> AsyncEngine:
    """An async twin of a PostgreSQL engine, for work done on the server's event loop, in
    autocommit: each statement is its own transaction."""
    return create_async_engine(engine.url, pool_size=2, max_overflow=2, isolation_level="AUTOCOMMIT", **_POSTGRES_OPTIONS)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # several processes starting at once migrate one at a time
            connection.exec_driver_sql("SELECT pg_advisory_xact_lock(4242001)")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


@contextmanager
def session_scope(engine: Engine):
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def table_of(model: type[SQLModel]) -> Table:
    """The Core table behind a model, for statements on columns (SQLModel does not declare
    `__table__` to type checkers)."""
    table = inspect(model).local_table
    if not isinstance(table, Table):
        raise TypeError(f"{model.__name__} is not mapped to a single table")
    return table


def rows_affected(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE run by `Session.execute` touched: the session returns
    it as a plain Result in its signature, though a DML statement always yields a CursorResult."""
    return cast(CursorResult[Any], result).rowcount
