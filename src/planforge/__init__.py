"""planforge: project plans kept as YAML in git, turned into charters, sales briefs and
retrospectives."""

from functools import cache


@cache
def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("planforge")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
        return "0.0.0"


def __getattr__(name: str) -> str:
    """``__version__`` read when first asked for: finding the installed version costs every
    command that does not need it (``validate``, ``diff``) a noticeable share of its time."""
    if name == "__version__":
        return _version()
    raise AttributeError(f"module 'planforge' has no attribute {name!r}")
