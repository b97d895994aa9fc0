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
from typing import Literal

from google.oauth2 import service_account
from pydantic import BaseModel, ConfigDict, ValidationError

from schemas.google import GoogleSettings
from schemas.i18n import Language, t

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


def _label(source: Source, where: str, lang: Language) -> str:
    """How an error names the place a key was looked for."""
    if source == "file":
        return t(lang, f"密钥文件 {where}", f"key file {where}")
    if source == "env":
        return t(lang, f"环境变量 {where}", f"environment variable {where}")
    return t(lang, f"SSM 参数 {where}", f"SSM parameter {where}")


def _parse(text: str, source: Source, where: str, lang: Language) -> ServiceAccountKey:
    label = _label(source, where, lang)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GoogleCredentialsError(
            [
                t(
                    lang,
                    f"{label} 的内容不是有效的 JSON（第 {exc.lineno} 行第 {exc.colno} 列）。"
                    "请放入从 Google Cloud 下载的完整密钥文件内容。",
                    f"{label} is not valid JSON (line {exc.lineno}, column {exc.colno}). "
                    "Use the whole key file downloaded from Google Cloud.",
                )
            ]
        ) from None
    try:
        return ServiceAccountKey.model_validate(raw)
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) or "(root)" for e in exc.errors())
        text = t(
            lang,
            f"{label} 不是服务账号密钥（缺少或错误的字段：{fields}）。"
            "请下载服务账号的 JSON 密钥，而不是 OAuth 客户端文件。",
            f"{label} is not a service-account key (missing or wrong fields: {fields}). Download the service "
            "account's JSON key, not an OAuth client file.",
        )
        raise GoogleCredentialsError([text]) from None


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
        tried.append(t(language, f"  文件 {path}：不存在", f"  file {path}: does not exist"))
    else:
        tried.append(
            t(
                language,
                "  文件：campaign.yaml 未设置 google.credentials_file",
                "  file: google.credentials_file is not set",
            )
        )
    var = settings.credentials_env
    value = env.get(var, "").strip() if var else ""
    if value.startswith("{"):
        return value, "env", var
    if value:
        path = Path(value).expanduser()
        if path.is_file():
            return path.read_text(encoding="utf-8-sig"), "env", var
        tried.append(
            t(
                language,
                f"  环境变量 {var} 指向的文件不存在",
                f"  environment variable {var} names a file that does not exist",
            )
        )
    else:
        unset = var or "HUIZONG_GOOGLE_CREDENTIALS"
        tried.append(t(language, f"  环境变量 {unset}：未设置", f"  environment variable {unset}: not set"))
    # The cloud template names the parameter in the environment, so one campaign.yaml serves both.
    ssm_name = settings.credentials_ssm or env.get(SSM_PARAM_ENV, "").strip()
    if ssm_name:
        try:
            return _read_ssm(ssm_name), "ssm", ssm_name
        except Exception as exc:  # any AWS failure: say which and let the person fix access
            # botocore's ClientError carries the AWS code (ParameterNotFound, AccessDeniedException …).
            body = getattr(exc, "response", None)
            code = body.get("Error", {}).get("Code") if isinstance(body, dict) else None
            why = code or type(exc).__name__
            tried.append(
                t(
                    language,
                    f"  SSM 参数 {ssm_name}：读取失败（{why}）",
                    f"  SSM parameter {ssm_name}: could not be read ({why})",
                )
            )
    else:
        tried.append(
            t(
                language,
                "  SSM 参数：未设置 google.credentials_ssm（或环境变量 HUIZONG_GOOGLE_CREDENTIALS_PARAM）",
                "  SSM parameter: neither google.credentials_ssm nor HUIZONG_GOOGLE_CREDENTIALS_PARAM is set",
            )
        )
    env_name = var or "HUIZONG_GOOGLE_CREDENTIALS"
    none = t(language, "未找到 Google 服务账号密钥。已尝试：", "No Google service-account key found. Tried:")
    fix = t(
        language,
        "解决办法：在 Google Cloud 控制台为服务账号创建 JSON 密钥，然后任选其一："
        f"把 JSON 内容（或文件路径）放入环境变量 {env_name}；或在 campaign.yaml 的 google.credentials_file 填写"
        "密钥文件路径（相对于活动文件夹，切勿提交到代码库）；或存入 SSM SecureString 并在 "
        "google.credentials_ssm 填写参数名。详见 docs/google.md。",
        "To fix: create a JSON key for the service account in the Google Cloud console, then either put "
        f"the JSON (or its path) in the environment variable {env_name}; or set google.credentials_file to the "
        "key file (relative to the campaign folder; never commit it); or store it as an SSM SecureString and "
        "set google.credentials_ssm. See docs/google.md.",
    )
    raise GoogleCredentialsError([none, *tried, fix])


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
        label = _label(source, where, language)
        text = t(
            language,
            f"{label} 中的 private_key 无法解析，密钥可能已损坏或被截断。请重新下载密钥。",
            f"The private_key in {label} cannot be parsed; the key may be damaged or cut short. Download it again.",
        )
        raise GoogleCredentialsError([text]) from None
    return creds, LoadedKey(source=source, where=where, client_email=key.client_email)
