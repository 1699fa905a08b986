"""A fake `probe-rs` / `picotool` acting on the pretend Picos of tests/faults (run under the tool's name).

Each subcommand's mode comes from the JSON file named by HIL_FAULT_TOOL_MODES, keyed "<tool> <subcommand>":
  ok    do it: `download`/`load` stores the image as the board's flash, `reset`/`reboot` asks the board to reset
  fail  print the real tool's error for an SWD target that does not answer, exit 1
  hang  never finish (the framework must kill it at its deadline)
The board is the one named by `--probe 2e8a:000c:PROBE-<id>` (probe-rs) or `--ser SN-<id>` (picotool).
"""
import json
import os
import shutil
import sys
import time

HANG_S = 3600
FAIL_EXIT_CODE = 1
SWD_FAILURE = ("Error: Connecting to the chip was unsuccessful.\n\nCaused by:\n"
               "    0: An ARM specific error occurred.\n    1: Timeout occured during probe operation.\n")
VERSIONS = {"probe-rs": "probe-rs 0.24.0 (git commit: fault-bench)", "picotool": "picotool v2.1.1 (Linux, GNU-12.2.0)"}


def board_id(args):
    for flag, prefix in (("--probe", "PROBE-"), ("--ser", "SN-")):
        if flag in args and args.index(flag) + 1 < len(args):
            value = args[args.index(flag) + 1]
            if prefix in value:
                return value.split(prefix, 1)[1]
    return None


def main():
    tool = globals().get("TOOL_NAME") or os.path.basename(sys.argv[0])   # set by the wrapper on PATH
    args = sys.argv[1:]
    subcommand = args[0] if args else ""
    modes_path = os.environ.get("HIL_FAULT_TOOL_MODES", "")
    modes = json.load(open(modes_path)) if modes_path and os.path.exists(modes_path) else {}
    mode = modes.get(f"{tool} {subcommand}", "ok")
    if mode == "hang":
        time.sleep(HANG_S)
    if mode == "fail":
        sys.stderr.write(SWD_FAILURE)
        return FAIL_EXIT_CODE
    if subcommand in ("--version", "version"):
        print(VERSIONS[tool])
        return 0
    target = board_id(args)
    triggers = os.environ["HIL_FAULT_TRIGGERS"]
    if subcommand in ("download", "load"):
        image = [a for a in args[1:] if not a.startswith("-") and os.path.isfile(a)][-1]
        shutil.copyfile(image, os.path.join(triggers, f"flash-{target}.bin"))
        print("      Erasing ✔ [00:00:00] [####] 12.00 KiB/12.00 KiB @ 46.30 KiB/s (eta 0s )")
        print("  Programming ✔ [00:00:00] [####] 12.00 KiB/12.00 KiB @ 29.20 KiB/s (eta 0s )")
        print("     Finished in 0.01s")
        if tool == "picotool" and "-x" in args:
            open(os.path.join(triggers, f"reset-{target}"), "w").close()
        return 0
    if subcommand in ("reset", "reboot"):
        open(os.path.join(triggers, f"reset-{target}"), "w").close()
        return 0
    sys.stderr.write(f"{tool}: subcommand {subcommand!r} is not faked\n")
    return 2


if __name__ == "__main__":
    sys.exit(main())
