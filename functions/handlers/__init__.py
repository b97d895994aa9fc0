"""AWS Lambda entry points: thin, event in → the same services the CLI uses → response out."""

import os
import sys
import types
from collections.abc import Iterable
from typing import Any

# pydantic looks for plugins once per process by reading the entry points of every distribution in the
# package (importlib.metadata), on the first model class built; huizong uses none, and a Lambda cold
# start pays the scan before its first request (docs/cold-start.md). setdefault: a deployment that does
# want a plugin sets the variable itself.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

_LOADER = "pydantic.plugin._loader"
_ALL_OFF = ("__all__", "1", "true")  # the values for which pydantic's own get_plugins returns ()


def _no_plugins() -> Iterable[Any]:
    """What pydantic's get_plugins answers when every plugin is off, without importing importlib.metadata
    (with email, zipfile and csv: about 4 % of the webhook's cold start) only to look nothing up.
    Should the variable have changed since, pydantic's own loader answers."""
    if os.environ.get("PYDANTIC_DISABLE_PLUGINS") in _ALL_OFF:
        return ()
    del sys.modules[_LOADER]
    from pydantic.plugin._loader import get_plugins

    return get_plugins()


# pydantic imports its loader (`from ._loader import get_plugins`) when it builds the first model; a
# module already in sys.modules under that name is what the import returns. Only when every plugin is
# off and the real loader is not loaded yet; tests/unit/test_handlers_package.py checks in a fresh
# interpreter that the real loader is never imported and models still validate, so a pydantic release
# that reaches its plugins another way fails that test rather than silently scanning again.
if os.environ["PYDANTIC_DISABLE_PLUGINS"] in _ALL_OFF and _LOADER not in sys.modules:
    _stand_in = types.ModuleType(_LOADER, "huizong: pydantic's plugin loader with every plugin off")
    _stand_in.get_plugins = _no_plugins  # type: ignore[attr-defined]
    sys.modules[_LOADER] = _stand_in
