"""Example campaigns shipped as data (functions/examples/<name>/): no code knows either campaign."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from functions.config.loading import ConfigError
from schemas.i18n import t


def example_names() -> list[str]:
    root = resources.files("functions").joinpath("examples")
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith(("_", ".")))


def write_example(folder: Path, name: str, *, force: bool = False) -> list[Path]:
    # No campaign is loaded yet, so its language is unknown: problems are told in both.
    if name not in example_names():
        names = ", ".join(example_names())
        raise ConfigError(
            [
                t(
                    None,
                    f"没有名为 {name} 的示例；可选：{names}",
                    f"no example named {name}; choose one of: {names}",
                )
            ]
        )
    src = resources.files("functions").joinpath("examples", name)
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for fname in ("campaign.yaml", "units.csv"):
        dest = folder / fname
        if dest.exists() and not force:
            raise ConfigError(
                [
                    t(
                        None,
                        f"{dest} 已存在；如要覆盖请加 --force",
                        f"{dest} exists; add --force to overwrite it",
                    )
                ]
            )
        dest.write_bytes(src.joinpath(fname).read_bytes())
        written.append(dest)
    (folder / "inbox").mkdir(exist_ok=True)
    return written
