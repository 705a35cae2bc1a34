"""``python -m approvals serve ...``."""

from approvals.cli import main

raise SystemExit(main())
