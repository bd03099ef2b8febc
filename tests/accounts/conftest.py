"""Fixtures for the accounts tests: real keys for a test attestation issuer."""

import json
import time
import warnings

import pytest
from django.core.cache import cache
from joserfc import jws
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, OKPKey

TEST_ISSUER = "https://age-verifier.example"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # allauth's and the admin's rate limits live in the cache, shared by tests.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.VAR_DIR = tmp_path / "var"


class TestIssuer:
    """A real age-attestation issuer: ES256 and Ed25519 keys, published in a JWKS file."""

    def __init__(self, tmp_path, site_url):
        self.site_url = site_url
        self.es256 = ECKey.generate_key("P-256", private=True, parameters={"kid": "test-es256"})
        self.eddsa = OKPKey.generate_key("Ed25519", private=True, parameters={"kid": "test-ed"})
        # Known to nobody: its tokens carry a kid the JWKS does not list.
        self.stranger = ECKey.generate_key("P-256", private=True, parameters={"kid": "stranger"})
        self.jwks_path = tmp_path / "jwks.json"
        self.jwks_path.write_text(
            json.dumps(
                {"keys": [self.es256.as_dict(private=False), self.eddsa.as_dict(private=False)]}
            )
        )

    def claims(self, nonce_value, /, **overrides):
        now = int(time.time())
        claims = {
            "iss": TEST_ISSUER,
            "aud": self.site_url,
            "iat": now,
            "exp": now + 300,
            "nonce": nonce_value,
            "age_over_18": True,
        }
        claims.update(overrides)
        return {key: value for key, value in claims.items() if value is not ...}

    def sign(self, nonce_value, /, *, key=None, alg=None, kid=None, **overrides):
        key = key or self.es256
        alg = alg or ("EdDSA" if key is self.eddsa else "ES256")
        header = {"alg": alg, "typ": "JWT", "kid": kid or key.kid}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SecurityWarning)  # "EdDSA" is the contract's name
            return jws.serialize_compact(
                header, json.dumps(self.claims(nonce_value, **overrides)), key, algorithms=[alg]
            )


@pytest.fixture
def issuer(settings, tmp_path):
    """Trusts a freshly generated issuer, with DEBUG off (no demo issuer)."""
    test_issuer = TestIssuer(tmp_path, settings.SITE_URL)
    settings.DEBUG = False
    settings.AGE_ATTESTATION_JWKS = str(test_issuer.jwks_path)
    settings.AGE_ATTESTATION_ISSUERS = [TEST_ISSUER]
    settings.AGE_ATTESTATION_PROVIDER_URL = "https://age-verifier.example/start"
    return test_issuer
