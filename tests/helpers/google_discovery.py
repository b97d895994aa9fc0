"""Google's own description of Sheets v4 and Drive v3 (the discovery documents bundled with
google-api-python-client, a dev dependency used for nothing else), and a check of one request against it.

A request is checked the way the real API would refuse it: the method and path name a method of the API,
every query parameter is one that method (or every method) takes, with the right type, enum value and
repetition, the body follows the method's request schema (no unknown field, the right JSON types, enum
values), and beyond the schema's types what Google states in words there: a deprecated field is not
sent, and an update request names the fields it updates ("At least one field must be specified"), each
of them a real, non-deprecated field of the root it is relative to.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

API_DOCUMENTS = ("sheets.v4.json", "drive.v3.json")
_MASK_REQUIRED = "At least one field must be specified"
_ROOT_IMPLIED = re.compile(r"The root [`']?(\w+)[`']? is implied")
_ROOT_IS = re.compile(r"The root is the (\w+)")


def documents_folder() -> Path:
    import googleapiclient

    return Path(googleapiclient.__file__).parent / "discovery_cache" / "documents"


@dataclass(frozen=True)
class Method:
    api: str  # "sheets" or "drive"
    id: str  # e.g. sheets.spreadsheets.values.batchGet
    http_method: str
    pattern: re.Pattern[str]
    parameters: dict[str, Any]
    request: str | None  # the body's schema name


@dataclass(frozen=True)
class Api:
    name: str
    schemas: dict[str, Any]
    methods: tuple[Method, ...]
    global_parameters: dict[str, Any]


def _methods(api: str, base: str, resources: dict[str, Any]) -> list[Method]:
    out: list[Method] = []
    for resource in resources.values():
        for method in resource.get("methods", {}).values():
            path = method.get("flatPath") or method["path"]
            regex = re.sub(r"\\\{\+?[^}]+\\\}", "[^/]+", re.escape(base + path))
            out.append(
                Method(
                    api=api,
                    id=method["id"],
                    http_method=method["httpMethod"],
                    pattern=re.compile(f"^{regex}$"),
                    parameters=method.get("parameters", {}),
                    request=method.get("request", {}).get("$ref"),
                )
            )
        out.extend(_methods(api, base, resource.get("resources", {})))
    return out


@cache
def apis() -> tuple[Api, ...]:
    out = []
    for name in API_DOCUMENTS:
        doc = json.loads((documents_folder() / name).read_text(encoding="utf-8"))
        base = doc["rootUrl"] + doc["servicePath"]
        out.append(
            Api(
                name=doc["name"],
                schemas=doc["schemas"],
                methods=tuple(_methods(doc["name"], base, doc["resources"])),
                global_parameters=doc.get("parameters", {}),
            )
        )
    return tuple(out)


def find_method(http_method: str, url: str) -> tuple[Api, Method] | None:
    parts = urlsplit(url)
    address = f"{parts.scheme}://{parts.netloc}{unquote(parts.path)}"
    for api in apis():
        for method in api.methods:
            if method.http_method == http_method.upper() and method.pattern.match(address):
                return api, method
    return None


def check_request(http_method: str, url: str, body: Any) -> list[str]:
    """Every reason the real API would refuse this request; empty when it conforms."""
    found = find_method(http_method, url)
    if found is None:
        return [f"{http_method} {urlsplit(url).path}: no such method in Sheets v4 or Drive v3"]
    api, method = found
    problems = [f"{method.id}: {p}" for p in _check_query(api, method, url)]
    if method.request is None:
        if body not in (None, b"", ""):
            problems.append(f"{method.id}: takes no body")
    elif body is None:
        problems.append(f"{method.id}: needs a {method.request} body")
    else:
        problems.extend(
            f"{method.id}: {p}" for p in _check_value(api, {"$ref": method.request}, body, "body")
        )
    return problems


def _check_query(api: Api, method: Method, url: str) -> list[str]:
    query = parse_qs(urlsplit(url).query, keep_blank_values=True)
    problems = []
    for name, values in query.items():
        spec = method.parameters.get(name) or api.global_parameters.get(name)
        if spec is None or spec.get("location", "query") != "query":
            problems.append(f"unknown query parameter {name!r}")
            continue
        if len(values) > 1 and not spec.get("repeated"):
            problems.append(f"query parameter {name!r} given {len(values)} times; it is not repeated")
        for value in values:
            problems.extend(_check_scalar(spec, value, f"query {name}", from_text=True))
        if spec.get("deprecated"):
            problems.append(f"query parameter {name!r} is deprecated")
    for name, spec in method.parameters.items():
        if spec.get("location") == "query" and spec.get("required") and name not in query:
            problems.append(f"required query parameter {name!r} missing")
    return problems


def _check_scalar(spec: dict[str, Any], value: Any, where: str, *, from_text: bool = False) -> list[str]:
    kind = spec.get("type")
    if kind == "string":
        # int64/uint64 travel as strings in JSON; a number is accepted there too.
        if (
            spec.get("format") in ("int64", "uint64")
            and isinstance(value, int)
            and not isinstance(value, bool)
        ):
            return []
        if not isinstance(value, str):
            return [f"{where}: {value!r} is not a string"]
        if "enum" in spec and value not in spec["enum"]:
            return [f"{where}: {value!r} is not one of {spec['enum']}"]
        return []
    if kind == "integer":
        if from_text:
            return [] if re.fullmatch(r"-?\d+", str(value)) else [f"{where}: {value!r} is not an integer"]
        ok = isinstance(value, int) and not isinstance(value, bool)
        return [] if ok else [f"{where}: {value!r} is not an integer"]
    if kind == "number":
        if from_text:
            try:
                float(value)
            except ValueError:
                return [f"{where}: {value!r} is not a number"]
            return []
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"{where}: {value!r} is not a number"]
    if kind == "boolean":
        if from_text:
            return [] if value in ("true", "false") else [f"{where}: {value!r} is not true or false"]
        return [] if isinstance(value, bool) else [f"{where}: {value!r} is not a boolean"]
    return []


def _check_value(api: Api, spec: dict[str, Any], value: Any, where: str) -> list[str]:
    if "$ref" in spec:
        return _check_object(api, spec["$ref"], value, where)
    kind = spec.get("type")
    if kind == "array":
        if not isinstance(value, list):
            return [f"{where}: {type(value).__name__} where a list is expected"]
        out = []
        for i, item in enumerate(value):
            out.extend(_check_value(api, spec.get("items", {}), item, f"{where}[{i}]"))
        return out
    if kind == "object":
        if not isinstance(value, dict):
            return [f"{where}: {type(value).__name__} where an object is expected"]
        extra = spec.get("additionalProperties")
        if extra is None:
            return []
        out = []
        for key, item in value.items():
            out.extend(_check_value(api, extra, item, f"{where}.{key}"))
        return out
    if kind == "any" or kind is None:
        return []
    return _check_scalar(spec, value, where)


def _check_object(api: Api, name: str, value: Any, where: str) -> list[str]:
    schema = api.schemas[name]
    if schema.get("type") != "object":
        return _check_value(api, schema, value, where)
    if not isinstance(value, dict):
        return [f"{where}: {type(value).__name__} where a {name} object is expected"]
    properties = schema.get("properties", {})
    out = []
    for key, item in value.items():
        spec = properties.get(key)
        if spec is None:
            out.append(f"{where}.{key}: no such field in {name}")
            continue
        if spec.get("deprecated"):
            out.append(f"{where}.{key}: deprecated ({spec.get('description', '').strip()})")
        out.extend(_check_value(api, spec, item, f"{where}.{key}"))
    mask = properties.get("fields")
    if mask is not None and _MASK_REQUIRED in mask.get("description", ""):
        if not value.get("fields"):
            out.append(f"{where}: {name} needs `fields` ({_MASK_REQUIRED.lower()})")
        else:
            root = _mask_root(api, name)
            if root is not None:
                out.extend(_check_mask(api, root, str(value["fields"]), f"{where}.fields"))
    return out


def _mask_root(api: Api, request: str) -> str | None:
    """The schema an update request's `fields` is relative to, as its description states."""
    properties = api.schemas[request]["properties"]
    text = properties["fields"].get("description", "")
    if m := _ROOT_IS.search(text):
        return m.group(1) if m.group(1) in api.schemas else None
    if (m := _ROOT_IMPLIED.search(text)) and m.group(1) in properties:
        ref = properties[m.group(1)].get("$ref")
        return ref if ref in api.schemas else None
    return None


def mask_paths(mask: str) -> list[str]:
    """ "a,b(c,d.e),f" → a, b.c, b.d.e, f."""
    out: list[str] = []
    stack: list[str] = []
    token = ""
    for ch in mask + ",":
        if ch == "(":
            stack.append(token.strip())
            token = ""
        elif ch in ",)":
            if token.strip():
                out.append(".".join([*stack, token.strip()]))
            token = ""
            if ch == ")":
                stack.pop()
        else:
            token += ch
    return out


def _check_mask(api: Api, root: str, mask: str, where: str) -> list[str]:
    if mask.strip() == "*":
        return []
    out = []
    for path in mask_paths(mask):
        schema_name: str | None = root
        for part in path.split("."):
            if schema_name is None:
                break  # below a scalar or a map: Google checks no further, neither do we
            spec = api.schemas[schema_name].get("properties", {}).get(part)
            if spec is None:
                out.append(f"{where}: {path!r}: {schema_name} has no field {part!r}")
                break
            if spec.get("deprecated"):
                out.append(f"{where}: {path!r}: {schema_name}.{part} is deprecated")
            schema_name = spec.get("$ref") or spec.get("items", {}).get("$ref")
    return out
