"""Reading what probe-rs and picotool print: probe lists, versions, device info, progress and known failures.

Neither tool has a machine-readable output for these commands, so the formats below follow their sources:
- `probe-rs list`: "The following debug probes were found:" then one line per probe,
  `[N]: <identifier> -- <vid>:<pid>[-<interface>]:<serial> (<probe type>)`, optionally followed by
  " (inaccessible)"; or "No debug probes were found.".
- `probe-rs --version`: "probe-rs 0.30.0 (git commit: <rev or crates.io>)"; `-V` omits the parenthesis.
- probe-rs errors: anyhow's report on stderr, "Error: <message>" then "Caused by:" lines.
- probe-rs download progress bars are drawn only on a terminal; piped, it prints "Finished in 0.74s".
- `picotool version`: "picotool v2.1.1 (Linux, GNU-12.2.0, Release)".
- `picotool info -a`: groups ("Program Information", "Device Information", ...) each followed by indented
  "key:   value" lines; a value continuing on the next line is indented further with no key.
- picotool progress: "Loading into Flash: [=====     ]  42%" redrawn with carriage returns, "  OK" after a
  verify, and failures as "ERROR: <message>" on stdout with a negative exit code.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_PROBE_LINE = re.compile(
    r"^\[(?P<index>\d+)\]: (?P<name>.*) -- (?P<vid>[0-9a-fA-F]{4}):(?P<pid>[0-9a-fA-F]{4})"
    r"(?:-(?P<interface>\d+))?:(?P<serial>\S*) \((?P<probe_type>[^()]*)\)(?P<inaccessible> \(inaccessible\))?\s*$"
)
_PROBE_RS_VERSION = re.compile(r"^probe-rs\s+(?P<version>\d+\.\d+\.\d+\S*)(?:\s+\(git commit: (?P<commit>[^)]*)\))?")
_PICOTOOL_VERSION = re.compile(r"^picotool v(?P<version>\d+\.\d+\.\d+\S*)(?:\s+\((?P<build>[^)]*)\))?")
_PROBE_RS_FINISHED = re.compile(r"Finished in (?P<seconds>\d+(?:\.\d+)?)s")
_PROBE_RS_PROGRESS = re.compile(r"(?P<phase>Erasing|Programming|Verifying|Reading flash|Writing RAM)\b"
                                r"(?:\s+\d+)?\s+\S?\s*(?P<percent>\d{1,3})%")
_PICOTOOL_PROGRESS = re.compile(r"(?P<phase>Loading into|Verifying) (?P<memory>[A-Za-z ]+?):\s*\[[= ]*\]\s+"
                                r"(?P<percent>\d{1,3})%")
_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True)
class ProbeListing:
    """One debug probe as `probe-rs list` shows it."""

    index: int
    name: str
    vid: int
    pid: int
    interface: int | None
    serial_number: str
    probe_type: str
    inaccessible: bool = False

    @property
    def vid_pid(self) -> str:
        return f"{self.vid:04x}:{self.pid:04x}"   # as bench files write it (hil.bench.usb_ids, a layer up)

    @property
    def selector(self) -> str:
        """The `--probe` argument that picks exactly this probe: VID:PID:SERIAL."""
        return f"{self.vid_pid}:{self.serial_number}" if self.serial_number else self.vid_pid


@dataclass(frozen=True)
class Progress:
    """One progress observation from a flashing tool."""

    phase: str          # "Erasing", "Programming", "Verifying", "Loading into Flash", ...
    percent: int | None


def strip_ansi(text: str) -> str:
    """Remove terminal colour codes (probe-rs colours 'Finished' and 'Error' even in some piped setups)."""
    return _ANSI_ESCAPE.sub("", text)


def parse_probe_rs_list(text: str) -> list[ProbeListing]:
    """The probes in the output of `probe-rs list` (an empty list for "No debug probes were found.")."""
    probes = []
    for line in strip_ansi(text).splitlines():
        match = _PROBE_LINE.match(line.strip())
        if not match:
            continue
        probes.append(ProbeListing(
            index=int(match["index"]), name=match["name"], vid=int(match["vid"], 16), pid=int(match["pid"], 16),
            interface=int(match["interface"]) if match["interface"] is not None else None,
            serial_number=match["serial"], probe_type=match["probe_type"],
            inaccessible=match["inaccessible"] is not None,
        ))
    return probes


def parse_probe_rs_version(text: str) -> str | None:
    """'0.30.0' from `probe-rs --version` output, or None if it is not probe-rs's format."""
    for line in strip_ansi(text).splitlines():
        match = _PROBE_RS_VERSION.match(line.strip())
        if match:
            return match["version"]
    return None


def parse_picotool_version(text: str) -> str | None:
    """'2.1.1' from `picotool version` output, or None if it is not picotool's format."""
    for line in text.splitlines():
        match = _PICOTOOL_VERSION.match(line.strip())
        if match:
            return match["version"]
    return None


def parse_picotool_info(text: str) -> dict[str, dict[str, str]]:
    """`picotool info [-a]` output as {group: {key: value}}; continuation lines join the previous value."""
    groups: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    last_key: str | None = None
    for raw in text.splitlines():
        if not raw.strip():
            continue
        if not raw.startswith(" "):
            current = groups.setdefault(raw.strip().rstrip(":"), {})
            last_key = None
            continue
        if current is None:
            continue
        line = raw.strip()
        key, sep, value = line.partition(":")
        if sep and key and "  " not in key and (value.startswith(" ") or value == ""):
            last_key = key.strip()
            current[last_key] = value.strip()
        elif last_key is not None:
            current[last_key] = f"{current[last_key]}\n{line}" if current[last_key] else line
    return groups


def parse_probe_rs_finished_s(text: str) -> float | None:
    """Seconds from probe-rs's "Finished in 0.74s" line, if present."""
    match = _PROBE_RS_FINISHED.search(strip_ansi(text))
    return float(match["seconds"]) if match else None


def parse_progress(line: str) -> list[Progress]:
    """Progress observations in one output line of probe-rs or picotool (picotool redraws with '\\r')."""
    observations = []
    for segment in strip_ansi(line).split("\r"):
        for match in _PICOTOOL_PROGRESS.finditer(segment):
            observations.append(Progress(f"{match['phase']} {match['memory'].strip()}", int(match["percent"])))
        for match in _PROBE_RS_PROGRESS.finditer(segment):
            observations.append(Progress(match["phase"], int(match["percent"])))
        if _PROBE_RS_FINISHED.search(segment):
            observations.append(Progress("Finished", 100))
    return observations


# Known failures, recognised by the message the tools print, so errors can say what to do.
PROBLEM_NO_PROBE = "no-probe"                   # no debug probe attached (or not the one selected)
PROBLEM_TARGET_UNREACHABLE = "target-unreachable"  # probe found, the RP2040 did not answer on SWD
PROBLEM_NO_BOOTSEL_DEVICE = "no-bootsel-device"  # picotool found no device it can talk to
PROBLEM_SEVERAL_DEVICES = "several-devices"     # the selection matched more than one device
PROBLEM_VERIFY_FAILED = "verify-failed"         # written, but read-back differs
PROBLEM_PERMISSION = "permission"               # USB access denied (udev rules)

_PROBLEM_PATTERNS: list[tuple[str, re.Pattern]] = [
    (PROBLEM_NO_PROBE, re.compile(r"No connected probes were found|The selected debug probe was not found"
                                  r"|Probe was not found|No debug probes were found", re.I)),
    (PROBLEM_TARGET_UNREACHABLE, re.compile(r"Connecting to the chip was unsuccessful|Failed to find or attach to "
                                            r"the target|check the wiring", re.I)),
    (PROBLEM_SEVERAL_DEVICES, re.compile(r"\d+ probes were found|Use '--probe VID:PID' or|"
                                         r"requires a single RP-series device|Multiple RP-series devices|"
                                         r"Forced command requires a single", re.I)),
    (PROBLEM_VERIFY_FAILED, re.compile(r"did not match the (saved )?file|Verification failed|verify failed", re.I)),
    (PROBLEM_PERMISSION, re.compile(r"Maybe try 'sudo' or check your permissions|permission denied|"
                                    r"could not be opened|Access denied", re.I)),
    (PROBLEM_NO_BOOTSEL_DEVICE, re.compile(r"No accessible RP-series devices? in BOOTSEL mode|"
                                           r"Despite the reboot attempt, no accessible", re.I)),
]

PROBLEM_ADVICE = {
    PROBLEM_NO_PROBE: "the debug probe is not attached or its VID:PID:SERIAL in the bench file is wrong "
                      "(`probe-rs list` shows what is attached)",
    PROBLEM_TARGET_UNREACHABLE: "the probe is attached but the Pico does not answer on SWD: check the SWD "
                                "wiring and that the Pico is powered",
    PROBLEM_NO_BOOTSEL_DEVICE: "no Pico in BOOTSEL mode was found and it could not be rebooted into it: hold "
                               "BOOTSEL while plugging it in, or use a firmware with the reset interface",
    PROBLEM_SEVERAL_DEVICES: "more than one device matched: give the board's serial number in the bench file",
    PROBLEM_VERIFY_FAILED: "the image was written but reading it back gave different bytes",
    PROBLEM_PERMISSION: "the USB device could not be opened: install the udev rules for probe-rs / picotool",
}


def classify_problem(output: str) -> str | None:
    """Which known failure the tool output shows (one of the PROBLEM_* names), or None."""
    text = strip_ansi(output)
    for problem, pattern in _PROBLEM_PATTERNS:
        if pattern.search(text):
            return problem
    return None


def error_message(output: str) -> str:
    """The tool's own error line: probe-rs's "Error: ..." / picotool's "ERROR: ...", else the last line."""
    lines = [line.strip() for line in strip_ansi(output).splitlines() if line.strip()]
    for line in lines:
        if line.lower().startswith("error:"):
            return line[len("error:"):].strip()
    return lines[-1] if lines else ""
