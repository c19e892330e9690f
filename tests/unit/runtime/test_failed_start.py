"""A failed start keeps its run directory only for logs that explain the failure, and says which."""
from runtime import main
from runtime.supervisor import Child


class _Sup:
    def __init__(self, started: tuple):
        self.children = {name: Child(name) for name in ("recorder", "gateway", "risk")}
        for name in started:
            self.children[name].proc = object()   # spawned: its logs are the pipeline's own


class _Exchange:
    def __init__(self, url):
        self.url = url


def _run_dir(tmp_path, **logs):
    (tmp_path / "logs").mkdir(parents=True)
    for name, text in logs.items():
        (tmp_path / "logs" / name.replace("_", ".")).write_text(text)
    return tmp_path


def test_nothing_started_nothing_kept(tmp_path, capsys):
    run_dir = _run_dir(tmp_path / "run", supervisor_log="bin/mm: ...", exchange_log="listening")
    logs = main._logs_explaining_failure(run_dir, None, _Exchange("ws://127.0.0.1:1/ws/api/v2"))
    assert logs == []
    main._keep_or_remove(run_dir, logs)
    assert not run_dir.exists() and capsys.readouterr().err == ""


def test_the_logs_of_started_processes_are_kept_and_named(tmp_path, capsys):
    run_dir = _run_dir(tmp_path / "run", gateway_log="login refused", gateway_stderr="Traceback ...",
                       risk_log="", recorder_log="never started but wrote")
    logs = main._logs_explaining_failure(run_dir, _Sup(("gateway", "risk")), None)
    assert logs == ["gateway.log", "gateway.stderr"]     # risk wrote nothing, recorder never ran
    main._keep_or_remove(run_dir, logs)
    assert run_dir.exists()
    assert f"logs are kept in {run_dir}/logs: gateway.log, gateway.stderr" in capsys.readouterr().err


def test_an_exchange_that_did_not_start_keeps_its_log(tmp_path):
    run_dir = _run_dir(tmp_path / "run", exchange_log="Traceback: port in use")
    assert main._logs_explaining_failure(run_dir, None, _Exchange(None)) == ["exchange.log"]
