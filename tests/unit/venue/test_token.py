"""Login token: a verifiable RS512 JWT with kid, strictly increasing iat; unsafe key files refused."""
import logging
import os
import time

import jwt
import pytest

from venue.token import KeyFileError, load_private_key, make_token


def test_the_token_verifies_with_the_public_key_and_carries_kid_and_a_float_iat(rsa_key):
    private, public = rsa_key
    before = time.time()
    token = make_token("K123456789", private)
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "RS512", "kid": "K123456789", "typ": "JWT"}
    claims = jwt.decode(token, public, algorithms=["RS512"])
    assert set(claims) == {"iat"}
    assert isinstance(claims["iat"], float)
    assert before - 1 <= claims["iat"] <= time.time() + 1


def test_a_token_signed_by_another_key_does_not_verify(rsa_key):
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives import serialization
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(make_token("K1", other), rsa_key[1], algorithms=["RS512"])


def test_iat_strictly_increases_across_back_to_back_tokens(rsa_key, monkeypatch):
    frozen = time.time()
    monkeypatch.setattr("venue.token.time.time", lambda: frozen)  # every call in one tick
    iats = [jwt.decode(make_token("K1", rsa_key[0]), rsa_key[1], algorithms=["RS512"])["iat"]
            for _ in range(20)]
    assert all(b > a for a, b in zip(iats, iats[1:]))
    assert iats[-1] - frozen < 1e-3  # stays within a millisecond of the clock


def test_iat_never_goes_back_when_the_clock_steps_back(rsa_key, monkeypatch):
    first = jwt.decode(make_token("K1", rsa_key[0]), rsa_key[1], algorithms=["RS512"])["iat"]
    monkeypatch.setattr("venue.token.time.time", lambda: first - 5.0)
    second = jwt.decode(make_token("K1", rsa_key[0]), rsa_key[1], algorithms=["RS512"])["iat"]
    assert second > first


def test_an_empty_key_id_is_refused(rsa_key):
    with pytest.raises(ValueError, match="key_id is empty"):
        make_token("", rsa_key[0])


def test_a_private_key_file_with_mode_0600_loads(key_file, rsa_key):
    assert load_private_key(key_file) == rsa_key[0]


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o601])
def test_a_key_file_others_can_access_is_refused_naming_path_and_mode(key_file, mode, caplog):
    os.chmod(key_file, mode)
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(KeyFileError) as info:
            load_private_key(key_file)
    message = str(info.value)
    assert str(key_file) in message and f"{mode:04o}" in message
    assert "PRIVATE KEY" not in message and "MII" not in message  # no key material
    assert "MII" not in caplog.text


def test_a_missing_key_file_is_named(tmp_path):
    with pytest.raises(KeyFileError, match="nope.pem: does not exist"):
        load_private_key(tmp_path / "nope.pem")


def test_a_file_without_a_pem_key_is_refused(tmp_path):
    path = tmp_path / "k.pem"
    path.write_text("not a key")
    os.chmod(path, 0o600)
    with pytest.raises(KeyFileError, match="no PEM private key"):
        load_private_key(path)
