"""planforge: project plans kept as YAML in git, turned into charters, sales briefs and
retrospectives."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("planforge")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"
