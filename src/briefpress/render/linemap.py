"""Where each line of a section's Jinja output came from: its line in the section file, found by pairing
equal lines of the two as patience diff does."""

from __future__ import annotations

import bisect


class LineMap:
    """Maps lines of Jinja's output back to lines of the section file.

    A line of output equal to a source line (found by ``_equal_lines``) maps to it; any other maps to the
    source line after the last equal one before it: the line Jinja grew it from.
    """

    def __init__(self, source: str, output: str, first_line: int):
        self.first_line = first_line
        src, out = source.splitlines(), output.splitlines()
        equal = _equal_lines(src, out)
        self._map: list[int] = []
        following = 0
        for j in range(len(out)):
            index = equal.get(j)
            if index is not None:
                following = index + 1
            self._map.append(following if index is None else index)

    def __call__(self, output_line: int) -> int:
        index = self._map[output_line] if output_line < len(self._map) else (self._map[-1] if self._map else 0)
        return self.first_line + index


#: How many times ``_equal_lines`` looks again between the lines it has paired.
_LEVELS = 8


def _equal_lines(src: list[str], out: list[str]) -> dict[int, int]:
    """Pair equal lines of ``out`` and ``src``, in order (output line -> source line), as patience diff does.

    Each range is matched from both ends while its lines are equal; then the lines found exactly once in
    each side of it, in the longest run that keeps their order, are paired, and the ranges between them
    looked at again, down to ``_LEVELS``. Each level costs time about linear in the lines (a general diff is
    quadratic: a section of 20,000 paragraphs took half a minute).
    """
    pairs: dict[int, int] = {}
    ranges = [(0, len(src), 0, len(out), 0)]
    while ranges:
        s_lo, s_hi, o_lo, o_hi, level = ranges.pop()
        while s_lo < s_hi and o_lo < o_hi and src[s_lo] == out[o_lo]:
            pairs[o_lo] = s_lo
            s_lo, o_lo = s_lo + 1, o_lo + 1
        while s_lo < s_hi and o_lo < o_hi and src[s_hi - 1] == out[o_hi - 1]:
            s_hi, o_hi = s_hi - 1, o_hi - 1
            pairs[o_hi] = s_hi
        if s_lo == s_hi or o_lo == o_hi:
            continue
        anchors = _unique_in_order(src, s_lo, s_hi, out, o_lo, o_hi) if level < _LEVELS else []
        if not anchors:  # lines found more than once (blank ones): paired with the next few source lines
            _pair_nearby(src, s_lo, s_hi, out, o_lo, o_hi, pairs)
        for s, o in anchors:
            pairs[o] = s
            ranges.append((s_lo, s, o_lo, o, level + 1))
            s_lo, o_lo = s + 1, o + 1
        if anchors:
            ranges.append((s_lo, s_hi, o_lo, o_hi, level + 1))
    return pairs


#: How many source lines ahead ``_pair_nearby`` looks for a line equal to the output's.
_NEARBY = 3


def _pair_nearby(src: list[str], s_lo: int, s_hi: int, out: list[str], o_lo: int, o_hi: int,
                 pairs: dict[int, int]) -> None:
    """Pair each output line with an equal source line among the next ``_NEARBY`` after the last paired one:
    Jinja grows each source line into a few lines, in order."""
    s = s_lo
    for o in range(o_lo, o_hi):
        for ahead in range(s, min(s + _NEARBY, s_hi)):
            if src[ahead] == out[o]:
                pairs[o] = ahead
                s = ahead + 1
                break


def _unique_in_order(src: list[str], s_lo: int, s_hi: int, out: list[str], o_lo: int,
                     o_hi: int) -> list[tuple[int, int]]:
    """The lines found once in ``src[s_lo:s_hi]`` and once in ``out[o_lo:o_hi]``, as (source, output) pairs:
    the longest run of them in the same order on both sides (patience sorting, n log n)."""
    counts: dict[str, list[int]] = {}
    for s in range(s_lo, s_hi):
        counts.setdefault(src[s], [0, 0, s])[0] += 1
    for o in range(o_lo, o_hi):
        entry = counts.get(out[o])
        if entry is not None:
            entry[1] += 1
            entry.append(o)
    candidates = sorted((entry[3], entry[2]) for entry in counts.values() if entry[0] == 1 and entry[1] == 1)
    tops: list[int] = []  # the source line ending the best run of each length
    ends: list[int] = []  # which candidate that is
    before: list[int] = []  # each candidate's predecessor in its run
    for index, (_, s) in enumerate(candidates):
        length = bisect.bisect_left(tops, s)
        before.append(ends[length - 1] if length else -1)
        if length == len(tops):
            tops.append(s)
            ends.append(index)
        else:
            tops[length], ends[length] = s, index
    run: list[tuple[int, int]] = []
    index = ends[-1] if ends else -1
    while index >= 0:
        o, s = candidates[index]
        run.append((s, o))
        index = before[index]
    return run[::-1]

