"""The worker pool that lays out a long brief's parts side by side (``briefpress.workers``).

The jobs here are small functions, not layouts, so that the numbering and the failures can be checked
exactly; ``test_parts.py`` runs the real layout through the same pool.
"""

from __future__ import annotations

import os
import time

import pytest

import briefpress.workers
from briefpress.errors import Diagnostics
from briefpress.workers import run_in_order
from conftest import child_processes


def _part(pages: int, delay: float = 0.0):
    """A job standing for a part of ``pages`` pages; it returns its first page and the process it ran in."""
    def job(first_page_of, diags: Diagnostics):
        time.sleep(delay)
        first = first_page_of(pages)
        diags.warning(None, None, f"part of {pages} pages from page {first}")
        return first, os.getpid()
    return job


@pytest.fixture(params=[1, 2, 3], ids=lambda n: f"{n}-workers")
def workers(request, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(briefpress.workers, "WORKERS", request.param)
    return request.param


def test_parts_are_numbered_on_from_the_parts_before(workers: int) -> None:
    # The first jobs are slow, so later ones reach their count first and must wait for their number.
    sizes = [3, 1, 4, 1, 5, 9, 2]
    delays = [0.3, 0.2, 0, 0, 0.1, 0, 0]
    diags, before = Diagnostics(), child_processes()
    results = run_in_order([_part(n, d) for n, d in zip(sizes, delays)], diags)
    assert [first for first, _ in results] == [1, 4, 5, 9, 10, 15, 24]
    # Diagnostics come back in the order of the parts, whichever finished first.
    assert [d.message for d in diags.items] == [f"part of {n} pages from page {first}"
                                                for n, (first, _) in zip(sizes, results)]
    processes = {pid for _, pid in results}
    if workers == 1:
        assert processes == {os.getpid()}
    else:
        assert os.getpid() not in processes and len(processes) == workers
    assert child_processes() == before  # every worker has been reaped


def test_a_part_of_no_pages_does_not_hold_up_the_rest(workers: int) -> None:
    def empty(first_page_of, diags):  # never asks, as a part that makes no page would not
        return None, os.getpid()

    results = run_in_order([_part(2), empty, _part(3)], Diagnostics())
    assert [first for first, _ in results] == [1, None, 3]


def test_a_failing_part_stops_the_build_with_its_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(briefpress.workers, "WORKERS", 2)

    def broken(first_page_of, diags):
        raise ValueError("the layout broke")

    before = child_processes()
    with pytest.raises(RuntimeError, match=r"part 2 of the PDF failed:(.|\n)*ValueError: the layout broke"):
        run_in_order([_part(2, 0.5), broken, _part(3, 0.5), _part(1)], Diagnostics())
    assert child_processes() == before  # the other worker was stopped and reaped, not left behind


def test_worker_count_follows_the_setting_and_the_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(briefpress.workers, "WORKERS", None)
    monkeypatch.setenv("BRIEFPRESS_WORKERS", "1")
    assert briefpress.workers.worker_count(5) == 1
    monkeypatch.setenv("BRIEFPRESS_WORKERS", "3")
    assert briefpress.workers.worker_count(5) == 3
    assert briefpress.workers.worker_count(2) == 2  # never more workers than jobs
    monkeypatch.delenv("BRIEFPRESS_WORKERS")
    assert briefpress.workers.worker_count(64) == len(os.sched_getaffinity(0))


def test_what_jobs_publish_reaches_the_build_while_they_go_on(workers: int, tmp_path) -> None:
    """A job's published value is handed over as it comes, before the job ends: the last job here waits
    for a file that the build writes only once every job has published."""
    flag = tmp_path / "all-published"

    def job(pages: int):
        def run(paging, diags):
            first = paging(pages)
            paging.publish((pages, first))
            if workers >= 3:  # all side by side: each job waits until the build has heard from all of them
                deadline = time.monotonic() + 20
                while not flag.exists():
                    assert time.monotonic() < deadline, "the build did not get every published value in time"
                    time.sleep(0.01)
            return first
        return run

    heard = {}

    def published(index, value):
        heard[index] = value
        if len(heard) == 3:
            flag.touch()

    results = run_in_order([job(2), job(5), job(1)], Diagnostics(), published)
    assert results == [1, 3, 8]
    assert heard == {0: (2, 1), 1: (5, 3), 2: (1, 8)}
