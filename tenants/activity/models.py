from django.db import models
from django.utils import timezone


class ActivityEvent(models.Model):
    """Something a person did in the shop: invitations, role changes, tokens...

    `actor_id` is a plain id of `tenants.User` (public schema), deliberately without a
    database foreign key: see README "Tenancy".
    """

    actor_id = models.BigIntegerField(null=True, db_index=True)
    action = models.CharField(max_length=60)
    summary = models.CharField(max_length=300)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.summary
