"""Pure-Python twins of the compiled kernels: the same names, arguments and results.

They are the executable specification: the whole kernel test suite runs against both, and
``bin/mm-bench kernels`` times both in the same run.
"""
