"""reports/allocation.collecting_less: fewer collections inside, the process left as it was found."""

from __future__ import annotations

import gc
import threading

from reports.allocation import YOUNG_THRESHOLD, collecting_less


def test_raises_the_young_threshold_inside_and_restores_it_after():
    before = gc.get_threshold()
    with collecting_less():
        inside = gc.get_threshold()
        with collecting_less():  # nested (a job around gather and render): no change, no early restore
            assert gc.get_threshold() == inside
        assert gc.get_threshold() == inside
    assert inside == (max(before[0], YOUNG_THRESHOLD), *before[1:])
    assert gc.get_threshold() == before


def test_restores_after_an_error():
    before = gc.get_threshold()
    try:
        with collecting_less():
            raise ValueError("a failed render")
    except ValueError:
        pass
    assert gc.get_threshold() == before


def test_threads_overlapping_leave_the_process_as_they_found_it():
    before = gc.get_threshold()
    entered, release = threading.Barrier(4), threading.Event()
    seen = []

    def render():
        with collecting_less():
            entered.wait()
            release.wait()
            seen.append(gc.get_threshold()[0])

    threads = [threading.Thread(target=render) for _ in range(4)]
    for thread in threads:
        thread.start()
    release.set()
    for thread in threads:
        thread.join()
    assert seen == [max(before[0], YOUNG_THRESHOLD)] * 4
    assert gc.get_threshold() == before


def test_a_higher_threshold_set_by_the_operator_is_kept():
    before = gc.get_threshold()
    gc.set_threshold(50_000, *before[1:])
    try:
        with collecting_less():
            assert gc.get_threshold()[0] == 50_000
        assert gc.get_threshold()[0] == 50_000
    finally:
        gc.set_threshold(*before)
