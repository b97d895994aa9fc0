"""The artifact store on one machine: files under the campaign's out/ folder, written atomically."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from functions.atomic_file import write_atomically


class FolderArtifacts:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        parts = PurePosixPath(key).parts
        if not parts or key.startswith("/") or ".." in parts or "\\" in key:
            raise ValueError(f"文件名 {key!r} 无效 / invalid artifact name")
        return self.root.joinpath(*parts)

    def put(self, key: str, data: bytes, *, content_type: str, download_name: str | None = None) -> str:
        path = self._path(key)
        write_atomically(path, data)
        return str(path)

    def get(self, key: str) -> bytes | None:
        path = self._path(key)
        return path.read_bytes() if path.is_file() else None

    def link(self, key: str, *, expires_s: int, download_name: str | None = None) -> str:
        # On one machine the organiser opens the file itself; it does not expire.
        return str(self._path(key).resolve())
