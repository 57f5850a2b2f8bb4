from apps.knowledge.admin import articles, flags, releases, scripts  # noqa: F401  (registers the admins)
