"""An "exporter host" reachable over real SSH on 127.0.0.1: its own sshd (own config, host key and authorized_keys
in a temporary folder, a free port, run as the current user), and a client side that labgrid's sshmanager uses
unchanged: an `ssh` first on PATH that adds `-F <our ssh_config>`, where the host alias names that port, key and
known host. labgrid runs `ssh` (and rsync's `-e ssh ...`) from PATH, so nothing of labgrid is patched.

The sshd's SetEnv gives its sessions the PATH and variables of the exporter host (e.g. the simulated bench's
probe-rs / picotool stand-ins), as a real exporter host has its flash tools installed."""
from __future__ import annotations

import getpass
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from hil.deadline import Deadline
from tests.labgrid.lab import Lab, free_tcp_port, wait_tcp

SSHD = "/usr/sbin/sshd"
KEYGEN_TIMEOUT_S = 30.0
CHECK_TIMEOUT_S = 30.0
PRIVSEP_DIR = Path("/run/sshd")     # sshd started as root insists on it (Debian's service creates it at boot)


def missing_ssh_tools() -> list[str]:
    missing = [] if os.access(SSHD, os.X_OK) else ["sshd (apt-get install openssh-server)"]
    missing += [f"{tool} (apt-get install {package})" for tool, package in
                (("ssh", "openssh-client"), ("ssh-keygen", "openssh-client"), ("rsync", "rsync"))
                if shutil.which(tool) is None]
    return missing


@dataclass
class SshHost:
    alias: str              # the name labgrid resources give as `host`
    port: int
    config: Path            # the client's ssh_config
    bin_dir: Path           # put first on PATH: its `ssh` uses `config`

    def path_env(self, env: dict | None = None) -> dict:
        env = dict(os.environ if env is None else env)
        env["PATH"] = f"{self.bin_dir}{os.pathsep}{env.get('PATH', '')}"
        return env


def _keygen(path: Path) -> str:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", path.name, "-f", str(path)], check=True,
                   timeout=KEYGEN_TIMEOUT_S, stdin=subprocess.DEVNULL, capture_output=True)
    return (path.with_suffix(".pub")).read_text().strip()


def start_ssh_host(lab: Lab, alias: str, session_env: dict[str, str], deadline: Deadline) -> SshHost:
    """sshd for `alias` on a free port of 127.0.0.1, its sessions getting `session_env`; stopped by lab.stop()."""
    root = lab.root / f"ssh-{alias}"
    root.mkdir()
    host_key = _keygen(root / "host_key")
    client_key = _keygen(root / "client_key")
    (root / "authorized_keys").write_text(client_key + "\n")
    (root / "known_hosts").write_text(f"{alias} {host_key}\n")
    port = free_tcp_port()
    user = getpass.getuser()
    set_env = " ".join(f'"{name}={value}"' for name, value in session_env.items())
    (root / "sshd_config").write_text("\n".join([
        f"ListenAddress 127.0.0.1:{port}", f"HostKey {root / 'host_key'}", f"PidFile {root / 'sshd.pid'}",
        f"AuthorizedKeysFile {root / 'authorized_keys'}", f"AllowUsers {user}",
        "PubkeyAuthentication yes", "PasswordAuthentication no", "KbdInteractiveAuthentication no",
        "UsePAM no", "PermitRootLogin prohibit-password",
        "StrictModes no",                  # the files live under /tmp, which is world-writable
        f"SetEnv {set_env}" if set_env else "", ""]))
    config = root / "ssh_config"
    config.write_text("\n".join([
        f"Host {alias}", "  HostName 127.0.0.1", f"  Port {port}", f"  User {user}",
        f"  IdentityFile {root / 'client_key'}", "  IdentitiesOnly yes", f"  HostKeyAlias {alias}",
        f"  UserKnownHostsFile {root / 'known_hosts'}", "  StrictHostKeyChecking yes", "  BatchMode yes", ""]))
    bin_dir = root / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "ssh"
    wrapper.write_text(f'#!/bin/sh\nexec {shutil.which("ssh")} -F {config} "$@"\n')
    wrapper.chmod(0o755)
    if os.geteuid() == 0 and not PRIVSEP_DIR.is_dir():
        PRIVSEP_DIR.mkdir(mode=0o755)
    lab.spawn(f"sshd-{alias}", [SSHD, "-D", "-e", "-f", str(root / "sshd_config")])
    wait_tcp(port, deadline, f"sshd for {alias}")
    host = SshHost(alias, port, config, bin_dir)
    check = subprocess.run(["ssh", alias, "true"], env=host.path_env(), capture_output=True, text=True,
                           timeout=min(CHECK_TIMEOUT_S, max(deadline.remaining_s, 1.0)), stdin=subprocess.DEVNULL)
    if check.returncode != 0:
        raise RuntimeError(f"ssh {alias} true: {check.stderr}{(lab.root / f'sshd-{alias}.log').read_text()[-2000:]}")
    return host
