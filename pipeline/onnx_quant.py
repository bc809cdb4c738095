"""int8 quantisation of the exported classifier that keeps p_spam within 0.02 of fp32.

Plain `quantize_dynamic` quantises each MatMul input with one scale per tensor. MiniLM's
first token ([CLS]) carries activations ~8x larger than any other token (28 vs 3.6 in the
first layer), so that one scale leaves the other tokens a handful of levels, and p_spam
moved by up to 0.2 (p99 0.08) on the real comments. Two changes fix most of it (measured
on the real comments, docs/benchmarks.md):

- every weight MatMul is split by token: the first token goes through an fp32 copy, the
  rest through the quantised one, so the per-tensor scale no longer sees the outlier;
- the feed-forward MatMuls of the first half of the layers, the most sensitive ones (their
  inputs and weights carry the largest outliers), stay fp32.

Weights are int8 per output channel; activations are quantised per batch at run time. CPUs
without VNNI (AVX2, AVX-512 before Cascade Lake) add pairs of uint8 x int8 products in 16-bit
registers, which saturate at full 8-bit range: on an AVX2-only AMD EPYC the full range kept
|delta p_spam| <= 0.02 for 95.8% of the real comments, 7 bits (`reduce_range`) for 99.4%.
VNNI sums in 32 bits, and there 7 bits lose accuracy instead: 99.28% against 99.54% at 8 bits
on a Sapphire Rapids Xeon (docs/benchmarks.md). So the weight range follows the CPU
(`weight_bits`), and the ONNX cache's recipe records it: a graph built on one kind of CPU is
rebuilt when it is used on the other.
"""

from __future__ import annotations

import contextlib
import logging
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from pipeline.cpu import int8_vnni

# Feed-forward layers (not attention/output/dense, whose path has "attention/" in between).
_FFN = re.compile(r"/layer\.(\d+)/(?:intermediate|output)/dense/MatMul$")
_LAYER = re.compile(r"/layer\.(\d+)/")


def weight_bits() -> int:
    """The int8 weights' range for this CPU: 8 bits with VNNI, else 7 (see the docstring)."""
    return 8 if int8_vnni() else 7


def quantize_int8(src: Path, dst: Path, bits: int = 7, per_channel: bool = True) -> None:
    """Write the int8 version of the fp32 graph `src` to `dst` with `bits`-bit weights (7 or
    8; see the module docstring)."""
    if bits not in (7, 8):
        raise ValueError(f"int8 weights take 7 or 8 bits, not {bits}")
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = onnx.load(str(src))
    keep_fp32 = split_first_token(model) + sensitive_ffn(model)
    with tempfile.TemporaryDirectory() as tmp, _quiet():
        split = Path(tmp) / "split.onnx"
        onnx.save(model, str(split))
        quantize_dynamic(
            split, dst, weight_type=QuantType.QInt8, per_channel=per_channel,
            op_types_to_quantize=["MatMul"], nodes_to_exclude=keep_fp32, reduce_range=bits == 7,
        )  # fmt: skip


def weight_matmuls(model) -> list:
    """MatMul nodes whose second input is a constant 2-D weight."""
    weights = {i.name for i in model.graph.initializer if len(i.dims) == 2}
    return [n for n in model.graph.node if n.op_type == "MatMul" and n.input[1] in weights]


def sensitive_ffn(model) -> list[str]:
    """Names of the feed-forward MatMuls in the first half of the encoder layers."""
    layers = {int(m.group(1)) for n in model.graph.node if (m := _LAYER.search(n.name))}
    half = (max(layers) + 1) // 2 if layers else 0
    return [
        n.name for n in weight_matmuls(model) if (m := _FFN.search(n.name)) and int(m[1]) < half
    ]


def split_first_token(model) -> list[str]:
    """Rewrite each weight MatMul Y = X W (X: batch, tokens, features) as
    concat(X[:, :1] W, X[:, 1:] W) along tokens; returns the first-token copies' names."""
    from onnx import helper, numpy_helper

    targets = {n.name for n in weight_matmuls(model)}  # names are unique in exported graphs
    consts = {"ft_0": 0, "ft_1": 1, "ft_end": np.iinfo(np.int64).max}
    model.graph.initializer.extend(
        numpy_helper.from_array(np.array([v], np.int64), k) for k, v in consts.items()
    )
    nodes, first = [], []
    for n in model.graph.node:
        if n.name not in targets:
            nodes.append(n)
            continue
        x, w, y, p = n.input[0], n.input[1], n.output[0], n.name
        first.append(p + "/first")
        nodes += [
            helper.make_node("Slice", [x, "ft_0", "ft_1", "ft_1"], [p + "/x0"], p + "/slice0"),
            helper.make_node("Slice", [x, "ft_1", "ft_end", "ft_1"], [p + "/x1"], p + "/slice1"),
            helper.make_node("MatMul", [p + "/x0", w], [p + "/y0"], first[-1]),
            helper.make_node("MatMul", [p + "/x1", w], [p + "/y1"], p),
            helper.make_node("Concat", [p + "/y0", p + "/y1"], [y], p + "/concat", axis=1),
        ]
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    return first


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    # quantize_dynamic logs "please consider pre-processing" on every call; not needed here.
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)
