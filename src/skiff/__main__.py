"""``python -m skiff``: the same as the ``skiff`` console script."""

from skiff.cmd.main import main

raise SystemExit(main())
