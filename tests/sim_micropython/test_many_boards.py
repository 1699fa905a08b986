"""Several simulated MicroPython Picos run at once, each its own chip, flash and port."""
from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor

from hil.process import run_tool
from tests.sim_micropython.conftest import MPREMOTE, short_tmp_dir
from tests.sim_micropython.sim_supervisor import SimSupervisor

BOARD_COUNT = 4
MPREMOTE_TIMEOUT_S = 120.0


def test_several_boards_answer_mpremote_at_the_same_time():
    sim_dir = short_tmp_dir("hil-mpyN-")
    supervisor = SimSupervisor(sim_dir, board_count=BOARD_COUNT)
    try:
        def run(index: int, code: str):
            return run_tool([str(MPREMOTE), "connect", supervisor.ports[index], "exec", code],
                            MPREMOTE_TIMEOUT_S, check=False)

        def write(index: int):
            return run(index, f"open('who.txt','w').write('board {index}')\nimport machine\n"
                              f"print(machine.unique_id().hex())")

        with ThreadPoolExecutor(BOARD_COUNT) as pool:
            results = list(pool.map(write, range(BOARD_COUNT)))
            assert [r.returncode for r in results] == [0] * BOARD_COUNT, [r.stderr for r in results]
            unique_ids = {r.stdout.strip() for r in results}
            assert len(unique_ids) == BOARD_COUNT  # distinct boards, not one board several times
            read_back = list(pool.map(lambda i: run(i, "print(open('who.txt').read())"), range(BOARD_COUNT)))
        assert [r.stdout.strip() for r in read_back] == [f"board {i}" for i in range(BOARD_COUNT)]
    finally:
        supervisor.stop()
        shutil.rmtree(sim_dir, ignore_errors=True)
