"""What every localflyte component receives: settings, the store and the clock."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from localflyte.settings import ServerSettings
from localflyte.store import Store


class Clock:
    """Wall-clock time plus an offset that tests advance to fire schedules without sleeping."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._lock = threading.Lock()
        store.ensure_schema("CREATE TABLE IF NOT EXISTS clock (id INTEGER PRIMARY KEY CHECK (id = 1), offset REAL);")
        row = store.query_one("SELECT offset FROM clock WHERE id = 1")
        self._offset = float(row["offset"]) if row else 0.0

    def now(self) -> float:
        """Seconds since the epoch, as localflyte sees them."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        """Move localflyte's time forward (persisted, so a restart keeps the same notion of now)."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds
            self._store.execute(
                "INSERT INTO clock (id, offset) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET offset = excluded.offset",
                (self._offset,),
            )
        return self.now()


@dataclass(frozen=True)
class AppContext:
    settings: ServerSettings
    store: Store
    clock: Clock
