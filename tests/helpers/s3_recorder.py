"""A boto3 S3 client that records what it is asked: the tests and bench/bench_s3_peers.py count the
requests and bytes of one submission with it (moto behind it, or any client)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Recorded:
    gets: list[tuple[str, int]] = field(default_factory=list)  # (key, bytes) of each GetObject (0: missing)
    puts: list[tuple[str, int]] = field(default_factory=list)  # (key, bytes) of each PutObject sent
    lists: list[str] = field(default_factory=list)  # the prefix of each listing (one per page)
    deletes: int = 0

    def clear(self) -> None:
        self.gets.clear()
        self.puts.clear()
        self.lists.clear()
        self.deletes = 0

    def summary(self) -> dict[str, int]:
        return {
            "requests": len(self.gets) + len(self.puts) + len(self.lists) + self.deletes,
            "gets": len(self.gets),
            "puts": len(self.puts),
            "lists": len(self.lists),
            "bytes_read": sum(n for _, n in self.gets),
            "bytes_written": sum(n for _, n in self.puts),
            "largest_read": max((n for _, n in self.gets), default=0),
        }


class RecordingClient:
    """Delegates to `client`; GetObject bodies are read here so their size is known, and handed on."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.recorded = Recorded()

    def get_object(self, **kwargs: Any) -> Any:
        import io

        try:
            reply = self._client.get_object(**kwargs)
        except Exception:
            self.recorded.gets.append((kwargs["Key"], 0))  # a missing key is a request too
            raise
        body = reply["Body"].read()
        self.recorded.gets.append((kwargs["Key"], len(body)))
        return {**reply, "Body": io.BytesIO(body)}

    def put_object(self, **kwargs: Any) -> Any:
        self.recorded.puts.append((kwargs["Key"], len(kwargs.get("Body", b""))))
        return self._client.put_object(**kwargs)

    def delete_object(self, **kwargs: Any) -> Any:
        self.recorded.deletes += 1
        return self._client.delete_object(**kwargs)

    def delete_objects(self, **kwargs: Any) -> Any:
        self.recorded.deletes += 1
        return self._client.delete_objects(**kwargs)

    def get_paginator(self, name: str) -> Any:
        paginator = self._client.get_paginator(name)
        recorded = self.recorded

        class _Pages:
            def paginate(self, **kwargs: Any) -> Any:
                for page in paginator.paginate(**kwargs):
                    recorded.lists.append(kwargs.get("Prefix", ""))
                    yield page

        return _Pages()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)
