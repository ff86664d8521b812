"""The published vectors crates/authgate-jwt/tests/jwt/vectors.rs checks,
through the Python API: RFC 7515 A.1-A.3, RFC 8037 A.1-A.4 and RFC 7638 §3.1.
Every value is copied byte for byte from the RFCs."""

from __future__ import annotations

from typing import Any

import pytest

from authgate import jwt
from authgate.errors import (
    ExpiredTokenError,
    InvalidSignatureError,
    KeyMismatchError,
    MalformedTokenError,
)

from .conftest import b64, unb64

# {"iss":"joe",\r\n "exp":1300819380,\r\n "http://example.com/is_root":true}
RFC7515_PAYLOAD = "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ"
RFC7515_EXP = 1_300_819_380
BEFORE_EXP = RFC7515_EXP - 3600

A1_K = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"
A1_HEADER = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
A1_SIGNATURE = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

A2_N = "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"
A2_HEADER = "eyJhbGciOiJSUzI1NiJ9"
A2_SIGNATURE = "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"

A3_X = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU"
A3_Y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"
A3_HEADER = "eyJhbGciOiJFUzI1NiJ9"
A3_SIGNATURE = "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"

RFC8037_D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
RFC8037_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
A4_SIGNING_INPUT = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
A4_SIGNATURE = "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"

RFC7638_N = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
RFC7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"

# PKCS#8 v1 wrapping of a raw Ed25519 seed.
ED25519_PKCS8_PREFIX = bytes.fromhex("302e020100300506032b657004220420")


def token(header: str, signature: str) -> str:
    return f"{header}.{RFC7515_PAYLOAD}.{signature}"


def a1_key() -> jwt.VerifyingKey:
    # The RFC's JWK has no "alg"; authgate refuses oct keys without one, by design.
    return jwt.VerifyingKey.from_jwk({"kty": "oct", "alg": "HS256", "k": A1_K})


def a2_key() -> jwt.VerifyingKey:
    return jwt.VerifyingKey.from_jwk({"kty": "RSA", "alg": "RS256", "n": A2_N, "e": "AQAB"})


def a3_key() -> jwt.VerifyingKey:
    return jwt.VerifyingKey.from_jwk({"kty": "EC", "crv": "P-256", "x": A3_X, "y": A3_Y})


def rfc8037_public() -> jwt.VerifyingKey:
    return jwt.VerifyingKey.from_jwk({"kty": "OKP", "crv": "Ed25519", "x": RFC8037_X})


def rfc8037_signing() -> jwt.SigningKey:
    return jwt.SigningKey.from_der("EdDSA", ED25519_PKCS8_PREFIX + unb64(RFC8037_D))


def assert_rfc7515_claims(claims: dict[str, Any]) -> None:
    assert claims == {"iss": "joe", "exp": RFC7515_EXP, "http://example.com/is_root": True}


def test_rfc7515_a1_hs256_verifies() -> None:
    assert_rfc7515_claims(jwt.decode(token(A1_HEADER, A1_SIGNATURE), a1_key(), typ="JWT", now=BEFORE_EXP))


def test_rfc7515_a1_verifies_with_the_raw_secret_pyjwt_style() -> None:
    claims = jwt.decode(token(A1_HEADER, A1_SIGNATURE), unb64(A1_K), algorithms=["HS256"], now=BEFORE_EXP)
    assert_rfc7515_claims(claims)


def test_rfc7515_a1_has_the_published_header() -> None:
    compact = token(A1_HEADER, A1_SIGNATURE)
    assert jwt.get_unverified_header(compact) == {"alg": "HS256", "typ": "JWT"}
    assert jwt.decode_jwt(compact)["iss"] == "joe"


def test_rfc7515_a1_is_expired_after_its_exp_and_leeway() -> None:
    with pytest.raises(ExpiredTokenError) as raised:
        jwt.decode(token(A1_HEADER, A1_SIGNATURE), a1_key(), now=RFC7515_EXP + 61)
    assert raised.value.reason == "expired"
    # Within the default 60 s leeway it still verifies.
    jwt.decode(token(A1_HEADER, A1_SIGNATURE), a1_key(), now=RFC7515_EXP + 59)


def test_rfc7515_a2_rs256_verifies() -> None:
    assert_rfc7515_claims(jwt.decode(token(A2_HEADER, A2_SIGNATURE), a2_key(), now=BEFORE_EXP))


def test_rfc7515_a3_es256_verifies() -> None:
    assert_rfc7515_claims(jwt.decode(token(A3_HEADER, A3_SIGNATURE), a3_key(), now=BEFORE_EXP))


def flip_signature_bit(compact: str, index: int, mask: int) -> str:
    head, signature = compact.rsplit(".", 1)
    raw = bytearray(unb64(signature))
    raw[index] ^= mask
    return f"{head}.{b64(bytes(raw))}"


@pytest.mark.parametrize(
    "compact,key",
    [
        (token(A1_HEADER, A1_SIGNATURE), a1_key()),
        (token(A2_HEADER, A2_SIGNATURE), a2_key()),
        (token(A3_HEADER, A3_SIGNATURE), a3_key()),
    ],
)
def test_rfc7515_tokens_with_a_flipped_signature_bit_are_bad_signatures(compact: str, key: jwt.VerifyingKey) -> None:
    for index in (0, 17, 31):
        with pytest.raises(InvalidSignatureError) as raised:
            jwt.decode(flip_signature_bit(compact, index, 0x01), key, now=BEFORE_EXP)
        assert raised.value.reason == "bad_signature"


def test_rfc7515_tokens_do_not_verify_under_each_others_keys() -> None:
    with pytest.raises(KeyMismatchError) as raised:
        jwt.decode(token(A2_HEADER, A2_SIGNATURE), a3_key(), now=BEFORE_EXP)
    assert raised.value.reason == "algorithm_mismatch"
    with pytest.raises(KeyMismatchError):
        jwt.decode(token(A1_HEADER, A1_SIGNATURE), a2_key(), now=BEFORE_EXP)


def test_rfc8037_a1_seed_gives_the_published_public_key() -> None:
    public = rfc8037_signing().verifying_key.to_jwk()
    assert public["kty"] == "OKP"
    assert public["crv"] == "Ed25519"
    assert public["x"] == RFC8037_X


def test_rfc8037_a3_thumbprint_is_the_kid() -> None:
    assert rfc8037_signing().kid == RFC8037_THUMBPRINT
    assert rfc8037_public().thumbprint() == RFC8037_THUMBPRINT


def test_rfc8037_a4_signature_passes_and_only_the_non_json_payload_fails() -> None:
    """The A.4 payload is not JSON; claims are parsed only after the signature
    verifies, so a malformed-claims error (not bad_signature) for the RFC's
    bytes shows the RFC's Ed25519 signature was accepted."""
    compact = f"{A4_SIGNING_INPUT}.{A4_SIGNATURE}"
    with pytest.raises(MalformedTokenError) as raised:
        jwt.decode(compact, rfc8037_public(), now=0)
    assert raised.value.reason == "malformed"
    for index in (0, 31, 63):
        with pytest.raises(InvalidSignatureError):
            jwt.decode(flip_signature_bit(compact, index, 0x80), rfc8037_public(), now=0)


def test_rfc8037_key_signs_deterministically_and_verifies_under_the_published_public_key() -> None:
    key = rfc8037_signing()
    claims = {"sub": "Example of Ed25519 signing", "exp": 2_000_000_000}
    first = jwt.encode(claims, key)
    assert first == jwt.encode(claims, key)
    assert jwt.decode(first, rfc8037_public(), now=1_900_000_000)["sub"] == "Example of Ed25519 signing"


def test_rfc7638_rsa_thumbprint() -> None:
    key = jwt.VerifyingKey.from_jwk(
        {"kty": "RSA", "n": RFC7638_N, "e": "AQAB", "alg": "RS256", "kid": "2011-04-29"}
    )
    assert key.thumbprint() == RFC7638_THUMBPRINT
    assert key.kid == "2011-04-29"
