"""The service account's key: found in a file, an environment variable or SSM, never logged.

Sources are tried in the order the campaign file documents (file, env var, SSM SecureString); the first
one found wins. Errors name the sources tried and how to fix them, but never echo the key: pydantic's and
json's messages can quote the input, so only field names and positions are reported.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from google.oauth2 import service_account
from pydantic import BaseModel, ConfigDict, ValidationError

from schemas.formspec import Language
from schemas.google import GoogleSettings

SCOPES: tuple[str, ...] = (
    "https://www.googleapis.com/auth/spreadsheets",
    "https://www.googleapis.com/auth/drive",
)

Source = Literal["file", "env", "ssm"]
# Set by infra/template.yaml on the cloud functions: the SSM parameter holding the key.
SSM_PARAM_ENV = "HUIZONG_GOOGLE_CREDENTIALS_PARAM"


class GoogleCredentialsError(Exception):
    """No usable key: the message (Chinese or English) says which sources were tried and what to do."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


class ServiceAccountKey(BaseModel):
    """The fields of a Google service-account JSON key that we rely on; the rest passes through."""

    model_config = ConfigDict(extra="allow")

    type: Literal["service_account"]
    client_email: str
    private_key: str
    token_uri: str = "https://oauth2.googleapis.com/token"


class LoadedKey(BaseModel):
    model_config = ConfigDict(frozen=True)

    source: Source
    where: str  # the path, variable name or parameter name (never the key)
    client_email: str


_TEXT: dict[str, dict[Language, str]] = {
    "none": {
        "zh": "未找到 Google 服务账号密钥。已尝试：",
        "en": "No Google service-account key found. Tried:",
    },
    "file_missing": {"zh": "  文件 {where}：不存在", "en": "  file {where}: does not exist"},
    "file_unset": {
        "zh": "  文件：campaign.yaml 未设置 google.credentials_file",
        "en": "  file: google.credentials_file is not set",
    },
    "env_unset": {"zh": "  环境变量 {where}：未设置", "en": "  environment variable {where}: not set"},
    "env_path_missing": {
        "zh": "  环境变量 {where} 指向的文件不存在",
        "en": "  environment variable {where} names a file that does not exist",
    },
    "ssm_unset": {
        "zh": "  SSM 参数：未设置 google.credentials_ssm（或环境变量 HUIZONG_GOOGLE_CREDENTIALS_PARAM）",
        "en": "  SSM parameter: neither google.credentials_ssm nor HUIZONG_GOOGLE_CREDENTIALS_PARAM is set",
    },
    "ssm_failed": {
        "zh": "  SSM 参数 {where}：读取失败（{why}）",
        "en": "  SSM parameter {where}: could not be read ({why})",
    },
    "fix": {
        "zh": "解决办法：在 Google Cloud 控制台为服务账号创建 JSON 密钥，然后任选其一："
        "把 JSON 内容（或文件路径）放入环境变量 {env}；或在 campaign.yaml 的 google.credentials_file 填写"
        "密钥文件路径（相对于活动文件夹，切勿提交到代码库）；或存入 SSM SecureString 并在 "
        "google.credentials_ssm 填写参数名。详见 docs/google.md。",
        "en": "To fix: create a JSON key for the service account in the Google Cloud console, then either put "
        "the JSON (or its path) in the environment variable {env}; or set google.credentials_file to the key "
        "file (relative to the campaign folder; never commit it); or store it as an SSM SecureString and set "
        "google.credentials_ssm. See docs/google.md.",
    },
    "bad_json": {
        "zh": "{label} 的内容不是有效的 JSON（第 {line} 行第 {col} 列）。请放入从 Google Cloud 下载的完整密钥文件内容。",
        "en": "{label} is not valid JSON (line {line}, column {col}). Use the whole key file downloaded from Google Cloud.",
    },
    "bad_key": {
        "zh": "{label} 不是服务账号密钥（缺少或错误的字段：{fields}）。请下载服务账号的 JSON 密钥，而不是 OAuth 客户端文件。",
        "en": "{label} is not a service-account key (missing or wrong fields: {fields}). Download the service "
        "account's JSON key, not an OAuth client file.",
    },
    "bad_private_key": {
        "zh": "{label} 中的 private_key 无法解析，密钥可能已损坏或被截断。请重新下载密钥。",
        "en": "The private_key in {label} cannot be parsed; the key may be damaged or cut short. Download it again.",
    },
    "label_file": {"zh": "密钥文件 {where}", "en": "key file {where}"},
    "label_env": {"zh": "环境变量 {where}", "en": "environment variable {where}"},
    "label_ssm": {"zh": "SSM 参数 {where}", "en": "SSM parameter {where}"},
}


def _t(key: str, lang: Language, **kw: Any) -> str:
    return _TEXT[key][lang].format(**kw)


def _parse(text: str, source: Source, where: str, lang: Language) -> ServiceAccountKey:
    label = _t(f"label_{source}", lang, where=where)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GoogleCredentialsError(
            [_t("bad_json", lang, label=label, line=exc.lineno, col=exc.colno)]
        ) from None
    try:
        return ServiceAccountKey.model_validate(raw)
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) or "(root)" for e in exc.errors())
        raise GoogleCredentialsError([_t("bad_key", lang, label=label, fields=fields)]) from None


def _read_ssm(name: str) -> str:
    # boto3 is heavy and only needed where the key lives in SSM (the cloud function).
    import boto3

    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    client = boto3.client("ssm", region_name=region) if region else boto3.client("ssm")
    response = client.get_parameter(Name=name, WithDecryption=True)
    return str(response["Parameter"]["Value"])


def find_key_text(
    settings: GoogleSettings, folder: Path, *, env: Mapping[str, str], language: Language = "zh"
) -> tuple[str, Source, str]:
    """The key's JSON text, where it came from, and a printable name of that place."""
    tried: list[str] = []
    if settings.credentials_file:
        path = Path(settings.credentials_file).expanduser()
        path = path if path.is_absolute() else folder / path
        if path.is_file():
            return path.read_text(encoding="utf-8-sig"), "file", str(path)
        tried.append(_t("file_missing", language, where=path))
    else:
        tried.append(_t("file_unset", language))
    var = settings.credentials_env
    value = env.get(var, "").strip() if var else ""
    if value.startswith("{"):
        return value, "env", var
    if value:
        path = Path(value).expanduser()
        if path.is_file():
            return path.read_text(encoding="utf-8-sig"), "env", var
        tried.append(_t("env_path_missing", language, where=var))
    else:
        tried.append(_t("env_unset", language, where=var or "HUIZONG_GOOGLE_CREDENTIALS"))
    # The cloud template names the parameter in the environment, so one campaign.yaml serves both.
    ssm_name = settings.credentials_ssm or env.get(SSM_PARAM_ENV, "").strip()
    if ssm_name:
        try:
            return _read_ssm(ssm_name), "ssm", ssm_name
        except Exception as exc:  # any AWS failure: say which and let the person fix access
            # botocore's ClientError carries the AWS code (ParameterNotFound, AccessDeniedException …).
            body = getattr(exc, "response", None)
            code = body.get("Error", {}).get("Code") if isinstance(body, dict) else None
            tried.append(_t("ssm_failed", language, where=ssm_name, why=code or type(exc).__name__))
    else:
        tried.append(_t("ssm_unset", language))
    env_name = var or "HUIZONG_GOOGLE_CREDENTIALS"
    raise GoogleCredentialsError([_t("none", language), *tried, _t("fix", language, env=env_name)])


def load_credentials(
    settings: GoogleSettings,
    folder: Path,
    *,
    env: Mapping[str, str] | None = None,
    language: Language = "zh",
) -> tuple[service_account.Credentials, LoadedKey]:
    """Service-account credentials scoped to Sheets and Drive, and where the key was found."""
    text, source, where = find_key_text(
        settings, folder, env=os.environ if env is None else env, language=language
    )
    key = _parse(text, source, where, language)
    try:
        creds = service_account.Credentials.from_service_account_info(
            key.model_dump(mode="json"), scopes=list(SCOPES)
        )
    except (ValueError, TypeError, IndexError):
        label = _t(f"label_{source}", language, where=where)
        raise GoogleCredentialsError([_t("bad_private_key", language, label=label)]) from None
    return creds, LoadedKey(source=source, where=where, client_email=key.client_email)
