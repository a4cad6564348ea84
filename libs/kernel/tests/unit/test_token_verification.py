"""Access tokens are verified against the configured issuer, audience and JWKS into a Principal
carrying the platform claims of ARCHITECTURE.md §5; anything else is 401 unauthenticated."""

import time

import pytest

from shuangsui.devstack.issuer import DevIssuer, token_claims
from shuangsui.kernel.auth import Principal, TokenVerifier
from shuangsui.kernel.problems import UNAUTHENTICATED, Problem

USCC = "91330106MA2KXXXX0X"


@pytest.fixture(scope="module")
def verifier(dev_issuer: DevIssuer) -> TokenVerifier:
    return TokenVerifier(
        dev_issuer.issuer, dev_issuer.audience, jwks_path=str(dev_issuer.jwks_path)
    )


def refusal(verifier: TokenVerifier, token: str) -> Problem:
    with pytest.raises(Problem) as refused:
        verifier.verify(token)
    return refused.value


def test_valid_token_gives_a_principal_with_every_claim(verifier, dev_issuer):
    token = dev_issuer.mint(
        token_claims(
            sub="inspector-17",
            roles=["inspector", "reviewer"],
            region="330106",
            org="ORG-330106-AMR",
            department_type="market_supervision",
            station="ST-330106-03",
            uscc=USCC,
            scopes=["registry:subjects:push", "registry:items:push"],
        )
    )

    assert verifier.verify(token) == Principal(
        sub="inspector-17",
        roles=frozenset({"inspector", "reviewer"}),
        region_code="330106",
        org_id="ORG-330106-AMR",
        org_code="ORG-330106-AMR",
        department_type="market_supervision",
        station_code="ST-330106-03",
        uscc=USCC,
        scopes=frozenset({"registry:subjects:push", "registry:items:push"}),
    )


def test_space_separated_scopes_are_read_as_a_set(verifier, dev_issuer):
    claims = token_claims(roles=["integrator"], region="330000")
    token = dev_issuer.mint({**claims, "scopes": "registry:subjects:push registry:items:push"})

    assert verifier.verify(token).scopes == {"registry:subjects:push", "registry:items:push"}


def test_principal_province_is_the_first_two_digits_of_its_region(verifier, token):
    assert verifier.verify(token(roles=["inspector"], region="330106")).province == "33"


def test_expired_token_is_refused_as_expired(verifier, token):
    problem = refusal(verifier, token(roles=["inspector"], exp=int(time.time()) - 60))

    assert problem.kind == UNAUTHENTICATED
    assert "expired" in (problem.detail or "")


def test_token_of_another_issuer_is_refused(verifier, token):
    problem = refusal(verifier, token(roles=["inspector"], iss="https://idp.elsewhere.example"))

    assert problem.kind == UNAUTHENTICATED
    assert "issuer" in (problem.detail or "")


def test_token_for_another_audience_is_refused(verifier, token):
    problem = refusal(verifier, token(roles=["inspector"], aud="some-other-platform"))

    assert problem.kind == UNAUTHENTICATED


def test_token_signed_by_another_key_is_refused(verifier, tmp_path):
    impostor = DevIssuer(tmp_path / "impostor")  # same issuer name and key id, different key

    problem = refusal(
        verifier, impostor.mint(token_claims(roles=["national_admin"], region="330000"))
    )

    assert problem.kind == UNAUTHENTICATED


def test_token_without_region_code_is_refused(verifier, dev_issuer):
    claims = token_claims(roles=["inspector"], region="330000")
    del claims["region_code"]

    problem = refusal(verifier, dev_issuer.mint(claims))

    assert problem.kind == UNAUTHENTICATED
    assert "region_code" in (problem.detail or "")


@pytest.mark.parametrize("region", ["33", "3301060", "33O106", 330106])
def test_token_with_malformed_region_code_is_refused(verifier, dev_issuer, region):
    claims = {**token_claims(roles=["inspector"], region="330000"), "region_code": region}

    assert refusal(verifier, dev_issuer.mint(claims)).kind == UNAUTHENTICATED


def test_token_whose_roles_are_not_a_list_is_refused(verifier, dev_issuer):
    claims = {**token_claims(roles=["inspector"], region="330000"), "roles": "national_admin"}

    assert refusal(verifier, dev_issuer.mint(claims)).kind == UNAUTHENTICATED


@pytest.mark.parametrize("token_text", ["", "not-a-jwt", "a.b.c"])
def test_garbage_token_is_refused(verifier, token_text):
    assert refusal(verifier, token_text).kind == UNAUTHENTICATED


def test_token_without_expiry_is_refused(verifier, dev_issuer):
    claims = token_claims(roles=["inspector"], region="330000")
    token = dev_issuer.mint(claims, exp=None)

    assert refusal(verifier, token).kind == UNAUTHENTICATED


def test_a_remembered_token_is_checked_again_once_it_expires(dev_issuer, token, monkeypatch):
    from shuangsui.kernel import auth

    verifier = TokenVerifier(
        dev_issuer.issuer, dev_issuer.audience, jwks_path=str(dev_issuer.jwks_path)
    )
    expires = int(time.time()) + 60
    issued = token(roles=["inspector"], exp=expires)
    checks = []
    check = verifier._check
    monkeypatch.setattr(verifier, "_check", lambda t: checks.append(t) or check(t))
    first = verifier.verify(issued)
    assert verifier.verify(issued) == first
    assert len(checks) == 1, "the second call is answered from memory"

    monkeypatch.setattr(auth.time, "time", lambda: expires + 1.0)
    verifier.verify(issued)
    assert len(checks) == 2, "an expired memory is not trusted"
