"""The base classes of every ModelAdmin in the portal: the admin theme's (django-unfold's), with the
portal's defaults."""

from __future__ import annotations

from unfold import admin as theme

from apps.core.scoping import scoped


class ModelAdmin(theme.ModelAdmin):
    list_fullwidth = True  # lists use the whole screen: they must fit 1440 px beside the sidebar
    list_per_page = 50  # a screenful or two; the theme's rows cost ~2 ms each to draw
    sidebar_icon = "table_rows"  # the Material Symbols icon beside the model in the sidebar

    def get_queryset(self, request):
        """Only the rows the person may see (``apps.core.scoping``): lists, change pages, actions and exports
        all start here, so a scope the workspace enforces holds in the admin too."""
        return scoped(request.user, super().get_queryset(request))


class TabularInline(theme.TabularInline):
    def get_queryset(self, request):
        return scoped(request.user, super().get_queryset(request))


class StackedInline(theme.StackedInline):
    def get_queryset(self, request):
        return scoped(request.user, super().get_queryset(request))
