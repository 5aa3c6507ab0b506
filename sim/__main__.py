"""``python -m sim`` is the ``futsim`` command."""

from sim.cli import main

raise SystemExit(main())
