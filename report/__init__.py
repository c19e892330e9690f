"""``bin/mm-report [RUN_DIR] [--out DIR]``: plots and a one-page summary of a recorded run.

    load.py      the run's CSV files (procs/recorder.py documents them) as NumPy arrays
    summary.py   the key figures, each computed from those arrays
    plots.py     the PNG figures (matplotlib, headless)
    page.py      the HTML page that shows both
"""
