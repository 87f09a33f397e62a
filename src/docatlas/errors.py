"""One hierarchy for the errors that stop a run; bad input files are diagnostics, never these."""


class DocatlasError(Exception):
    """A fatal problem with the run itself (exit code 2)."""


class ConfigError(DocatlasError):
    """Options or settings that cannot be used."""


class OutputError(DocatlasError):
    """The output folder cannot be written safely."""
