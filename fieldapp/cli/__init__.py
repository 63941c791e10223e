"""The `fieldapp` command line (`fieldapp.cli.main.main`), one module per group of commands."""
