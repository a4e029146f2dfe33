"""Allow `python -m generator`."""

from generator.cli import main_and_exit

main_and_exit()
