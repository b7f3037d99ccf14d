# SPDX-License-Identifier: Apache-2.0
"""Build the compiled hot paths in nautilus_dydx/_core against the installed nautilus_trader."""

from __future__ import annotations

import os
from pathlib import Path

import nautilus_trader
from Cython.Build import cythonize
from Cython.Compiler import Options
from setuptools import Extension
from setuptools import setup


ROOT = Path(__file__).resolve().parent
CORE = Path("nautilus_dydx") / "_core"
NAUTILUS_ROOT = Path(nautilus_trader.__file__).resolve().parent

# Build switches, as in Nautilus's own build
PROFILE_MODE = os.environ.get("PROFILE_MODE", "") not in ("", "0", "false")
ANNOTATION_MODE = os.environ.get("ANNOTATION_MODE", "") not in ("", "0", "false")
CYTHON_TRACE = os.environ.get("CYTHON_TRACE", "") not in ("", "0", "false")
DEBUG_MODE = os.environ.get("DEBUG_MODE", "") not in ("", "0", "false")

Options.warning_errors = True
Options.fast_fail = True
Options.docstrings = True
Options.annotate = ANNOTATION_MODE

COMPILER_DIRECTIVES = {
    "language_level": "3",
    "cdivision": True,
    "nonecheck": True,
    "embedsignature": True,
    "profile": PROFILE_MODE,
    "linetrace": PROFILE_MODE,
    "warn.maybe_uninitialized": True,
    # Nautilus's generated .pxd files still use the deprecated IF statement
    "warn.deprecated.IF": False,
}


def _extensions() -> list[Extension]:
    macros = []
    if PROFILE_MODE:
        macros += [("CYTHON_TRACE", "1"), ("CYTHON_TRACE_NOGIL", "1")]
    compile_args = ["-O0", "-g"] if DEBUG_MODE else ["-O3", "-pipe"]
    compile_args += ["-Wno-unreachable-code", "-Wno-unused-function"]
    extensions = []
    # Comma-separated module names, e.g. CORE_ONLY=decimal,orders, to rebuild a subset
    only = {m for m in os.environ.get("CORE_ONLY", "").split(",") if m}
    for pyx in sorted(CORE.glob("*.pyx")):
        if only and pyx.stem not in only:
            continue
        name = ".".join(pyx.with_suffix("").parts)
        extensions.append(
            Extension(
                name=name,
                sources=[str(pyx)],
                include_dirs=[str(NAUTILUS_ROOT / "core" / "includes"), str(ROOT)],
                define_macros=macros,
                extra_compile_args=compile_args,
                language="c",
            ),
        )
    return extensions


setup(
    ext_modules=cythonize(
        _extensions(),
        compiler_directives=COMPILER_DIRECTIVES,
        build_dir=None if (PROFILE_MODE or CYTHON_TRACE or ANNOTATION_MODE) else "build/optimized",
        nthreads=os.cpu_count() or 1,
    ),
    zip_safe=False,
)
