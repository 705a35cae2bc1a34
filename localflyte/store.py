"""SQLite persistence for localflyte.

One connection, one lock: gRPC serves calls on a thread pool, and SQLite serialises writers anyway.
Holding the lock for a whole transaction makes every read-check-write sequence (digest comparison,
launch-plan activation, execution-name collision) atomic, which is what FlyteAdmin gets from
Postgres unique keys and transactions.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Row = sqlite3.Row


class Store:
    """A thread-safe SQLite database; each manager creates its own tables through :meth:`ensure_schema`."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._connection = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._connection.row_factory = sqlite3.Row
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=NORMAL")
        self._connection.execute("PRAGMA foreign_keys=ON")
        self._depth = 0

    def ensure_schema(self, ddl: str) -> None:
        """Create tables and indexes if they do not exist (statements must use IF NOT EXISTS)."""
        with self._lock:
            self._connection.executescript(ddl)

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """Run the block atomically; nested blocks join the outer transaction."""
        with self._lock:
            outermost = self._depth == 0
            if outermost:
                self._connection.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._depth -= 1
                if outermost:
                    self._connection.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outermost:
                self._connection.execute("COMMIT")

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        """Run one write statement; returns the number of rows changed."""
        with self._lock:
            return self._connection.execute(sql, parameters).rowcount

    def insert(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        """Run one INSERT; returns the new row id."""
        with self._lock:
            cursor = self._connection.execute(sql, parameters)
            return int(cursor.lastrowid or 0)

    def query(self, sql: str, parameters: Sequence[Any] = ()) -> list[Row]:
        with self._lock:
            return list(self._connection.execute(sql, parameters).fetchall())

    def query_one(self, sql: str, parameters: Sequence[Any] = ()) -> Row | None:
        with self._lock:
            row: Row | None = self._connection.execute(sql, parameters).fetchone()
            return row

    def close(self) -> None:
        with self._lock:
            self._connection.close()
