"""Stand-ins for `probe-rs` and `picotool` acting on the simulated bench (docs/sim-rust.md).

They are "the tool" for the framework: they use only the standard library and the supervisor's control socket,
never the framework's own modules, so the framework's real probe-rs / picotool code paths run unchanged.
"""
