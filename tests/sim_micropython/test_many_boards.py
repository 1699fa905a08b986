"""Ten simulated MicroPython Picos run at once, each its own interpreter, filesystem and port."""
from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor

from hil.process import run_tool
from tests.sim_micropython.conftest import MPREMOTE, short_tmp_dir
from tests.sim_micropython.sim_supervisor import SimSupervisor

BOARD_COUNT = 10
MPREMOTE_TIMEOUT_S = 60.0


def test_ten_boards_answer_mpremote_at_the_same_time():
    sim_dir = short_tmp_dir("hil-mpy10-")
    supervisor = SimSupervisor(sim_dir, board_count=BOARD_COUNT)
    try:
        def ask(index: int):
            code = f"open('who.txt','w').write('board {index}')\nimport machine\nprint(machine.unique_id().hex())"
            return run_tool([str(MPREMOTE), "connect", supervisor.ports[index], "exec", code],
                            MPREMOTE_TIMEOUT_S, check=False)

        with ThreadPoolExecutor(BOARD_COUNT) as pool:
            results = list(pool.map(ask, range(BOARD_COUNT)))
        assert [r.returncode for r in results] == [0] * BOARD_COUNT, [r.stderr for r in results]
        unique_ids = {r.stdout.strip() for r in results}
        assert len(unique_ids) == BOARD_COUNT  # ten distinct boards, not one board ten times
        for index in range(BOARD_COUNT):
            assert (supervisor.board_fs(index) / "who.txt").read_text() == f"board {index}"
    finally:
        supervisor.stop()
        shutil.rmtree(sim_dir, ignore_errors=True)
