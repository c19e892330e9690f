"""Every kernel test runs twice: against the compiled kernels and against their Python twins."""
import pytest

import kernels


@pytest.fixture(params=["cython", "python"], scope="session")
def K(request):
    """One implementation's namespace of kernel names (``K.as_spread``, ``K.QuoteEngine`` ...)."""
    return kernels.implementation(request.param)


@pytest.fixture(scope="session")
def C():
    return kernels.implementation("cython")


@pytest.fixture(scope="session")
def P():
    return kernels.implementation("python")


def close(a, b, rel=1e-9, abs_=1e-12):
    """Twin agreement: equal to 1e-9 relative (NaN equals NaN)."""
    if a != a and b != b:
        return True
    return abs(a - b) <= max(rel * max(abs(a), abs(b)), abs_)
