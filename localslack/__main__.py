import sys

from localslack.cli import main

sys.exit(main())
