"""The ``roleguide`` command."""
