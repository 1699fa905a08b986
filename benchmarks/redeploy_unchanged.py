"""Re-deploy with nothing changed: the second provisioning of the same scripts and the same Rust firmware, as a
fraction of the first. The provisioner must notice nothing changed: zero files written, zero flashes.

Scripts: the deploy benchmark's lesson tree (lesson scripts plus a 100 KB module) into a fresh folder, then
again; `MicroPythonBoard.provision` as the fixtures call it. Rust: the lesson firmware flashed onto the board
(after taking it back to BOOTSEL on the simulated bench, so the first provisioning really flashes), then
provisioned again; `RustBoard.provision`, which asks the running build id first. (On a physical board that
already runs the build, the first is timed as a forced flash and boot instead.)
"""
from __future__ import annotations

from benchmarks.bench_session import BenchSession
from benchmarks.board_files import remove_folder
from benchmarks.deploy_vs_mpremote import run_token
from benchmarks.figure import Figure, NO_CLOCK
from benchmarks.goal import at_most
from benchmarks.lesson_tree import write_tree
from benchmarks.outcome import Outcome
from hil.deadline import Deadline
from hil.board.board import ProvisionArtifacts

NAME = "redeploy_unchanged"
GOAL_FRACTION = 0.05
PROVISION_TIMEOUT_S = 300.0
CONTROL_TIMEOUT_S = 10.0
REMOVE_TIMEOUT_S = 60.0
DEST = "/bench_redeploy"
FIRMWARE = "lesson"


def run(session: BenchSession) -> list[Outcome]:
    outcomes = []
    if session.has_runtime("micropython"):
        outcomes.append(_scripts(session))
    if session.has_runtime("rust"):
        outcomes.append(_firmware(session))
    return outcomes


def _scripts(session: BenchSession) -> Outcome:
    from hil.deploy.micropython_deployer import plan_files
    board = session.board("micropython")
    tree = write_tree(session.scratch("redeploy"), "python")
    dest = f"{DEST}_{run_token()}"
    files = plan_files([tree], dest)
    first = board.provision(ProvisionArtifacts(files=tuple(files)), PROVISION_TIMEOUT_S)
    second = board.provision(ProvisionArtifacts(files=tuple(files)), PROVISION_TIMEOUT_S)
    # Where the time of a no-change deploy goes: the same once more without the soft reset that follows it.
    without_reset = board.deployer.deploy(session.port_of("micropython"), files, PROVISION_TIMEOUT_S,
                                          soft_reset=False)
    outcome = Outcome(NAME, "scripts", goal=at_most("second deploy time / first", GOAL_FRACTION, ""))
    outcome.figures += [
        Figure(f"first deploy ({len(first.files_written)} of {first.files_total} files written, "
               f"{first.bytes_written} bytes)", round(first.elapsed_s, 3), "s"),
        Figure(f"second deploy, nothing changed ({len(second.files_unchanged)} files unchanged, soft reset "
               f"{'done' if second.soft_reset_done else 'skipped'})", round(second.elapsed_s, 3), "s"),
        Figure("files written by the second deploy", len(second.files_written), "", NO_CLOCK),
        Figure("(breakdown) a third, nothing changed, without the soft reset", round(without_reset.elapsed_s, 3),
               "s"),
    ]
    rewritten = second.files_written + without_reset.files_written
    if rewritten:
        outcome.problems.append(f"a deploy with nothing changed wrote {', '.join(rewritten)}")
    if len(first.files_written) != first.files_total:
        outcome.problems.append("the first deploy did not write every file (the folder was not fresh)")
    outcome.ratio = second.elapsed_s / first.elapsed_s
    board.close()
    remove_folder(session.port_of("micropython"), dest, REMOVE_TIMEOUT_S)
    return outcome


def _firmware(session: BenchSession) -> Outcome:
    board = session.board("rust")
    image = session.artifacts.firmware(FIRMWARE)
    if session.is_simulated:
        # A fresh simulated board may already run this build (another benchmark flashed it): send it to BOOTSEL
        # so the first provisioning is a real flash, as on a board that ran something else.
        board.close()
        session.bench.client.request({"cmd": "bootsel", "board": board.board_id}, CONTROL_TIMEOUT_S)
    first = board.provision(ProvisionArtifacts(firmware=image), PROVISION_TIMEOUT_S)
    first_s, first_how = first.elapsed_s, f"flashed with {first.flasher}" if first.flashed else "NOT flashed"
    if not first.flashed and not session.is_simulated:
        # A physical board that already runs this build: time what a first provisioning does, flash and boot.
        first_s, first_how = _forced_flash_s(board, image), f"flashed with {board.flasher.name} (forced)"
    second = board.provision(ProvisionArtifacts(firmware=image), PROVISION_TIMEOUT_S)
    flashes = int(second.flashed)
    outcome = Outcome(NAME, "Rust firmware", goal=at_most("second provisioning time / first", GOAL_FRACTION, ""))
    outcome.figures += [
        Figure(f"first provisioning ({first_how}, build {image.build_id})", round(first_s, 3), "s"),
        Figure("second provisioning, same build (asks the running build id)", round(second.elapsed_s, 3), "s"),
        Figure("flashes by the second provisioning", flashes, "", NO_CLOCK),
    ]
    if flashes:
        outcome.problems.append("the second provisioning flashed although the build was unchanged")
    if first_how == "NOT flashed":
        outcome.problems.append("the first provisioning did not flash (the board already ran this build)")
    outcome.ratio = second.elapsed_s / first_s
    return outcome


def _forced_flash_s(board, image) -> float:
    deadline = Deadline(PROVISION_TIMEOUT_S)
    board.close()
    board.flasher.flash(image.path_for(board.flasher.image_suffixes), deadline.remaining_s)
    board.wait_until_running(deadline.remaining_s)
    return deadline.elapsed_s
