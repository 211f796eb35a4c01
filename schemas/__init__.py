"""The JSON Schemas, shipped inside the wheel as the package planforge.schemas."""
