"""Numerical precision, the compilation cache, LAPACK's threads and the CPU's devices
(``split_cpu``): the only module that writes ``jax.config``.

jaxtherm computes in float64 by default: near equilibrium the heat currents are differences
of nearly equal populations, and float32 loses them. Importing jaxtherm therefore enables
JAX's 64-bit mode (``jax_enable_x64``) for the process. float32 stays available per call
(``solve(..., dtype="float32")``); it is opt-in, and its accuracy cost is measured by
``benchmarks/bench_solve.py`` (``docs/performance.md``).
"""

from __future__ import annotations

import os
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from jaxtherm._checks import raise_if

jax.config.update("jax_enable_x64", True)

DEFAULT_DTYPE = np.dtype("float64")
SUPPORTED_DTYPES = (np.dtype("float64"), np.dtype("float32"))


def real_dtype(dtype=None) -> np.dtype:
    """The real floating dtype to compute in: float64 unless float32 is asked for.

    Args:
        dtype: ``None`` (float64), ``"float64"``/``"float32"`` or a NumPy/JAX dtype.

    Raises:
        ValueError: for any other dtype.
    """
    if dtype is None:
        return DEFAULT_DTYPE
    dt = np.dtype(dtype)
    raise_if(dt not in SUPPORTED_DTYPES, ValueError(f"dtype must be float64 or float32, got {dtype!r}"))
    return dt


def complex_dtype(dtype) -> np.dtype:
    """The complex dtype that pairs with a real one (float64 → complex128)."""
    return np.dtype(jnp.complex128 if np.dtype(dtype) == np.float64 else jnp.complex64)


CACHE_ENVIRONMENT = "JAXTHERM_CACHE"
"""Environment variable for the compilation cache: a folder, or ``off``."""


def cache_dir() -> Path | None:
    """Where compiled kernels are kept between runs: ``$JAXTHERM_CACHE`` if set (``off``, ``0``
    or ``none``: nowhere), else ``jaxtherm/jax`` in the user's cache folder (``$XDG_CACHE_HOME``,
    or ``~/.cache``)."""
    value = os.environ.get(CACHE_ENVIRONMENT, "").strip()
    if value.lower() in ("off", "0", "none", "false"):
        return None
    if value:
        return Path(value).expanduser()
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or Path.home() / ".cache"
    return Path(base) / "jaxtherm" / "jax"


def use_compilation_cache(folder: str | os.PathLike | None = None) -> Path | None:
    """Keep JAX's compiled programs in ``folder`` (default :func:`cache_dir`) so that a repeat run
    of the same kernel loads it instead of compiling it again (JAX's persistent compilation
    cache; every program that took more than a second to compile).

    The command line turns it on for every command; in Python it is opt-in. A cache folder JAX
    was given already (``JAX_COMPILATION_CACHE_DIR``) is kept unless ``$JAXTHERM_CACHE`` says
    otherwise; a folder that cannot be created leaves the cache off.

    Returns:
        The folder in use, or ``None`` where the cache is off.
    """
    if folder is None and not os.environ.get(CACHE_ENVIRONMENT) and jax.config.jax_compilation_cache_dir:
        return Path(jax.config.jax_compilation_cache_dir)  # set already (JAX_COMPILATION_CACHE_DIR): kept
    where = Path(folder).expanduser() if folder is not None else cache_dir()
    if where is None:
        jax.config.update("jax_compilation_cache_dir", None)
        return None
    try:
        where.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    jax.config.update("jax_compilation_cache_dir", str(where))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 1.0)
    return where


LAPACK_THREADS = "OPENBLAS_NUM_THREADS"


def single_threaded_lapack() -> bool:
    """Run the LAPACK calls of JAX's CPU kernels (``eig``, ``eigh``, ``getrf``: SciPy's OpenBLAS,
    loaded at JAX's first such call) on one thread each, by setting ``OPENBLAS_NUM_THREADS=1``
    before that library loads.

    jaxtherm calls LAPACK on small matrices, one point after another (the Davies eigenbasis,
    LU of a sector, the Krylov preconditioner's eigendecompositions); OpenBLAS's threads cost
    more than they give on such matrices, and far more when the cores are busy with other work
    (XLA's own threads, other processes): measured in ``docs/performance.md`` ("LAPACK threads").
    The command line turns it on; in Python it is opt-in (it changes SciPy's BLAS for the whole
    process). A value the user set is kept (``OPENBLAS_NUM_THREADS``, or ``OMP_NUM_THREADS`` /
    ``GOTO_NUM_THREADS``, which OpenBLAS also reads).

    Returns:
        Whether LAPACK runs single-threaded from now on: ``False`` where the variable was set to
        something else, or SciPy's OpenBLAS had loaded already (then set the variable before
        starting Python).
    """
    import sys

    chosen = [v for v in (LAPACK_THREADS, "OMP_NUM_THREADS", "GOTO_NUM_THREADS") if v in os.environ]
    if chosen:  # the user's choice, under any of the names OpenBLAS reads
        return os.environ[chosen[0]] == "1"
    if "scipy.linalg" in sys.modules:
        return False
    os.environ[LAPACK_THREADS] = "1"
    return True


CPU_DEVICES_FLAG = "--xla_force_host_platform_device_count"


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity, where the system tells it)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # (macOS, Windows)
        return os.cpu_count() or 1


MAX_CPU_DEVICES = 8
"""``split_cpu``'s default is at most this many devices: a chunk holds at least 64 points a device
(``jaxtherm.kernel.batch.LANES``), and more devices than measured (2) would grow it, and the
memory a large model's sweep takes, with the machine; ``--cpu-devices`` may ask for more."""


def split_cpu(n: int | None = None) -> bool:
    """Make the CPU ``n`` JAX devices (default: one per usable core, ``usable_cores``, at most
    ``MAX_CPU_DEVICES``), so that a sweep can share its chunks over the cores
    (``jaxtherm.sweep.devices``: a large model's kernel keeps one core busy, so each device adds
    one). Unused devices cost nothing.

    Takes effect only before JAX starts its CPU backend (the first array or device query); a
    count the user gave JAX (``XLA_FLAGS``' ``--xla_force_host_platform_device_count``, or
    ``JAX_NUM_CPU_DEVICES``) is kept. The command line's ``jaxtherm run`` calls it
    (``--cpu-devices``); in Python it is opt-in.

    Returns:
        Whether the CPU is split as asked from now on.
    """
    if CPU_DEVICES_FLAG in os.environ.get("XLA_FLAGS", "") or "JAX_NUM_CPU_DEVICES" in os.environ:
        return False
    n = min(usable_cores(), MAX_CPU_DEVICES) if n is None else int(n)
    raise_if(n < 1, ValueError(f"the CPU is split into at least one device, got {n}"))
    try:
        jax.config.update("jax_num_cpu_devices", n)
    except RuntimeError:  # JAX's backends have started: too late
        return False
    except AttributeError:  # a JAX before that option: the flag XLA reads when the backend starts
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {CPU_DEVICES_FLAG}={n}".strip()
    return True
