"""The processes of a run besides its workers: confined children, the bounded reader, Ctrl-C."""
