"""Personal links to the web form: signed tokens, one per unit and deliverable.

A link is `<base-url>/u/<token>`. The token is `<payload>.<signature>`, both base64url without padding:
- the payload is compact JSON with the campaign id, the unit code, the deliverable, the expiry (Unix
  seconds: the campaign's last due date + 30 days, end of day in its time zone) and the id of the key that
  signed it. No name, address or e-mail: a link forwarded in a WeChat group gives away nothing but a code;
- the signature is HMAC-SHA256 over the payload with the campaign's secret, kept in the store's meta
  and created on first use. Rotating the secret (`huizong links DIR --rotate`) revokes every link at once;
  the key id lets a rotated link be told apart from a forged one, so the unit is told to ask for a new one.

The same secret signs the session cookie the link is exchanged for (with a different purpose, so neither
can stand in for the other) and derives the CSRF token of a session. Pure functions apart from the
secret's storage, so every refusal is unit-tested.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from functions.ports import Store
from schemas.campaign import Campaign
from schemas.i18n import Language, t
from schemas.roster import Roster, Unit

SECRET_META = "web/link-secret"
_SECRET_CLAIM = "web/link-secret-created"
LINK_GRACE = dt.timedelta(days=30)
SESSION_TTL = dt.timedelta(hours=12)
# Purposes signed into the MAC, so a link token is never a valid session cookie and vice versa.
Purpose = Literal["link", "session"]
Refusal = Literal["malformed", "tampered", "rotated", "expired", "other-campaign", "not-on-roster"]


class LinkRefused(Exception):
    """A token that does not open a form; `reason` says why, `message(lang)` tells the unit what to do."""

    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason)
        self.reason: Refusal = reason

    def message(self, lang: Language, contact: str) -> str:
        texts: dict[Refusal, tuple[str, str]] = {
            "malformed": (
                "这个链接不完整或已损坏。请从组织方发来的消息中重新完整复制链接后打开。",
                "This link is incomplete or damaged. Copy the whole link from the organiser's message again.",
            ),
            "tampered": (
                "这个链接无效（内容被改动过）。请使用组织方发给本单位的原始链接。",
                "This link is not valid (it was altered). Use the link the organiser sent your unit.",
            ),
            "rotated": (
                "这个链接已被组织方停用（已更换新链接）。请向组织方索取新链接。",
                "The organiser has replaced this link. Ask the organiser for the new one.",
            ),
            "expired": (
                "这个链接已过期（活动报送已结束）。如仍需报送，请联系组织方。",
                "This link has expired (reporting is over). Contact the organiser if you still need to report.",
            ),
            "other-campaign": (
                "这个链接属于另一次活动，不能在这里使用。请使用本次活动的链接。",
                "This link belongs to another campaign. Use the link for this campaign.",
            ),
            "not-on-roster": (
                "这个链接对应的单位或报送项目已不在名单中。请联系组织方。",
                "The unit or deliverable of this link is no longer on the list. Contact the organiser.",
            ),
        }
        zh, en = texts[self.reason]
        return t(lang, f"{zh}组织方：{contact}", f"{en} Organiser: {contact}")


class TokenClaims(BaseModel):
    """What a token says once its signature is checked."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    c: str = Field(description="campaign id")
    u: str = Field(description="unit code")
    d: str = Field(description="deliverable key")
    # Bounded so a forged huge number is "malformed", not an overflow when turned into a date.
    e: int = Field(ge=0, le=253_402_300_799, description="expiry, Unix seconds")
    k: str = Field(description="id of the signing key")
    # A session's random id (the CSRF token is derived from it); empty in links.
    n: str = ""

    @property
    def expires_at(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.e, tz=dt.UTC)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or any(c not in _B64_CHARS for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def key_id(secret: bytes) -> str:
    """A short public name of a secret (not the secret): tells a rotated token from a forged one."""
    return _b64(hashlib.sha256(b"huizong-key-id\x00" + secret).digest()[:6])


def _mac(secret: bytes, purpose: Purpose, payload: str) -> str:
    return _b64(hmac.new(secret, f"{purpose}\x00{payload}".encode("ascii"), hashlib.sha256).digest())


def sign(secret: bytes, claims: TokenClaims, purpose: Purpose = "link") -> str:
    payload = _b64(json.dumps(claims.model_dump(exclude_defaults=True), separators=(",", ":")).encode())
    return f"{payload}.{_mac(secret, purpose, payload)}"


def verify(
    secret: bytes, token: str, *, campaign_id: str, now: dt.datetime, purpose: Purpose = "link"
) -> TokenClaims:
    """The claims of a genuine, current token of this campaign; LinkRefused otherwise."""
    if len(token) > 1024 or token.count(".") != 1:
        raise LinkRefused("malformed")
    payload, mac = token.split(".")
    try:
        claims = TokenClaims.model_validate_json(_unb64(payload))
    except (ValueError, binascii.Error, ValidationError):
        raise LinkRefused("malformed") from None
    # The campaign and key id are read before the signature is checked only to choose the message:
    # nothing is granted until the MAC matches.
    if claims.c != campaign_id:
        raise LinkRefused("other-campaign")
    if not hmac.compare_digest(mac, _mac(secret, purpose, payload)):
        raise LinkRefused("rotated" if claims.k != key_id(secret) else "tampered")
    if now >= claims.expires_at:
        raise LinkRefused("expired")
    return claims


def link_expiry(campaign: Campaign) -> dt.datetime:
    """The campaign's last due date + 30 days, at the end of that day in the campaign's time zone."""
    last = max(d.due for d in campaign.deliverables) + LINK_GRACE
    return dt.datetime.combine(last, dt.time(23, 59, 59), tzinfo=campaign.tz)


def link_token(secret: bytes, campaign: Campaign, unit: str, deliverable: str) -> str:
    claims = TokenClaims(
        c=campaign.id, u=unit, d=deliverable, e=int(link_expiry(campaign).timestamp()), k=key_id(secret)
    )
    return sign(secret, claims, "link")


@dataclass(frozen=True)
class Session:
    unit: Unit
    deliverable: str
    claims: TokenClaims


def resolve(claims: TokenClaims, campaign: Campaign, roster: Roster) -> Session:
    """The unit and deliverable a verified token names, if they are still in this campaign."""
    unit = roster.get(claims.u)
    known = {d.key: d for d in campaign.deliverables}
    if unit is None or claims.d not in known or not known[claims.d].applies_to(unit.type):
        raise LinkRefused("not-on-roster")
    return Session(unit=unit, deliverable=claims.d, claims=claims)


def session_token(secret: bytes, link: TokenClaims, *, now: dt.datetime) -> str:
    """A session cookie for the link's unit and deliverable: shorter-lived, with its own random id."""
    expires = min(link.expires_at, now + SESSION_TTL)
    claims = link.model_copy(update={"e": int(expires.timestamp()), "n": secrets.token_urlsafe(12)})
    return sign(secret, claims, "session")


def csrf_token(secret: bytes, session: TokenClaims) -> str:
    """Bound to one session (its random id, unit and deliverable): a page of unit A cannot post for B."""
    text = f"csrf\x00{session.n}\x00{session.u}\x00{session.d}"
    return _b64(hmac.new(secret, text.encode(), hashlib.sha256).digest()[:18])


def csrf_ok(secret: bytes, session: TokenClaims, token: str) -> bool:
    return bool(session.n) and hmac.compare_digest(csrf_token(secret, session), token)


# ---- the secret --------------------------------------------------------------------------------


def campaign_secret(store: Store, *, now: dt.datetime) -> bytes:
    """The campaign's link secret, created on first use.

    Two processes may ask at once (`huizong links` while `serve` runs): the create-if-absent claim decides
    whose candidate becomes the secret, so both end up signing with the same one.
    """
    known = store.get_meta(SECRET_META)
    if known:
        return bytes.fromhex(known)
    candidate = secrets.token_hex(32)
    if store.claim(_SECRET_CLAIM, {"secret": candidate}, at=now):
        store.set_meta(SECRET_META, candidate)
        return bytes.fromhex(candidate)
    known = store.get_meta(SECRET_META)
    if known:
        return bytes.fromhex(known)
    winner = next(c for c in store.claims(_SECRET_CLAIM) if c.key == _SECRET_CLAIM)
    return bytes.fromhex(str(winner.payload["secret"]))


def rotate_secret(store: Store, *, now: dt.datetime) -> bytes:
    """A new secret: every link and session signed with the old one is refused from now on."""
    campaign_secret(store, now=now)  # so the creation claim exists and a later first use cannot win it
    fresh = secrets.token_hex(32)
    store.set_meta(SECRET_META, fresh)
    return bytes.fromhex(fresh)


# ---- the links of a campaign ---------------------------------------------------------------------


class UnitLink(BaseModel):
    """One line of `huizong links --json`."""

    model_config = ConfigDict(extra="forbid")

    unit: str
    name: str
    deliverable: str
    url: str


def unit_links(secret: bytes, campaign: Campaign, roster: Roster, base_url: str) -> list[UnitLink]:
    """Every unit's link for every deliverable that applies to its type, in roster order."""
    base = base_url.rstrip("/")
    return [
        UnitLink(
            unit=unit.code,
            name=unit.name,
            deliverable=d.key,
            url=f"{base}/u/{link_token(secret, campaign, unit.code, d.key)}",
        )
        for unit in roster.units
        for d in campaign.deliverables
        if d.applies_to(unit.type)
    ]
