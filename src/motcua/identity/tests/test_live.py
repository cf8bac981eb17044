"""Against a running server: a full code flow driven by Authlib's OAuth client, the id_token
checked with the provider's JWKS; the portal's own client refusing forged tokens; and a citizen
signing in to the portal in a real browser."""

from __future__ import annotations

import base64
import json
import re

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from playwright.sync_api import Page, expect

from motcua.identity.tests.factories import BANK_REDIRECT, PASSWORD, make_party, make_person
from motcua.web.portal import portal_registered, provider

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _browser_signed_in(site: str, pin: str) -> requests.Session:
    browser = requests.Session()
    browser.get(f"{site}/id/dang-nhap/")
    answer = browser.post(
        f"{site}/id/dang-nhap/",
        {"pin": pin, "password": PASSWORD, "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        allow_redirects=False,
    )
    assert answer.status_code == 302
    return browser


def _allow(browser: requests.Session, site: str, consent_page: str) -> str:
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', consent_page))
    answer = browser.post(
        f"{site}/o/authorize/", {**fields, "allow": "Authorize"}, allow_redirects=False
    )
    assert answer.status_code == 302
    return answer.headers["Location"]


def test_authlib_client_runs_the_code_flow_and_the_id_token_verifies_with_jwks(site: str) -> None:
    person = make_person()
    bank = make_party(scopes=("openid", "profile", "address"))
    meta = requests.get(f"{site}/o/.well-known/openid-configuration", timeout=10).json()
    client = OAuth2Session(
        bank.client_id,
        bank.client_secret,
        scope="openid profile address",
        redirect_uri=BANK_REDIRECT,
        code_challenge_method="S256",
    )
    verifier = generate_token(64)
    url, _ = client.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce="n-0S6_WzA2Mj"
    )

    browser = _browser_signed_in(site, person.pin)
    consent = browser.get(url, allow_redirects=False)
    assert consent.status_code == 200 and "Ngân hàng Thử nghiệm" in consent.text
    callback = _allow(browser, site, consent.text)
    assert (
        callback.startswith(BANK_REDIRECT)
        and f"iss={requests.utils.quote(meta['issuer'], safe='')}" in callback
    )

    token = client.fetch_token(
        meta["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    keys = KeySet.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())
    id_token = jwt.decode(token["id_token"], keys, algorithms=["RS256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": meta["issuer"]},
        aud={"essential": True, "value": bank.client_id},
        nonce={"essential": True, "value": "n-0S6_WzA2Mj"},
        acr={"essential": True, "value": "urn:motcua:loa:1"},
    ).validate(id_token.claims)
    userinfo = client.get(meta["userinfo_endpoint"]).json()
    assert userinfo["sub"] == id_token.claims["sub"] and userinfo["name"] == person.full_name
    assert userinfo["address"]["country"] == "VN"

    refreshed = client.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
    assert refreshed["refresh_token"] != token["refresh_token"]  # rotated
    reuse = requests.post(
        meta["token_endpoint"],
        {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]},
        auth=(bank.client_id, bank.client_secret),
        timeout=10,
    )
    assert reuse.status_code == 400


def _forged(id_token: str) -> dict[str, str]:
    header, payload, signature = id_token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["name"] = "Kẻ Giả Mạo"
    tampered = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    return {
        "tampered": f"{header}.{tampered}.{signature}",
        "alg_none": f"{none_header}.{tampered}.",
    }


def test_the_portal_refuses_a_tampered_id_token_and_alg_none(site: str) -> None:
    person = make_person()
    genuine = _token_for(site, person.pin)
    client = provider()  # the portal's own Authlib client, configured from discovery
    assert client.parse_id_token(genuine, nonce=genuine["_nonce"])["sub"] == person.pin
    for forged in _forged(genuine["id_token"]).values():
        with pytest.raises(JoseError):
            client.parse_id_token({**genuine, "id_token": forged}, nonce=genuine["_nonce"])
    with pytest.raises(JoseError):
        client.parse_id_token(genuine, nonce="another-nonce")


def _token_for(site: str, pin: str) -> dict[str, str]:
    """A real token response for the portal's client, as its callback would receive it."""
    portal_registered()
    browser = _browser_signed_in(site, pin)
    client = provider()
    verifier, nonce = generate_token(64), generate_token(20)
    session = OAuth2Session(
        client.client_id,
        client.client_secret,
        scope="openid profile pin",
        redirect_uri=f"{site}/oidc/callback/",
        code_challenge_method="S256",
    )
    url, _ = session.create_authorization_url(
        f"{site}/o/authorize/", code_verifier=verifier, nonce=nonce
    )
    callback = browser.get(url, allow_redirects=False).headers["Location"]
    token = session.fetch_token(
        f"{site}/o/token/", authorization_response=callback, code_verifier=verifier
    )
    return {**token, "_nonce": nonce}


def test_a_citizen_signs_in_to_the_portal_in_a_real_browser(site: str, page: Page) -> None:
    person = make_person(full_name="Võ Thị Hồng Nhung")
    page.goto(site + "/")
    page.locator("#sign-in").click()  # the portal's start button
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Đăng nhập bằng tài khoản định danh"
    )
    page.get_by_label("Số định danh cá nhân").fill(person.pin)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập", exact=True).click()

    expect(page).to_have_url(site + "/")
    expect(page.locator("#welcome")).to_contain_text("Võ Thị Hồng Nhung")
    page.get_by_role("link", name="Ai đã xem dữ liệu của tôi").first.click()
    expect(page.locator("#access")).to_contain_text("Cổng dịch vụ công Motcua")
    # The portal gave the session a new id at its sign-in: the e-ID still lists it, as this one.
    page.goto(site + "/id/tai-khoan/phien/")
    expect(page.locator("#sessions")).to_contain_text("phiên này")

    page.goto(site + "/")
    page.once("dialog", lambda dialog: dialog.accept())  # "Bạn muốn đăng xuất?"
    page.get_by_role("button", name="Đăng xuất", exact=True).click()
    expect(page.locator("#sign-in")).to_be_visible()
    page.goto(site + "/id/tai-khoan/")
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        "Đăng nhập"
    )  # the e-ID session ended too
