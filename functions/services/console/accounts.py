"""Who may use the console, how they sign in, and what they did.

Sign-in has no password: a person listed under `people:` asks for a link, huizong mails a one-time
token to that address, and opening it (then pressing 登录) exchanges it for a session cookie.

- The token is 32 random bytes; the store keeps only its SHA-256 (`console-link/<digest>`), claimed
  before the mail is sent (like every mail: two requests never mail the same token twice) with the
  address, the expiry and the send result.
- Redeeming claims `console-link-used/<digest>` (create-if-absent): whoever gets that claim signs in,
  a second use of the same link, concurrent or later, is refused. Links expire after LINK_TTL.
- The session cookie is `<payload>.<mac>` signed with a key derived from the campaign's link secret
  (another purpose than the unit links, so no unit token opens the console). It carries the address,
  the expiry and a random id; sign-out claims `console-signed-out/<id>`, so a copied cookie dies too.
- The CSRF token of a session is derived from its random id; before sign-in, a random nonce in a
  cookie plays that part (double submit), so a login form cannot be posted from another site.
- Every action is audited append-only: a claim `console-audit/<time>-<random>` with who, when, what.
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
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from functions.ports import Claim, Store
from schemas.campaign import Campaign, Person
from schemas.i18n import t
from schemas.roster import Roster, Unit

LINK_TTL = dt.timedelta(minutes=15)
SESSION_TTL = dt.timedelta(hours=12)
LINK_PREFIX = "console-link/"
USED_PREFIX = "console-link-used/"
SIGNED_OUT_PREFIX = "console-signed-out/"
AUDIT_PREFIX = "console-audit/"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text or any(c not in _B64 for c in text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


_B64 = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def _key(secret: bytes, purpose: str) -> bytes:
    """A key of its own per purpose, derived from the campaign secret."""
    return hmac.new(secret, f"huizong-console\x00{purpose}".encode(), hashlib.sha256).digest()


def find_person(campaign: Campaign, email: str) -> Person | None:
    wanted = email.strip().lower()
    return next((p for p in campaign.people if p.email == wanted), None)


def people_problems(campaign: Campaign, roster: Roster) -> list[str]:
    """Coordinators' areas that no unit of the roster is in (a typo would show them nothing)."""
    lang = campaign.language
    known = sorted({u.area for u in roster.units if u.area})
    listed = t(lang, "、", ", ").join(known)
    out = []
    for i, p in enumerate(campaign.people):
        for area in p.areas:
            if area not in known:
                out.append(t(lang, f"campaign.yaml people[{i}]（{p.name}）：名单中没有“{area}”的单位；"
                             f"areas 应与名单“{campaign.area_label_zh}”列一致（现有：{listed}）",
                             f"campaign.yaml people[{i}] ({p.name}): no unit of the roster is in {area!r}; "
                             f"use the roster's area names ({listed})"))  # fmt: skip
    return out


def coordinator_addresses(campaign: Campaign, unit: Unit) -> list[str]:
    """The addresses of the coordinators of the unit's area (for reminders.cc_coordinator)."""
    return [
        p.email for p in campaign.people if p.role == "coordinator" and unit.area and unit.area in p.areas
    ]


def in_scope(person: Person, area: str) -> bool:
    """Organisers see every unit; a coordinator only the units of their areas."""
    return person.role == "organiser" or area in person.areas


# ---- one-time links -------------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


@dataclass(frozen=True)
class LinkRequest:
    """A link to mail (None for an address that is not listed: nothing is sent, the answer is the same)."""

    person: Person
    token: str
    claim_key: str
    expires_at: dt.datetime


def new_link(store: Store, campaign: Campaign, email: str, *, now: dt.datetime) -> LinkRequest | None:
    person = find_person(campaign, email)
    if person is None:
        return None
    token = secrets.token_urlsafe(32)
    key = LINK_PREFIX + _digest(token)
    expires = now + LINK_TTL
    payload = {"email": person.email, "expires_at": expires.isoformat(), "result": "sending"}
    if not store.claim(key, payload, at=now):  # 256 random bits: a collision means a broken RNG
        raise RuntimeError("sign-in token collision")
    return LinkRequest(person, token, key, expires)


class SignInRefused(Exception):
    """A sign-in link that cannot be used; `reason` chooses the message."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def redeem(store: Store, campaign: Campaign, token: str, *, now: dt.datetime) -> Person:
    """The person a current, unused link was mailed to; the link is used up by this call."""
    if not token or len(token) > 200:
        raise SignInRefused("unknown")
    digest = _digest(token)
    issued = next((c for c in store.claims(LINK_PREFIX + digest) if c.key == LINK_PREFIX + digest), None)
    if issued is None:
        raise SignInRefused("unknown")
    try:
        expires = dt.datetime.fromisoformat(str(issued.payload["expires_at"]))
    except (KeyError, ValueError):
        raise SignInRefused("unknown") from None
    if now >= expires:
        raise SignInRefused("expired")
    # The claim decides: of two requests with the same link (a mail scanner and the person), one wins.
    if not store.claim(USED_PREFIX + digest, {"at": now.isoformat()}, at=now):
        raise SignInRefused("used")
    person = find_person(campaign, str(issued.payload.get("email", "")))
    if person is None:  # removed from people: since the link was sent
        raise SignInRefused("unknown")
    return person


# ---- sessions -------------------------------------------------------------------------------------


class SessionClaims(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    c: str = Field(description="campaign id")
    m: str = Field(description="the person's address")
    e: int = Field(ge=0, le=253_402_300_799, description="expiry, Unix seconds")
    n: str = Field(min_length=8, max_length=64, description="random session id")


def session_cookie(secret: bytes, campaign: Campaign, person: Person, *, now: dt.datetime) -> str:
    claims = SessionClaims(
        c=campaign.id, m=person.email, e=int((now + SESSION_TTL).timestamp()), n=secrets.token_urlsafe(16)
    )
    payload = _b64(json.dumps(claims.model_dump(), separators=(",", ":")).encode())
    mac = _b64(hmac.new(_key(secret, "session"), payload.encode(), hashlib.sha256).digest())
    return f"{payload}.{mac}"


def read_session(secret: bytes, campaign: Campaign, cookie: str, *, now: dt.datetime) -> SessionClaims | None:
    """The claims of a genuine, current session cookie of this campaign, else None (sign in again)."""
    if not cookie or len(cookie) > 1024 or cookie.count(".") != 1:
        return None
    payload, mac = cookie.split(".")
    good = _b64(hmac.new(_key(secret, "session"), payload.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(mac, good):
        return None
    try:
        claims = SessionClaims.model_validate_json(_unb64(payload))
    except (ValueError, binascii.Error, ValidationError):
        return None
    if claims.c != campaign.id or now.timestamp() >= claims.e:
        return None
    return claims


def session_person(
    store: Store, secret: bytes, campaign: Campaign, cookie: str, *, now: dt.datetime
) -> tuple[Person, SessionClaims] | None:
    """Who this cookie signs in, while they are still listed and have not signed out."""
    claims = read_session(secret, campaign, cookie, now=now)
    if claims is None:
        return None
    person = find_person(campaign, claims.m)
    if person is None:
        return None
    ended = SIGNED_OUT_PREFIX + claims.n
    if any(c.key == ended for c in store.claims(ended)):
        return None
    return person, claims


def sign_out(store: Store, claims: SessionClaims, *, now: dt.datetime) -> None:
    store.claim(SIGNED_OUT_PREFIX + claims.n, {"email": claims.m}, at=now)


def csrf_token(secret: bytes, nonce: str) -> str:
    """Bound to one session (or one pre-sign-in nonce): a page of one session cannot post for another."""
    return _b64(hmac.new(_key(secret, "csrf"), nonce.encode(), hashlib.sha256).digest()[:18])


def csrf_ok(secret: bytes, nonce: str, token: str) -> bool:
    return bool(nonce) and bool(token) and hmac.compare_digest(csrf_token(secret, nonce), token)


# ---- audit ----------------------------------------------------------------------------------------


class AuditEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at: dt.datetime
    by: str  # the person's address (or "-" for a request nobody is signed in to)
    action: str  # sign-in, sign-out, link-requested, approve, return, waive, reopen, download…
    unit: str = ""
    deliverable: str = ""
    detail: str = ""


def audit(store: Store, entry: AuditEntry) -> None:
    """Appended, never changed: a create-once claim under a key that sorts by time."""
    stamp = entry.at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    # Entries of the same instant keep their order by a count; the random part keeps two writers apart.
    n = len(store.claims(f"{AUDIT_PREFIX}{stamp}-"))
    store.claim(
        f"{AUDIT_PREFIX}{stamp}-{n:06d}-{secrets.token_hex(6)}", entry.model_dump(mode="json"), at=entry.at
    )


def audit_log(store: Store) -> list[AuditEntry]:
    """Every entry, oldest first (entries this version cannot read are skipped, not fatal)."""
    out: list[AuditEntry] = []
    claims: list[Claim] = sorted(store.claims(AUDIT_PREFIX), key=lambda c: c.key)
    for c in claims:
        try:
            out.append(AuditEntry.model_validate(c.payload))
        except ValidationError:
            continue
    return out


def record_send(store: Store, request: LinkRequest, result: str, **extra: Any) -> None:
    payload = {"email": request.person.email, "expires_at": request.expires_at.isoformat(), "result": result}
    store.update_claim(request.claim_key, {**payload, **extra})
