from apps.knowledge.admin import articles, flags, scripts  # noqa: F401  (registers the admins)
