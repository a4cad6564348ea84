"""The development issuer keeps one signing key beside the stack's data, publishes its public
half as a JWKS, and mints tokens the services' verifier accepts."""

import json
import stat

import jwt
import pytest

from shuangsui.devstack.issuer import DevIssuer, token_claims
from shuangsui.kernel.auth import TokenVerifier

USCC = "91330106MA2KXXXX0X"


@pytest.fixture
def issuer(tmp_path) -> DevIssuer:
    return DevIssuer(tmp_path / "dev-issuer")


def verifier_of(issuer: DevIssuer) -> TokenVerifier:
    return TokenVerifier(issuer.issuer, issuer.audience, jwks_path=str(issuer.jwks_path))


def public_keys(issuer: DevIssuer) -> list[dict[str, str]]:
    keys: list[dict[str, str]] = json.loads(issuer.jwks_path.read_text())["keys"]
    return keys


def test_keys_are_created_once_and_reused(issuer):
    issuer.ensure_keys()
    first = (issuer.private_key_path.read_bytes(), issuer.jwks_path.read_bytes())

    issuer.ensure_keys()
    DevIssuer(issuer.directory).ensure_keys()

    assert (issuer.private_key_path.read_bytes(), issuer.jwks_path.read_bytes()) == first


def test_token_minted_before_a_restart_verifies_after_it(issuer):
    token = issuer.mint(token_claims(roles=["inspector"], region="330106"))

    restarted = DevIssuer(issuer.directory)
    restarted.ensure_keys()

    assert verifier_of(restarted).verify(token).region_code == "330106"


def test_lost_public_half_is_recreated_to_match_the_signing_key(issuer):
    issuer.ensure_keys()
    issuer.jwks_path.unlink()

    token = issuer.mint(token_claims(roles=["inspector"], region="330106"))

    assert verifier_of(issuer).verify(token).sub == "dev-inspector-330106"


def test_jwks_names_the_key_id_tokens_carry_and_its_algorithm(issuer):
    token = issuer.mint(token_claims(roles=["inspector"], region="330106"))

    (key,) = public_keys(issuer)
    assert key["kid"] == jwt.get_unverified_header(token)["kid"]
    assert key["alg"] == "ES256"
    assert key["use"] == "sig"


def test_jwks_does_not_publish_the_private_key(issuer):
    issuer.ensure_keys()

    (key,) = public_keys(issuer)
    assert "d" not in key


def test_private_key_is_readable_only_by_its_owner(issuer):
    issuer.ensure_keys()

    mode = stat.S_IMODE(issuer.private_key_path.stat().st_mode)
    assert mode & (stat.S_IRWXG | stat.S_IRWXO) == 0


def test_minted_token_verifies_with_the_kernels_verifier(issuer):
    token = issuer.mint(
        token_claims(
            roles=["enterprise"],
            region="330106",
            sub="enterprise-1",
            uscc=USCC,
        )
    )

    principal = verifier_of(issuer).verify(token)

    assert (principal.sub, principal.roles, principal.uscc) == (
        "enterprise-1",
        frozenset({"enterprise"}),
        USCC,
    )


def test_claims_not_given_are_left_out_of_the_token(issuer):
    token = issuer.mint(token_claims(roles=["inspector"], region="330106"))

    claims = jwt.decode(token, options={"verify_signature": False})
    assert not {"uscc", "station_code", "org_id", "org_code", "scopes"} & set(claims)


def test_standard_claims_can_be_overridden_for_tests(issuer):
    token = issuer.mint(token_claims(roles=["inspector"], region="330106"), iss="https://other")

    assert jwt.decode(token, options={"verify_signature": False})["iss"] == "https://other"
