"""``python -m planforge``: the same as the planforge command."""

from .cli import main

main()
