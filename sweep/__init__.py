"""Parameter sweeps (bin/mm-sweep): many backtests at once as Ray tasks, on this machine or a
Ray cluster, each one bin/mm-backtest's code path (backtest.entry.run_backtest).

    bin/mm-sweep DATA --grid ... --random N --range ...
      plan.py      the parameter sets (grid x random draws), as --set strings
      window.py    all data, or walk-forward: a training and a test window
      run.py       the driver: data into Ray's object store once, the phases, the results
      runner.py    Ray: local or a cluster, tasks in flight, rows back as they finish
        task.py    on a worker: cut the events to the window, run the backtest, read its figures
        metrics.py the figures of one run (P&L, Sharpe, drawdown, ...) and the objectives
      journal.py   runs.jsonl: each finished run at once (Ctrl-C keeps them; a rerun resumes)
      progress.py  the progress line: done, failed, time left
      tables.py    results.parquet, results.csv
      plots.py     heatmap.png, ranking.png
      overlay.py   best.toml: the best set as a configuration file
      identity.py  run ids and the default output directory (hashes of what decides a result)

Ray is imported only once a sweep starts (the "sweep" optional dependencies, installed on
bin/mm-sweep's first use).
"""
