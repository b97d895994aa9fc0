"""The default form is parsed with libyaml's parser when PyYAML has it (schemas/campaign.py, for the cold
start); it must give exactly what PyYAML's pure-Python safe loader gives."""

from __future__ import annotations

from importlib import resources

import yaml

from schemas import campaign as campaign_schema
from schemas.formspec import FormSpec


def test_the_default_form_reads_the_same_with_either_parser() -> None:
    text = resources.files("schemas").joinpath("default_form.yaml").read_text(encoding="utf-8")
    pure = yaml.load(text, Loader=yaml.SafeLoader)
    assert yaml.load(text, Loader=campaign_schema._PACKAGED_YAML_LOADER) == pure
    assert campaign_schema.default_form_spec() == FormSpec.model_validate(pure)


def test_the_fast_parser_is_used_where_pyyaml_has_it() -> None:
    # PyYAML's wheels bundle libyaml; a build without it falls back to the pure parser, same data.
    expected = yaml.CSafeLoader if getattr(yaml, "__with_libyaml__", False) else yaml.SafeLoader
    assert campaign_schema._PACKAGED_YAML_LOADER is expected
