"""Builds mlplab's optional compiled kernels (src/mlplab/fast/_ckernels.c); everything else is in
pyproject.toml. Without a C compiler the build is skipped and mlplab runs on NumPy alone."""
from setuptools import Extension, setup

setup(ext_modules=[Extension(
    "mlplab.fast._ckernels", ["src/mlplab/fast/_ckernels.c"], optional=True,
    # No fast-math and no fused multiply-add: the kernels must round as NumPy does (dropping
    # errno and trap support changes no result; it lets the loops vectorize).
    extra_compile_args=["-O3", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math"])])
