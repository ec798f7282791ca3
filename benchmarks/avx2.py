"""Run a command as it would run on an AVX2-only CPU, on a machine with AVX-512 and native bf16.

    python benchmarks/avx2.py python benchmarks/generation.py --dtypes float32
    python benchmarks/avx2.py advisor evaluate corpora/acme --probes corpora/acme/probes.jsonl

The project's figures come from two kinds of two-core machines, and a change measured on one
kind says little about the other. This caps the instruction sets of the three libraries that do
the arithmetic: torch's own kernels (`ATEN_CPU_CAPABILITY`), oneDNN's (`ONEDNN_MAX_CPU_ISA`) and
MKL's (`MKL_ENABLE_INSTRUCTIONS`), all at AVX2, so bf16 has no instructions of its own and
`--dtype auto` picks fp32, as on an AVX2 machine. It first prints what the cap did: torch's CPU
capability and a 2048x2048 fp32 matrix multiply's GFLOPS, capped and not, side by side. The same
cores and memory remain, so this is an estimate of an AVX2 machine, not one: clocks, caches and
memory differ from one CPU to the next. On two cores of an Intel Xeon with AMX, the cap took
the fp32 matrix multiply from 257-285 to 137-145 GFLOPS; the AVX2 machine of the README's main
figures ran its prompt pass at about 125.
"""

from __future__ import annotations

import os
import subprocess
import sys

AVX2_ONLY = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}

PROBE = """
import time, torch
a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
a @ b
start = time.perf_counter()
for _ in range(10):
    a @ b
print(torch.backends.cpu.get_cpu_capability(), round(2 * 2048 ** 3 * 10 / (time.perf_counter() - start) / 1e9))
"""


def probe(env: dict[str, str]) -> str:
    """torch's CPU capability and fp32 matrix-multiply GFLOPS under `env`."""
    done = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True)
    capability, gflops = done.stdout.split()
    return f"{capability}, fp32 matrix multiply {gflops} GFLOPS"


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    capped = {**os.environ, **AVX2_ONLY}
    print(f"uncapped: {probe(dict(os.environ))}; capped at AVX2: {probe(capped)}", file=sys.stderr, flush=True)
    return subprocess.run(sys.argv[1:], env=capped).returncode


if __name__ == "__main__":
    sys.exit(main())
