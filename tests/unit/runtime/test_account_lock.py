"""One pipeline per account: the lock, its message, and its inheritance by the pipeline's processes."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runtime.account_lock import AccountInUseError, AccountLock, lock_path

ROOT = Path(__file__).resolve().parents[3]
URL = "wss://thalex.example/ws/api/v2"


@pytest.fixture(autouse=True)
def private_lock_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))


def test_a_second_lock_on_the_same_account_names_the_account_the_venue_and_the_holder():
    first = AccountLock.acquire(URL, "K1", "ACC7", run_dir="/runs/one")
    try:
        with pytest.raises(AccountInUseError) as refused:
            AccountLock.acquire(URL + "/", "K1", "ACC7")     # a trailing slash is the same venue
        text = str(refused.value)
        assert "account 'ACC7' (key id K1)" in text and URL in text
        assert f"bin/mm run pid {os.getpid()}" in text and "/runs/one" in text
    finally:
        first.release()
    AccountLock.acquire(URL, "K1", "ACC7").release()          # free again once released


def test_other_keys_accounts_and_venues_have_their_own_locks():
    held = [AccountLock.acquire(URL, "K1", ""), AccountLock.acquire(URL, "K2", ""),
            AccountLock.acquire(URL, "K1", "ACC7"), AccountLock.acquire("ws://127.0.0.1:9/ws", "K1", "")]
    assert len({lock.path for lock in held}) == 4
    for lock in held:
        lock.release()
    assert lock_path(URL, "K1", "").parent == Path(os.environ["XDG_RUNTIME_DIR"]) / "thalex-mm-locks"


@pytest.mark.timeout(60)
def test_a_process_that_inherited_the_lock_holds_it_after_the_supervisor_is_gone():
    # A "supervisor" takes the lock, starts a child with the descriptor, and exits at once.
    code = ("import subprocess; from runtime.account_lock import AccountLock;"
            f"lock = AccountLock.acquire({URL!r}, 'K1', '', run_dir='/runs/dead');"
            "child = subprocess.Popen(['sleep', '60'], pass_fds=(lock.fd,), stdout=subprocess.DEVNULL,"
            " stderr=subprocess.DEVNULL); print(child.pid, flush=True)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    orphan = int(out.stdout)
    try:
        with pytest.raises(AccountInUseError, match="which has died; they close by themselves"):
            AccountLock.acquire(URL, "K1", "")
    finally:
        os.kill(orphan, signal.SIGKILL)
    for _ in range(200):        # the kernel drops the lock once the last holder has exited
        try:
            AccountLock.acquire(URL, "K1", "").release()
            return
        except AccountInUseError:
            time.sleep(0.01)
    pytest.fail("the lock outlived every process that held it")
