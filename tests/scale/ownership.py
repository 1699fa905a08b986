"""Checks of who held a board when: from the holders' own records, and from what the board itself received."""
from __future__ import annotations

from collections import defaultdict


def overlapping_holds(intervals: list[dict]) -> list[tuple[dict, dict]]:
    """Pairs of holds of the same board whose times overlap."""
    by_board = defaultdict(list)
    for interval in intervals:
        by_board[interval["board"]].append(interval)
    clashes = []
    for holds in by_board.values():
        holds.sort(key=lambda h: h["start"])
        clashes += [(a, b) for a, b in zip(holds, holds[1:]) if b["start"] < a["end"]]
    return clashes


def interleaved_users(lines: list[tuple[float, str]]) -> list[str]:
    """What a board saw that breaks BEGIN x / END x / BEGIN y / END y ... (a second user while one is on it)."""
    problems, current = [], None
    for _time, line in lines:
        kind, _, who = line.partition(" ")
        if kind == "BEGIN":
            if current is not None:
                problems.append(f"{who} began while {current} held the board")
            current = who
        elif kind == "END":
            if who != current:
                problems.append(f"{who} ended but {current} held the board")
            current = None
    return problems
