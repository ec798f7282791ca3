"""Each strategy's peak resident memory is its own: a large allocation in one run must not show
in the next one's figure, and the fallback says it is the process-wide peak."""

from advisor.evaluation import peak_memory
from advisor.evaluation.peak_memory import PeakMemoryMeter

MB = 1024 * 1024


def _touch(megabytes: int) -> bytearray:
    block = bytearray(megabytes * MB)
    for offset in range(0, len(block), 4096):  # resident only once written
        block[offset] = 1
    return block


def test_a_strategy_peak_is_its_own_not_the_process_highest():
    first = PeakMemoryMeter().start()
    block = _touch(300)
    del block
    big = first.read()
    second = PeakMemoryMeter().start()
    small = second.read()
    assert big.scope == small.scope == "strategy"
    assert big.mb - small.mb > 250


def test_the_peak_counts_memory_freed_before_the_read():
    meter = PeakMemoryMeter().start()
    before = meter.read().mb
    block = _touch(200)
    del block
    assert meter.read().mb - before > 150


def test_without_a_resettable_peak_the_process_peak_is_reported_as_such(tmp_path, monkeypatch):
    monkeypatch.setattr(peak_memory, "CLEAR_REFS", tmp_path / "missing" / "clear_refs")
    reading = PeakMemoryMeter().start().read()
    assert reading.scope == "process"
    assert reading.mb > 10
