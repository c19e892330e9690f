"""public/login against registered RSA keys: signature, clock window, replay, and what a
session may do before and after logging in."""
from __future__ import annotations

import time

import pytest

from testkit.exchange import make_key_pair, make_token

pytestmark = pytest.mark.timeout(60)


def test_a_fresh_token_signed_by_a_registered_key_logs_in(connect, new_key):
    kid, private = new_key()
    client = connect()
    reply = client.call("public/login", {"token": make_token(kid, private)})
    assert reply["result"]["account_number"].startswith("A")
    assert client.call("private/portfolio")["result"] == []


@pytest.mark.parametrize("algorithm", ["RS256", "RS384", "RS512"])
def test_every_rsa_algorithm_thalex_allows_is_accepted(connect, new_key, algorithm):
    kid, private = new_key()
    reply = connect().call("public/login", {"token": make_token(kid, private, algorithm=algorithm)})
    assert "result" in reply, reply


def test_a_token_signed_by_another_key_fails_with_code_19(connect, new_key, tmp_path):
    kid, _ = new_key()
    _, stranger, _ = make_key_pair(tmp_path)
    reply = connect().call("public/login", {"token": make_token(kid, stranger)})
    assert reply["error"]["code"] == 19
    assert "Signature" in reply["error"]["message"] or "signature" in reply["error"]["message"]


def test_an_unregistered_key_id_fails_with_code_19(connect, tmp_path):
    kid, private, _ = make_key_pair(tmp_path)
    reply = connect().call("public/login", {"token": make_token(kid, private)})
    assert reply["error"]["code"] == 19
    assert kid in reply["error"]["message"]


def test_a_replayed_iat_is_refused_and_a_later_one_accepted(connect, new_key):
    kid, private = new_key()
    iat = time.time()
    assert "result" in connect().call("public/login", {"token": make_token(kid, private, iat)})
    replay = connect().call("public/login", {"token": make_token(kid, private, iat)})
    assert replay["error"]["code"] == 19
    assert "not later" in replay["error"]["message"]
    assert "result" in connect().call("public/login", {"token": make_token(kid, private, iat + 0.5)})


@pytest.mark.parametrize("skew_s", [-31, 31])
def test_an_iat_more_than_30_s_from_the_server_clock_is_refused(connect, new_key, skew_s):
    kid, private = new_key()
    reply = connect().call("public/login", {"token": make_token(kid, private, time.time() + skew_s)})
    assert reply["error"]["code"] == 19
    assert "30 s" in reply["error"]["message"]


def test_garbage_instead_of_a_token_fails_with_code_19_and_the_connection_stays_usable(connect):
    client = connect()
    assert client.call("public/login", {"token": "not.a.jwt"})["error"]["code"] == 19
    assert "result" in client.call("public/system_info")


def test_private_methods_before_login_fail_with_code_7(connect):
    client = connect()
    for method in ("private/insert", "private/portfolio", "private/subscribe"):
        assert client.call(method, {})["error"]["code"] == 7, method


def test_each_key_is_its_own_account(connect, new_key):
    first, second = connect(), connect()
    assert first.login(*new_key()) != second.login(*new_key())
