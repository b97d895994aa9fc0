"""AWS Lambda entry points: thin, event in → the same services the CLI uses → response out."""

import os

# pydantic looks for plugins once per process by reading the entry points of every distribution in the
# package (importlib.metadata), on the first model class built; huizong uses none, and a Lambda cold
# start pays the scan before its first request (docs/cold-start.md). setdefault: a deployment that does
# want a plugin sets the variable itself.
os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
