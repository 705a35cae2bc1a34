"""localflyte's console: server-rendered pages on the HTTP endpoint under ``/console`` (stdlib only).

Projects and domains, launch plans with their active version and schedule, a form that launches a
launch plan with its default inputs, and executions with node phases, inputs/outputs, logs and Decks.
"""

from localflyte.console.routes import Console, ConsoleRequest, ConsoleResponse

__all__ = ["Console", "ConsoleRequest", "ConsoleResponse"]
