"""Peak resident memory of one strategy's fit and answers: whether a team's machine can run it.

Linux lets a process reset its own peak resident set (VmHWM) by writing 5 to
/proc/self/clear_refs, so each strategy's peak is its own rather than the highest the process
reached so far, with no sampling thread to miss a short spike. Where that is not possible the
process-wide peak (ru_maxrss) is reported instead and says so (scope "process"). Some kernels
and sandboxes accept the write and ignore it, so the reset is checked, not trusted: right after
it the peak must be the current resident set, and a small block touched and unmapped right after
must raise it (a peak that misses freed memory would miss a strategy's short spikes).

Resetting the peak also resets what getrusage and `time -v` report for the whole process at exit
(the kernel keeps one high-water mark), so a run's own peak is the largest strategy peak.
"""

from __future__ import annotations

import ctypes
import gc
import mmap
import re
import resource
import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

STATUS = Path("/proc/self/status")
CLEAR_REFS = Path("/proc/self/clear_refs")
RESET_PEAK = "5"  # proc(5): "5" resets the peak resident set size to the current one
# Right after a reset the peak may exceed the resident set read a moment later only by what was
# freed in between; more than this and the reset did not happen.
RESET_TOLERANCE_MB = 16.0
# The block touched to check that the peak follows memory freed before the read: small next to a
# model, large enough that counting noise cannot fake it.
PROBE_MB = 32
PAGE = mmap.PAGESIZE


class PeakMemory(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mb: float
    scope: Literal["strategy", "process"]  # the strategy's own peak, or the process's peak so far


class PeakMemoryMeter:
    """Reset on start, read on stop; one meter per strategy run."""

    def __init__(self):
        self.scope: Literal["strategy", "process"] = "process"

    def start(self) -> PeakMemoryMeter:
        try:
            CLEAR_REFS.write_text(RESET_PEAK)
        except OSError:
            self.scope = "process"
            return self
        if _reset_took_effect() and _peak_follows_freed_memory():
            CLEAR_REFS.write_text(RESET_PEAK)  # the probe's block is not the strategy's
            self.scope = "strategy"
        else:
            self.scope = "process"
        return self

    def read(self) -> PeakMemory:
        if self.scope == "strategy":
            value = _vm_hwm_mb()
            if value is not None:
                return PeakMemory(mb=round(value, 1), scope="strategy")
        return PeakMemory(mb=round(_ru_maxrss_mb(), 1), scope="process")


def _reset_took_effect() -> bool:
    peak, resident = _vm_hwm_mb(), _status_mb("VmRSS")
    return peak is not None and resident is not None and peak - resident <= RESET_TOLERANCE_MB


def _peak_follows_freed_memory() -> bool:
    """Touch fresh private pages (a new mapping, so no allocator can hand back memory already
    resident), unmap them, and check that the peak kept them."""
    before = _vm_hwm_mb()
    block = mmap.mmap(-1, PROBE_MB * 1024 * 1024, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    for offset in range(0, len(block), PAGE):
        block[offset] = 1
    block.close()
    after = _vm_hwm_mb()
    return before is not None and after is not None and after - before >= 0.9 * PROBE_MB


def _vm_hwm_mb() -> float | None:
    return _status_mb("VmHWM")


def _status_mb(field: str) -> float | None:
    try:
        match = re.search(rf"^{field}:\s+(\d+)\s+kB", STATUS.read_text(), re.MULTILINE)
    except OSError:
        return None
    return int(match.group(1)) / 1024 if match else None


def _ru_maxrss_mb() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / 1024 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


def return_freed_memory() -> None:
    """Hand memory freed by the last strategy back to the system before the next one starts.

    glibc keeps freed heap memory for reuse instead of returning it (measured: 1.9 GB resident
    after a batch of RAG-sized prompts, 0.96 GB after malloc_trim), so without this every
    strategy would start from the previous one's high-water mark. Elsewhere: a collection only."""
    gc.collect()  # model copies held in reference cycles (PEFT, transformers) go now, not later
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        pass
