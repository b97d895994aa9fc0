"""The Store contract, run against every implementation.

To add a store, add a param to `store_factory`: a branch that builds handles on one fresh backing
store (and closes them afterwards).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from functions.adapters.store.memory import MemoryStore
from functions.adapters.store.s3 import S3Store
from functions.adapters.store.sqlite import SqliteStore
from functions.ports import Store
from tests.contract.store_contract import StoreContract, StoreFactory
from tests.contract.store_versions_contract import VersionsByKeyContract
from tests.fakes.aws import BUCKET, PREFIX, moto_s3


@pytest.fixture(params=["memory", "sqlite", "s3"])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreFactory]:
    opened: list[SqliteStore | S3Store] = []
    stack = ExitStack()
    if request.param == "memory":
        shared = MemoryStore()

        def make() -> Store:
            return shared

    elif request.param == "sqlite":

        def make() -> Store:
            store = SqliteStore(tmp_path / "huizong.sqlite3")
            opened.append(store)
            return store

    elif request.param == "s3":
        # moto's S3 with a versioned bucket; each handle gets its own boto3 client, as separate Lambda
        # instances would.
        stack.enter_context(moto_s3(request.getfixturevalue("monkeypatch")))

        def make() -> Store:
            store = S3Store(BUCKET, PREFIX)
            opened.append(store)
            return store

    else:  # pragma: no cover - a param added above without a branch
        raise AssertionError(request.param)
    with stack:
        yield make
        for store in opened:
            store.close()


class TestStoreContract(StoreContract, VersionsByKeyContract):
    pass
