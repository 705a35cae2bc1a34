"""``python -m taxiway``: the same as the ``taxiway`` command."""

from taxiway.cli import main

if __name__ == "__main__":
    main()
