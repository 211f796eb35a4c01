"""planforge: project plans kept as YAML in git, turned into charters, sales briefs and
retrospectives."""

# The package's version, read by the build from here (pyproject.toml): a constant, because
# asking the installed metadata for it cost every command about 30 ms of start-up.
__version__ = "0.1.0"
