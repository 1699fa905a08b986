"""Project-level pytest configuration. The hil plugin (installed as a pytest11 entry point) provides the options,
scenario collection and the generic fixtures (rust_board, micropython_board, hil_boards, bench, hil_record); what
its board fixtures provision for this project is configured in pyproject.toml (hil_firmware, hil_deploy). This
project's own shared fixtures live in fixtures/."""

pytest_plugins = ["fixtures.lesson"]
