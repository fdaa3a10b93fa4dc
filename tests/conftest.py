"""Fixtures shared by the unit tests."""

import matplotlib.pyplot as plt
import pytest


@pytest.fixture(autouse=True)
def close_figures():
    """Close every figure a test drew, so hundreds of tests do not pile up open figures."""
    yield
    plt.close("all")
