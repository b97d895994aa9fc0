"""One botocore session and one client per service per cold start (botocore clients are thread-safe).

botocore is used directly: boto3 only adds a resource layer these functions do not use.
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any


def region() -> str | None:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


class PlainJsonFileLoader:
    """botocore's model file loader (the same files, .json or .json.gz), returning plain dicts.

    botocore parses its models with object_pairs_hook=OrderedDict, which makes json.loads two to three
    times slower. Dicts keep their order, and nothing in botocore relies on what else OrderedDict adds;
    a cold start parses endpoints.json (1.2 MB) and each client's model and endpoint rules, so this
    saves some 20-30 ms of it (docs/cold-start.md)."""

    SUFFIXES = (".json", ".json.gz")

    def exists(self, file_path: str) -> bool:
        # Gzipped first: botocore asks this of every service's folder, and most models are gzipped.
        return any(os.path.isfile(file_path + suffix) for suffix in reversed(self.SUFFIXES))

    def load_file(self, file_path: str) -> Any:
        import gzip

        for suffix in self.SUFFIXES:
            path = file_path + suffix
            if os.path.isfile(path):
                with (gzip.open if suffix.endswith(".gz") else open)(path, "rb") as fp:
                    return json.loads(fp.read().decode("utf-8"))
        return None


@cache
def _session() -> Any:
    import botocore.session

    session = botocore.session.get_session()
    # The session's own loader (it honours AWS_DATA_PATH), reading its files faster.
    session.get_component("data_loader").file_loader = PlainJsonFileLoader()
    return session


# The S3 store reads versions on 16 threads; a smaller pool would make them queue for connections.
S3_POOL = 24


_clients_created: list[str] = []


def clients_created() -> tuple[str, ...]:
    """The services a client was created for since the cold start, in order (what the cold start paid)."""
    return tuple(_clients_created)


@cache
def client(service: str) -> Any:
    """One botocore client per service per cold start (the same object boto3.client would return)."""
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 4})
    if service == "s3":
        # SigV4 for presigned links too: the only signature newer regions accept.
        config = config.merge(Config(signature_version="s3v4", max_pool_connections=S3_POOL))
    created = _session().create_client(service, region_name=region(), config=config)
    _clients_created.append(service)
    return created


def reset() -> None:
    client.cache_clear()
    _session.cache_clear()
    _clients_created.clear()
