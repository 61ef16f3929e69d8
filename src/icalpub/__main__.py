"""Allow `python -m icalpub`."""

from .cli import main

main()
