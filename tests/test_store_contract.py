"""The Store contract, run against every implementation.

To add a store, add a param to `store_factory`: a branch that builds handles on one fresh backing
store (and closes them afterwards).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from functions.adapters.store_memory import MemoryStore
from functions.adapters.store_sqlite import SqliteStore
from functions.ports import Store
from tests.contract.store_contract import StoreContract, StoreFactory


@pytest.fixture(params=["memory", "sqlite"])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    opened: list[SqliteStore] = []
    if request.param == "memory":
        shared = MemoryStore()

        def make() -> Store:
            return shared

    elif request.param == "sqlite":

        def make() -> Store:
            store = SqliteStore(tmp_path / "huizong.sqlite3")
            opened.append(store)
            return store

    else:  # pragma: no cover - a param added above without a branch
        raise AssertionError(request.param)
    yield make
    for store in opened:
        store.close()


class TestStoreContract(StoreContract):
    pass
