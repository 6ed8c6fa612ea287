"""The incidents admin: the clocks part registers here (the app's own models may follow)."""

from incidents import clocks_admin  # noqa: F401
