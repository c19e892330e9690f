"""Benchmarks behind ``bin/mm-bench``: each figure printed beside a baseline from the same run.

A suite is a module ``bench/<suite>.py`` with ``run(args) -> list[Result]`` and an optional
``add_arguments(parser)``; ``bin/mm-bench <suite>`` finds it by name, ``all`` runs every suite.
"""
