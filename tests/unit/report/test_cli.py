"""bin/mm-report's default: the runs of the project's recorder.dir, not ./runs of wherever it starts."""
import report.__main__ as cli


def test_without_a_run_dir_it_looks_where_bin_mm_run_writes(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()               # a ./runs here is not the project's
    seen = []
    monkeypatch.setattr(cli, "runs_dir", lambda recorder_dir: seen.append(recorder_dir) or tmp_path / "project-runs")
    assert cli.main([]) == 2
    assert seen == ["runs"]                   # recorder.dir of the default configuration
    err = capsys.readouterr().err
    assert f"no runs directory at {tmp_path / 'project-runs'}: name a run directory (bin/mm-report RUN_DIR)" in err
