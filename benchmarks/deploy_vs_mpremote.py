"""MicroPython deploy: our provisioner (`hil deploy`) vs `mpremote cp -r`, the same tree to the same board.

Both are run as the commands a person types, each a fresh process that opens the port itself, so each pays its own
start-up; each copies into a folder that does not exist yet on the board (nothing can be skipped), removed again
once its hashes are checked. Runs alternate
(ours first, then mpremote, then the other way round on the next repeat) so a change in the machine's load hits
both alike. Afterwards the board hashes every copied file and the hashes must equal the originals'.
"""
from __future__ import annotations

import json
import statistics
import sys
import time

from benchmarks.bench_session import PROJECT_ROOT, BenchSession
from benchmarks.board_files import mismatches, remove_folder
from benchmarks.figure import Figure, NO_CLOCK
from benchmarks.goal import at_least
from benchmarks.lesson_tree import VARIANTS, tree_files, tree_size_bytes, write_tree
from benchmarks.outcome import Outcome

NAME = "deploy_vs_mpremote"
GOAL_SPEEDUP = 3.0
GOAL_VARIANT = "python"        # the goal is about lesson scripts; the binary tree is recorded for comparison
COPY_TIMEOUT_S = 300.0
HASH_TIMEOUT_S = 60.0


def run_token() -> str:
    """Part of every board folder name: a board keeps its files between runs, and a folder left by an earlier
    (interrupted) run must not make a copy skip files."""
    return f"{int(time.time()) % 1_000_000:06d}"


def our_command(board_id: str, tree, dest: str) -> list[str]:
    return [sys.executable, "-m", "hil.cli", "deploy", board_id, str(tree), "--dest", dest, "--json"]


def mpremote_command(port: str, tree, dest: str) -> list[str]:
    # dest does not exist yet, so `cp -r tree :dest` copies the tree's contents into dest, as ours does.
    return [sys.executable, "-m", "mpremote", "connect", port, "cp", "-r", str(tree), f":{dest}"]


def run(session: BenchSession, repeats: int) -> list[Outcome]:
    from hil.process import run_tool
    board = session.board("micropython")
    session.release_ports()
    env = session.pytest_env()
    outcomes = []
    for variant in VARIANTS:
        tree = write_tree(session.scratch("trees"), variant)
        ours_s, ours_inside_s, mpremote_s, problems = [], [], [], []
        for attempt in range(repeats):
            order = ("ours", "mpremote") if attempt % 2 == 0 else ("mpremote", "ours")
            for who in order:
                dest = f"/bench_{run_token()}_{variant}_{who}_{attempt}"
                port = session.port_of("micropython")
                if who == "ours":
                    result = run_tool(our_command(board.board_id, tree, dest), COPY_TIMEOUT_S, env=env,
                                      cwd=PROJECT_ROOT)
                    ours_s.append(result.elapsed_s)
                    ours_inside_s.append(json.loads(result.stdout)["elapsed_s"])
                else:
                    result = run_tool(mpremote_command(port, tree, dest), COPY_TIMEOUT_S, env=env)
                    mpremote_s.append(result.elapsed_s)
                wrong = mismatches(tree, dest, port, HASH_TIMEOUT_S)
                if wrong:
                    problems.append(f"{who}: board hashes differ from the originals for {', '.join(wrong)}")
                remove_folder(port, dest, HASH_TIMEOUT_S)
        ours, mpremote = statistics.median(ours_s), statistics.median(mpremote_s)
        outcome = Outcome(NAME, f"{variant} tree", goal=at_least("mpremote cp -r time / ours", GOAL_SPEEDUP)
                          if variant == GOAL_VARIANT else None, problems=problems,
                          ratio_name="mpremote cp -r time / ours")
        outcome.figures += [
            Figure(f"tree: {len(tree_files(tree))} files, one of them 100 KB {variant}", tree_size_bytes(tree),
                   "bytes", NO_CLOCK),
            Figure(f"ours (hil deploy, whole command; median of {len(ours_s)})", round(ours, 3), "s"),
            Figure("ours, copying alone (DeployReport.elapsed_s)", round(statistics.median(ours_inside_s), 3), "s"),
            Figure(f"mpremote cp -r (whole command; median of {len(mpremote_s)})", round(mpremote, 3), "s"),
            Figure("board hashes equal the originals (both copies)", 0 if problems else 1, "", NO_CLOCK),
        ]
        outcome.ratio = mpremote / ours
        outcomes.append(outcome)
    return outcomes
