from tests.dashboard.story import story  # noqa: F401  (the shared history fixture)
