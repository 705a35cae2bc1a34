"""Make the example pipeline importable as the top-level package ``training``.

The example is a Flyte project of its own (``examples/training``), not part of the ``taxiway``
package; ``pyflyte`` imports it the same way, with that directory on ``sys.path``.
"""

import sys
from pathlib import Path

EXAMPLE_ROOT = Path(__file__).resolve().parents[3] / "examples" / "training"

if str(EXAMPLE_ROOT) not in sys.path:
    sys.path.insert(0, str(EXAMPLE_ROOT))
