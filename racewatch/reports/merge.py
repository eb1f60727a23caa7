"""Merging reports: one race seen by several processes (xdist workers, staging logs) is
one race, with its counts added, its tests joined, and the most specific pattern any of
them saw."""

from __future__ import annotations

from collections.abc import Iterable

from .model import Pattern, Race, Report, Summary, problems
from .patterns import RANK


def merge_races(groups: Iterable[Iterable[Race]]) -> list[Race]:
    """The distinct races of all ``groups``, first-seen order, counts and tests combined."""
    merged: dict[tuple, Race] = {}
    for races in groups:
        for race in races:
            seen = merged.get(race.signature)
            if seen is None:
                merged[race.signature] = Race.from_json(race.to_json())  # a copy
            else:
                seen.count += race.count
                seen.tests.extend(t for t in race.tests if t not in seen.tests)
                if _more_specific(race.pattern, seen.pattern):  # one process saw more
                    seen.pattern = race.pattern
    return list(merged.values())


def _more_specific(found: Pattern | None, kept: Pattern | None) -> bool:
    if found is None:
        return False
    return kept is None or RANK.get(found.id, -1) > RANK.get(kept.id, -1)


def merge_reports(reports: list[Report], command: list[str] | None = None) -> Report:
    """One report for many processes (their summaries added up)."""
    races = merge_races(r.races for r in reports)
    summary = Summary(races=len(races), problems=len(problems(races)))
    for r in reports:
        s = r.summary
        summary.occurrences += s.occurrences
        summary.suppressed += s.suppressed
        summary.suppressed_races += s.suppressed_races
        summary.threads += s.threads
        summary.dicts_tracked += s.dicts_tracked
        summary.lists_tracked += s.lists_tracked
        summary.sets_tracked += s.sets_tracked
        summary.accesses += s.accesses
        summary.duration_s = max(summary.duration_s, s.duration_s)
        summary.recycled_thread_slots += s.recycled_thread_slots
        summary.forgotten_deleted_keys += s.forgotten_deleted_keys
        summary.forgotten_missing_keys += s.forgotten_missing_keys
        if s.peak_rss_mb is not None:
            summary.peak_rss_mb = max(summary.peak_rss_mb or 0.0, s.peak_rss_mb)
        if s.tracking_cut and not summary.tracking_cut:
            summary.tracking_cut = s.tracking_cut
        summary.python = summary.python or s.python
        summary.core = summary.core or s.core
    # What every process agrees on stays: a pytest run (its xdist workers too) is "pytest",
    # started when its first process started; a merge of mixed runs says neither.
    modes = {r.summary.mode for r in reports}
    summary.mode = modes.pop() if len(modes) == 1 else ""
    starts = [r.summary.started_at for r in reports if r.summary.started_at]
    summary.started_at = min(starts) if starts else ""
    summary.command = list(command) if command is not None else \
        (reports[0].summary.command if reports else [])
    version = reports[0].version if reports else ""
    return Report(version, races, summary)
