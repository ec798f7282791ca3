"""Each strategy's peak resident memory is its own: a large allocation in one run must not show
in the next one's figure. Where the kernel cannot reset the peak (or accepts the reset and ignores
it) the figure is the process-wide peak and says so.

Blocks are fresh anonymous mappings, not Python objects: an allocator may hand back memory that
is already resident, which raises no peak however large the object."""

import mmap

from advisor.evaluation import peak_memory
from advisor.evaluation.peak_memory import PeakMemoryMeter

MB = 1024 * 1024


def _touch(megabytes: int) -> None:
    """Make `megabytes` resident and free them again."""
    block = mmap.mmap(-1, megabytes * MB, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    for offset in range(0, len(block), mmap.PAGESIZE):  # resident only once written
        block[offset] = 1
    block.close()


def _fake_proc(tmp_path, monkeypatch, *, peak_kb: int, resident_kb: int):
    status = tmp_path / "status"
    status.write_text(f"Name:\tpython\nVmHWM:\t{peak_kb} kB\nVmRSS:\t{resident_kb} kB\n")
    monkeypatch.setattr(peak_memory, "STATUS", status)
    monkeypatch.setattr(peak_memory, "CLEAR_REFS", tmp_path / "clear_refs")


def test_a_strategy_peak_is_its_own_or_says_it_is_the_process_peak():
    first = PeakMemoryMeter().start()
    _touch(300)
    big = first.read()
    second = PeakMemoryMeter().start()
    small = second.read()
    assert big.mb > 300
    if second.scope == "strategy":  # this kernel resets the peak: the 300 MB stayed in the first run
        assert big.mb - small.mb > 250
    else:
        assert small.scope == "process" and small.mb >= big.mb


def test_the_peak_counts_memory_freed_before_the_read():
    _touch(400)  # the process has been higher than anything below reaches
    meter = PeakMemoryMeter().start()
    before = meter.read().mb
    _touch(200)
    after = meter.read()
    if after.scope == "strategy":
        assert after.mb - before > 150
    else:
        assert after.mb >= before


def test_a_reset_the_kernel_ignored_is_reported_as_the_process_peak(tmp_path, monkeypatch):
    _fake_proc(tmp_path, monkeypatch, peak_kb=1900 * 1024, resident_kb=600 * 1024)
    assert PeakMemoryMeter().start().read().scope == "process"


def test_a_peak_that_misses_freed_memory_is_reported_as_the_process_peak(tmp_path, monkeypatch):
    # the reset took effect, but the peak stays put while the probe's block comes and goes
    _fake_proc(tmp_path, monkeypatch, peak_kb=605 * 1024, resident_kb=600 * 1024)
    assert PeakMemoryMeter().start().read().scope == "process"


def test_a_reset_that_took_effect_reads_the_strategy_peak(tmp_path, monkeypatch):
    _fake_proc(tmp_path, monkeypatch, peak_kb=605 * 1024, resident_kb=600 * 1024)
    monkeypatch.setattr(peak_memory, "_peak_follows_freed_memory", lambda: True)
    reading = PeakMemoryMeter().start().read()
    assert reading.scope == "strategy" and reading.mb == 605.0


def test_without_a_resettable_peak_the_process_peak_is_reported_as_such(tmp_path, monkeypatch):
    monkeypatch.setattr(peak_memory, "CLEAR_REFS", tmp_path / "missing" / "clear_refs")
    reading = PeakMemoryMeter().start().read()
    assert reading.scope == "process"
    assert reading.mb > 10
