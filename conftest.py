"""Project-level pytest configuration: the hil plugin (installed as a pytest11 entry point) provides options,
scenario collection and the `bench` / `hil_record` fixtures; this project's board fixtures come from fixtures/."""

pytest_plugins = ["fixtures.boards"]
