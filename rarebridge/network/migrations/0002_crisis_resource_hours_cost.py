"""Crisis resources: hours and cost become explicit (no "24/7" and "free" by default), opening
hours per language, phone numbers in canonical form.

Existing rows: emergency services are open around the clock and free; a crisis line whose hours
were typed as something other than the old default keeps that text as limited hours, in English;
everything else is unknown until an admin confirms it. Numbers that phonenumbers accepts for
the line's country are stored in canonical form; others are left for an admin to correct.
"""

from django.core.exceptions import ValidationError
from django.db import migrations, models


def new_fields(*, kind: str, old_hours: str, free_of_charge: bool) -> dict:
    """hours, hours_texts and cost for a row as it was: the old defaults ("24/7", free) say
    nothing, so they become unknown; what an admin typed instead is kept."""
    if kind == "emergency":
        return {"hours": "always", "hours_texts": {}, "cost": "free"}
    old_hours = (old_hours or "").strip()
    limited = bool(old_hours) and old_hours != "24/7"
    return {
        "hours": "limited" if limited else "unknown",
        "hours_texts": {"en": old_hours} if limited else {},
        "cost": "unknown" if free_of_charge else "standard",
    }


def fill(apps, schema_editor):
    from rarebridge.network.phones import phone_normalise

    CrisisResource = apps.get_model("network", "CrisisResource")
    for resource in CrisisResource.objects.all():
        for field, value in new_fields(
            kind=resource.kind,
            old_hours=resource.old_hours,
            free_of_charge=resource.free_of_charge,
        ).items():
            setattr(resource, field, value)
        for field in ("phone", "text_number"):
            try:
                setattr(
                    resource,
                    field,
                    phone_normalise(getattr(resource, field), country_code=resource.country_id),
                )
            except ValidationError:
                pass
        resource.save(
            update_fields=["hours", "hours_texts", "cost", "phone", "text_number"]
        )


class Migration(migrations.Migration):
    dependencies = [("network", "0001_initial")]

    operations = [
        migrations.RenameField("crisisresource", "hours", "old_hours"),
        migrations.AddField(
            model_name="crisisresource",
            name="hours",
            field=models.CharField(
                choices=[
                    ("always", "24 hours a day, 7 days a week"),
                    ("limited", "Limited hours"),
                    ("unknown", "Hours not confirmed"),
                ],
                default="unknown",
                max_length=10,
                verbose_name="hours",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="crisisresource",
            name="hours_texts",
            field=models.JSONField(
                blank=True, default=dict, verbose_name="opening hours by language"
            ),
        ),
        migrations.AddField(
            model_name="crisisresource",
            name="cost",
            field=models.CharField(
                choices=[
                    ("free", "Free of charge"),
                    ("standard", "Standard call rate"),
                    ("unknown", "Cost not confirmed"),
                ],
                default="unknown",
                max_length=10,
                verbose_name="cost of a call",
            ),
            preserve_default=False,
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
        migrations.RemoveField("crisisresource", "old_hours"),
        migrations.RemoveField("crisisresource", "free_of_charge"),
    ]
