"""The CI recipes, shipped as the package planforge.ci for ``planforge init --ci``."""
