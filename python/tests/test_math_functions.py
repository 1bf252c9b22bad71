# test_math_functions.py - The vectorized approximations of math functions
# in float32 against float64 NumPy: accuracy over the whole range of the
# arguments, and IEEE special values (NaN in, NaN out; sin and cos of
# infinities are NaN). On the CPU, and on the GPU emulation in ctest's
# second run.
# SPDX-License-Identifier: MIT
import numpy as np
import pytest

from keops.numpy import Genred

SPECIAL = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-40, 88.0, -103.0]
# Beyond the f64 reduction of sin and cos (2^50): libm on the CPU; NaN on a
# GPU, whose float32 kernels link no libdevice.
HUGE = [1.5e15, -3e20, 3.4e38]


def evaluate(op, x, **options):
    """op(x_i) for each row of x (one column), float32."""
    y = np.zeros((1, 1), np.float32)
    return Genred(f"{op}(x)", ["x = Vi(1)", "y = Vj(1)"], reduction_op="Sum",
                  axis=1)(x[:, None], y, **options).ravel()


@pytest.mark.parametrize("op, reference", [("Sin", np.sin), ("Cos", np.cos)])
@pytest.mark.parametrize("scale", [1, 1e2, 1e4, 1e7, 1e12])
def test_sin_and_cos_are_accurate_at_any_argument(op, reference, scale):
    """Within 2 float32 ulps of 1 (MLIR's own approximation was 2e-4 off at
    x = 1000 and gave 1.8e12 for sin(1e9))."""
    rng = np.random.default_rng(int(scale))
    x = rng.uniform(-3 * scale, 3 * scale, 4000).astype(np.float32)
    ours = evaluate(op, x).astype(np.float64)
    np.testing.assert_allclose(ours, reference(x.astype(np.float64)), rtol=0,
                               atol=1.2e-7)


@pytest.mark.parametrize("op, reference", [("Sin", np.sin), ("Cos", np.cos),
                                           ("Exp", np.exp)])
def test_special_values_follow_ieee(op, reference):
    x = np.array(SPECIAL, np.float32)
    ours = evaluate(op, x)
    with np.errstate(all="ignore"):
        want = reference(x.astype(np.float64)).astype(np.float32)
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(want))
    finite = ~np.isnan(want)
    np.testing.assert_allclose(ours[finite], want[finite], rtol=2e-6, atol=1e-37)


@pytest.mark.parametrize("op, reference", [("Sin", np.sin), ("Cos", np.cos)])
def test_sin_and_cos_of_huge_arguments_on_the_cpu(op, reference):
    x = np.array(HUGE, np.float32)
    np.testing.assert_allclose(evaluate(op, x, backend="CPU"),
                               reference(x.astype(np.float64)), atol=1.2e-7)
