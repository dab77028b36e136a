"""``python -m roleguide``: the same command as ``roleguide``."""

from roleguide.app.cli.main import main

if __name__ == "__main__":
    main()
