"""Build the Cython extensions with one set of compiler directives.

Every ``*.pyx`` under shm/, kernels/, testkit/, backtest/, procs/ and procs/gateway/ becomes an extension module
of the same dotted name, so a new kernel needs no edit here. First the C side of the record
vocabulary (shm/records.h, shm/records.pxd, testkit/layout_probe.pyx) is generated from
shm/records.py (shm/generate_c.py).
"""
import sys
from pathlib import Path

import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))   # shm.records, whichever directory the build runs from
from shm import generate_c  # noqa: E402  (needs ROOT on the path)

PACKAGES = ("shm", "kernels", "testkit", "backtest", "procs", "procs/gateway")

COMPILER_DIRECTIVES = {
    "language_level": 3,
    "boundscheck": False,
    "wraparound": False,
    "cdivision": True,
    "initializedcheck": False,
    "nonecheck": False,
    "embedsignature": True,
}

# -O3 and no -march=native: the same wheel must run on any x86-64 host it is copied to.
EXTRA_COMPILE_ARGS = ["-O3", "-fno-strict-aliasing"]


def extensions():
    mods = []
    for package in PACKAGES:
        for pyx in sorted((ROOT / package).glob("*.pyx")):
            name = f"{package.replace('/', '.')}.{pyx.stem}"
            mods.append(
                Extension(
                    name,
                    [str(pyx.relative_to(ROOT))],
                    include_dirs=[numpy.get_include(), str(ROOT / "shm"), str(ROOT / package)],
                    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
                    extra_compile_args=EXTRA_COMPILE_ARGS,
                )
            )
    return mods


generate_c.write_all()   # before the *.pyx glob and cythonize: the probe and .pxd must exist

setup(
    ext_modules=cythonize(
        extensions(),
        compiler_directives=COMPILER_DIRECTIVES,
        include_path=[str(ROOT)],
        nthreads=2,
    ),
)
