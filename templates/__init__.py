"""The default templates, styles and label catalogs, shipped as the package planforge.templates."""
