"""Admin: who receives each team's hand-offs. Calls and hand-offs themselves are append-only."""

from django.contrib import admin

from .models import HandoffTeamMember


@admin.register(HandoffTeamMember)
class HandoffTeamMemberAdmin(admin.ModelAdmin):
    list_display = ("team", "user")
    list_filter = ("team",)
    search_fields = ("user__username", "user__last_name", "user__first_name")
    autocomplete_fields = ("user",)
