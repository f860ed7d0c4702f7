"""Builds mlplab's optional compiled kernels (src/mlplab/fast/_ckernels.c, the training steps, and
src/mlplab/fast/_classic.c, the classic neurons' rules); everything else is in pyproject.toml.
Without a C compiler the build is skipped and mlplab runs on NumPy alone."""
from setuptools import Extension, setup

# No fast-math and no fused multiply-add: the kernels must round as NumPy does (dropping errno
# and trap support changes no result; it lets the loops vectorize).
FLAGS = ["-O3", "-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math"]

setup(ext_modules=[
    Extension("mlplab.fast._ckernels", ["src/mlplab/fast/_ckernels.c"], optional=True,
              extra_compile_args=FLAGS),
    Extension("mlplab.fast._classic", ["src/mlplab/fast/_classic.c"], optional=True,
              extra_compile_args=FLAGS)])
