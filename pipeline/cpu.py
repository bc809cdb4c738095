"""What this CPU and process offer the scoring backends: usable cores, native bf16, VNNI.

Read once from the affinity mask and /proc/cpuinfo; pipeline.backends picks a backend from
these, pipeline.model refuses bf16 where it would be emulated.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

# CPU flags of native bf16 matrix multiplies (AMX tiles, AVX-512 BF16 dot products). Without
# them torch emulates bf16 in fp32 registers, which is slower than plain fp32.
BF16_FLAGS = frozenset({"amx_bf16", "avx512_bf16"})
# CPU flags of uint8 x int8 dot products that sum in 32 bits (AVX-512/AVX VNNI, AMX tiles);
# without them the pair sums are 16-bit and saturate (pipeline.onnx_quant).
VNNI_FLAGS = frozenset({"avx512_vnni", "avx_vnni", "amx_int8"})


def available_cores() -> int:
    """CPUs this process may use: the affinity mask (cgroup aware, unlike os.cpu_count),
    capped by OMP_NUM_THREADS when the user set it (e.g. on a shared machine)."""
    try:
        cores = max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        cores = max(1, os.cpu_count() or 1)
    requested = os.environ.get("OMP_NUM_THREADS", "")
    return min(cores, int(requested)) if requested.isdigit() and int(requested) > 0 else cores


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU feature flags Linux reports; empty elsewhere, so no bf16 path is chosen there."""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        return frozenset()
    flags = next((line for line in lines if line.startswith("flags")), "")
    return frozenset(flags.partition(":")[2].split())


def cpu_bf16() -> bool:
    """The CPU multiplies bf16 natively (what OpenVINO's own kernels need)."""
    return bool(BF16_FLAGS & cpu_flags())


def native_bf16() -> bool:
    """Torch runs bf16 at full speed here: native bf16 and torch built with oneDNN."""
    if not cpu_bf16():
        return False
    import torch

    # oneDNN holds torch's AMX and AVX-512 BF16 kernels; without it bf16 matmuls are emulated.
    return bool(torch.backends.mkldnn.is_available())


def amx_bf16() -> bool:
    """AMX tile matrix units: where bf16 measured faster than every other precision."""
    return "amx_bf16" in cpu_flags()


def int8_vnni() -> bool:
    """int8 dot products sum in 32 bits here (the int8 graph's weight range depends on it)."""
    return bool(VNNI_FLAGS & cpu_flags())
