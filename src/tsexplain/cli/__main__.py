"""``python -m tsexplain.cli``: the ``tsexplain`` command."""

from tsexplain.cli import main

main()
