"""The ``kosodate`` command line: one entry point, subcommands."""
