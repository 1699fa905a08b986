"""The checkers the exclusivity tests rely on do see a shared board."""
from __future__ import annotations

from tests.scale.ownership import interleaved_users, overlapping_holds


def test_holds_of_one_board_that_overlap_are_found_and_other_boards_do_not_count():
    holds = [{"board": "a", "start": 0.0, "end": 10.0}, {"board": "a", "start": 1.0, "end": 2.0},
             {"board": "a", "start": 10.0, "end": 11.0}, {"board": "b", "start": 0.5, "end": 3.0}]
    assert overlapping_holds(holds) == [(holds[0], holds[1])]


def test_back_to_back_holds_are_not_an_overlap():
    holds = [{"board": "a", "start": 0.0, "end": 1.0}, {"board": "a", "start": 1.0, "end": 2.0}]
    assert overlapping_holds(holds) == []


def test_a_second_user_beginning_on_a_held_board_is_seen_in_what_the_board_received():
    lines = [(0.0, "BEGIN gw0 1"), (0.1, "BEGIN gw1 2"), (0.2, "END gw0 1"), (0.3, "END gw1 2")]
    assert interleaved_users(lines) == ["gw1 2 began while gw0 1 held the board",
                                        "gw0 1 ended but gw1 2 held the board",
                                        "gw1 2 ended but None held the board"]
    assert interleaved_users([(0.0, "BEGIN gw0 1"), (0.1, "END gw0 1"), (0.2, "BEGIN gw1 2"),
                              (0.3, "END gw1 2")]) == []
