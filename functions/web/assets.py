"""The web form's static files: fingerprinted URLs, long caching, and compression of text responses.

Every asset is referred to as `/static/<name>?v=<digest of its bytes>`. A request carrying the current
digest gets a year of caching (`immutable`): a phone on a slow network loads the style sheet and the
script once per release, and a new release changes the digest, hence the URL, so nobody keeps an old
copy. A request without it (or with an old digest) is answered `no-cache`: the browser revalidates with
the ETag Starlette's StaticFiles sends, which costs a 304 and no body.
"""

from __future__ import annotations

import hashlib
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

STATIC = Path(__file__).parent / "static"
IMMUTABLE = b"public, max-age=31536000, immutable"
REVALIDATE = b"no-cache"
# Below this a compressed body saves less than gzip's own overhead costs on a phone.
GZIP_MIN_BYTES = 500


class Assets:
    """The digests of the static files, read once when the app is built."""

    def __init__(self, folder: Path = STATIC) -> None:
        self.digests = {
            path.name: hashlib.sha256(path.read_bytes()).hexdigest()[:12]
            for path in sorted(folder.iterdir())
            if path.is_file()
        }

    def url(self, name: str) -> str:
        """The URL a page uses for a static file (a name that is not there is a bug: KeyError)."""
        return f"/static/{name}?v={self.digests[name]}"

    def cache_control(self, scope: MutableMapping[str, Any]) -> bytes:
        """The Cache-Control of a request for /static/<name>."""
        name = str(scope["path"]).removeprefix("/static/")
        wanted = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v", [""])[0]
        current = self.digests.get(name)
        return IMMUTABLE if current is not None and wanted == current else REVALIDATE
