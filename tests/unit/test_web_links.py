"""Personal links: tokens signed per campaign, refused when tampered, expired, rotated or foreign."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from functions.adapters.store.memory import MemoryStore
from functions.services.web.links import (
    LinkRefused,
    TokenClaims,
    _b64,
    _unb64,
    campaign_secret,
    csrf_ok,
    csrf_token,
    link_expiry,
    link_token,
    resolve,
    rotate_secret,
    session_token,
    sign,
    unit_links,
    verify,
)
from schemas.campaign import Campaign
from schemas.roster import Roster

TZ = dt.timezone(dt.timedelta(hours=8))
NOW = dt.datetime(2022, 11, 20, 9, 0, tzinfo=TZ)


def _refusal(fn: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(LinkRefused) as info:
        fn(*args, **kwargs)  # type: ignore[operator]
    return info.value.reason


def test_a_link_token_verifies_and_names_its_unit(wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    store = MemoryStore()
    secret = campaign_secret(store, now=NOW)
    token = link_token(secret, campaign, "WJ001", "plan")
    claims = verify(secret, token, campaign_id=campaign.id, now=NOW)
    session = resolve(claims, campaign, roster)
    assert (session.unit.code, session.deliverable) == ("WJ001", "plan")
    # no personal data in clear: the payload decodes to codes only
    payload = json.loads(_unb64(token.split(".")[0]))
    assert set(payload) == {"c", "u", "d", "e", "k"}
    assert roster.get("WJ001").name not in json.dumps(payload, ensure_ascii=False)  # type: ignore[union-attr]
    assert all(c.isalnum() or c in "-_." for c in token)


def test_the_secret_is_created_once_and_kept_in_meta() -> None:
    store = MemoryStore()
    first = campaign_secret(store, now=NOW)
    assert len(first) == 32
    assert campaign_secret(store, now=NOW) == first
    assert store.get_meta("web/link-secret") == first.hex()


def test_expiry_is_the_last_due_date_plus_30_days(wujin: tuple[Campaign, Roster]) -> None:
    campaign, _ = wujin
    expiry = link_expiry(campaign)
    assert expiry.date() == dt.date(2022, 12, 9) + dt.timedelta(days=30)
    secret = b"s" * 32
    token = link_token(secret, campaign, "WJ001", "summary")
    assert verify(secret, token, campaign_id=campaign.id, now=expiry - dt.timedelta(seconds=1))
    assert _refusal(verify, secret, token, campaign_id=campaign.id, now=expiry + dt.timedelta(seconds=1)) == (
        "expired"
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda p: {**p, "u": "WJ002"},  # another unit
        lambda p: {**p, "d": "summary"},  # another deliverable
        lambda p: {**p, "e": p["e"] + 86400 * 365},  # a longer life
    ],
)
def test_a_tampered_payload_is_refused(wujin: tuple[Campaign, Roster], change: object) -> None:
    campaign, _ = wujin
    secret = b"k" * 32
    token = link_token(secret, campaign, "WJ001", "plan")
    payload, mac = token.split(".")
    forged = _b64(json.dumps(change(json.loads(_unb64(payload)))).encode())  # type: ignore[operator]
    assert _refusal(verify, secret, f"{forged}.{mac}", campaign_id=campaign.id, now=NOW) == "tampered"


def test_a_tampered_signature_and_garbage_are_refused(wujin: tuple[Campaign, Roster]) -> None:
    campaign, _ = wujin
    secret = b"k" * 32
    token = link_token(secret, campaign, "WJ001", "plan")
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert _refusal(verify, secret, flipped, campaign_id=campaign.id, now=NOW) == "tampered"
    huge = _b64(json.dumps({"c": campaign.id, "u": "WJ001", "d": "plan", "e": 10**20, "k": "x"}).encode())
    for junk in ("", "abc", "a.b.c", "%%%.xyz", "x" * 2000, token.split(".")[0], f"{huge}.sig"):
        assert _refusal(verify, secret, junk, campaign_id=campaign.id, now=NOW) == "malformed"


def test_rotating_the_secret_refuses_every_earlier_link(wujin: tuple[Campaign, Roster]) -> None:
    campaign, _ = wujin
    store = MemoryStore()
    old = campaign_secret(store, now=NOW)
    token = link_token(old, campaign, "WJ001", "plan")
    new = rotate_secret(store, now=NOW)
    assert new != old and campaign_secret(store, now=NOW) == new
    assert _refusal(verify, new, token, campaign_id=campaign.id, now=NOW) == "rotated"
    assert verify(new, link_token(new, campaign, "WJ001", "plan"), campaign_id=campaign.id, now=NOW)


def test_another_campaigns_token_is_refused(wujin: tuple[Campaign, Roster]) -> None:
    campaign, _ = wujin
    secret = b"k" * 32
    other = campaign.model_copy(update={"id": "xinbei-2017"})
    token = link_token(secret, other, "WJ001", "plan")
    assert _refusal(verify, secret, token, campaign_id=campaign.id, now=NOW) == "other-campaign"


def test_a_link_is_not_a_session_and_a_session_is_not_a_link(wujin: tuple[Campaign, Roster]) -> None:
    campaign, _ = wujin
    secret = b"k" * 32
    link = link_token(secret, campaign, "WJ001", "plan")
    claims = verify(secret, link, campaign_id=campaign.id, now=NOW)
    session = session_token(secret, claims, now=NOW)
    assert _refusal(verify, secret, link, campaign_id=campaign.id, now=NOW, purpose="session") == "tampered"
    assert _refusal(verify, secret, session, campaign_id=campaign.id, now=NOW, purpose="link") == "tampered"
    s_claims = verify(secret, session, campaign_id=campaign.id, now=NOW, purpose="session")
    assert s_claims.u == "WJ001" and s_claims.n
    # a session lives hours, not the link's weeks
    assert s_claims.expires_at <= NOW + dt.timedelta(hours=12)


def test_csrf_tokens_are_bound_to_one_session(wujin: tuple[Campaign, Roster]) -> None:
    campaign, _ = wujin
    secret = b"k" * 32
    a = TokenClaims(c=campaign.id, u="WJ001", d="plan", e=2**31, k="x", n="nonce-a")
    b = TokenClaims(c=campaign.id, u="WJ002", d="plan", e=2**31, k="x", n="nonce-b")
    assert csrf_ok(secret, a, csrf_token(secret, a))
    assert not csrf_ok(secret, a, csrf_token(secret, b))
    assert not csrf_ok(secret, a, "")
    # a link (no session id) never passes a CSRF check
    link = a.model_copy(update={"n": ""})
    assert not csrf_ok(secret, link, csrf_token(secret, link))


def test_resolve_refuses_units_and_deliverables_not_in_the_campaign(wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    secret = b"k" * 32
    for unit, deliverable in (("NOPE", "plan"), ("WJ001", "nope")):
        claims = verify(
            secret,
            sign(secret, TokenClaims(c=campaign.id, u=unit, d=deliverable, e=2**33, k="x")),
            campaign_id=campaign.id,
            now=NOW,
        )
        assert _refusal(resolve, claims, campaign, roster) == "not-on-roster"


def test_unit_links_cover_every_unit_and_deliverable_that_applies(wujin: tuple[Campaign, Roster]) -> None:
    campaign, roster = wujin
    secret = b"k" * 32
    found = unit_links(secret, campaign, roster, "https://form.example.org/")
    assert len(found) == len(roster.units) * len(campaign.deliverables)
    first = found[0]
    assert first.url.startswith("https://form.example.org/u/")
    token = first.url.rsplit("/", 1)[1]
    assert verify(secret, token, campaign_id=campaign.id, now=NOW).u == first.unit


def test_refusal_messages_say_what_to_do_in_the_campaign_language() -> None:
    zh = LinkRefused("rotated").message("zh", "王老师")
    en = LinkRefused("expired").message("en", "Ms Wang")
    assert "新链接" in zh and "王老师" in zh
    assert "expired" in en and "Ms Wang" in en
