"""Project-level pytest configuration: the hil plugin (installed as a pytest11 entry point) provides options,
scenario collection and the fixtures (rust_board, micropython_board, hil_boards, bench, hil_record); what the
board fixtures provision for this project is configured in pyproject.toml (hil_firmware, hil_deploy)."""
