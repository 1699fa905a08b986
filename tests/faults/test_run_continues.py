"""After a fault the run goes on: the next scenario gets a board that was reset (and passes), or one that is marked
broken (and fails fast, saying why). These start real pytest runs of scenario files on a FaultBench."""
from __future__ import annotations

from tests.faults.fault_run import FaultRun
from tests.faults.pretend_pico import HANG_COMMAND, VANISH_FOREVER

RUST = {"pico-r": "rust"}
FAIL_FAST_S = 1.0   # a scenario on a broken board fails without waiting on the hardware

PING_AS_IS = """\
    scenario: {name}
    claim: The board answers.
    boards:
      r: {{runtime: rust, provision: false}}
    steps:
      - {{on: r, command: ping, expect: '^OK pong', timeout_s: 1.5}}
"""

PROVISIONED_PING = """\
    scenario: {name}
    claim: The board answers after provisioning.
    boards:
      r: {{runtime: rust, firmware: lesson}}
    steps:
      - {{on: r, command: ping, expect: '^OK pong', timeout_s: 1}}
"""


def test_a_board_whose_port_vanished_for_good_fails_the_next_scenario_fast_saying_why(tmp_path):
    run = FaultRun(tmp_path, RUST, behaviours={"pico-r": VANISH_FOREVER})
    run.scenario("a_vanishes", PING_AS_IS.format(name="vanishes"))
    run.scenario("b_next", PING_AS_IS.format(name="next"))
    result = run.run()
    claims = run.claims()
    assert claims["vanishes"]["status"] == "failed"
    assert "PortVanished: board 'pico-r' serial port" in claims["vanishes"]["reason"]
    assert claims["next"]["status"] == "failed"
    assert "BoardBroken: board 'pico-r' is marked broken earlier in this run" in claims["next"]["reason"]
    assert "disappeared and did not come back" in claims["next"]["reason"]
    assert claims["next"]["duration_s"] < FAIL_FAST_S
    assert set(run.junit_cases()) == {"vanishes", "next"}, result.stdout


def test_a_board_stuck_in_an_endless_loop_fails_its_scenario_and_is_reset_for_the_next(tmp_path):
    # Provisioning the hung board first waits for an answer to `id` (2 s), then flashes and resets it.
    run = FaultRun(tmp_path, RUST, provision_timeout_s=10.0)
    run.scenario("a_hangs", f"""\
        scenario: hangs
        claim: The firmware keeps answering.
        boards:
          r: {{runtime: rust, firmware: lesson}}
        steps:
          - {{on: r, send: "{HANG_COMMAND}\\n"}}
          - {{on: r, command: ping, timeout_s: 1}}
    """)
    run.scenario("b_after_reset", PROVISIONED_PING.format(name="after-reset"))
    result = run.run()
    claims = run.claims()
    assert claims["hangs"]["status"] == "failed"
    assert "step 2 (line 7)" in claims["hangs"]["reason"] and "StepTimeout" in claims["hangs"]["reason"]
    assert claims["after-reset"]["status"] == "passed", result.stdout
    assert claims["after-reset"]["boards"]["pico-r"]["state"] == "ready"


def test_a_hanging_flashing_tool_fails_its_scenario_at_the_deadline_and_the_next_one_fast(tmp_path):
    provision_timeout_s = 2.0
    run = FaultRun(tmp_path, RUST, tool_modes={"probe-rs download": "hang"},
                   provision_timeout_s=provision_timeout_s)
    run.scenario("a_flash_hangs", PROVISIONED_PING.format(name="flash-hangs"))
    run.scenario("b_next", PROVISIONED_PING.format(name="next"))
    run.run()
    claims = run.claims()
    assert claims["flash-hangs"]["status"] == "failed"
    assert "ToolTimeout: probe-rs download" in claims["flash-hangs"]["reason"]
    assert claims["flash-hangs"]["duration_s"] < provision_timeout_s + 1.0
    assert claims["next"]["status"] == "failed"
    assert "BoardBroken" in claims["next"]["reason"] and "provisioning failed: ToolTimeout" in claims["next"]["reason"]
    assert claims["next"]["duration_s"] < FAIL_FAST_S


def test_a_missing_flashing_tool_fails_every_scenario_on_that_board_naming_the_tool(tmp_path):
    run = FaultRun(tmp_path, RUST, missing_tools=("probe-rs",))
    run.scenario("a_first", PROVISIONED_PING.format(name="first"))
    run.scenario("b_second", PROVISIONED_PING.format(name="second"))
    run.run()
    claims = run.claims()
    assert "ToolMissing: probe-rs: not found on PATH" in claims["first"]["reason"]
    assert "BoardBroken" in claims["second"]["reason"] and "probe-rs: not found on PATH" in claims["second"]["reason"]
    assert claims["second"]["duration_s"] < FAIL_FAST_S
