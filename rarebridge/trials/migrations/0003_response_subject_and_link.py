"""Step 1 of moving responses to ``instruments``: the response gains its person and language,
the assessment gains a link row to its responses. Everything new is nullable until 0004 has
filled it in."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("trials", "0002_externalquestionnaire_instrumenttext"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="response",
            name="assessment",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="responses",
                to="trials.assessment",
            ),
        ),
        migrations.AddField(
            model_name="response",
            name="subject",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="response",
            name="language",
            field=models.CharField(blank=True, default="", max_length=8),
        ),
        migrations.CreateModel(
            name="AssessmentResponse",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("instrument", models.CharField(max_length=40)),
                (
                    "assessment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="links",
                        to="trials.assessment",
                    ),
                ),
                (
                    "response",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="assessment_link",
                        to="trials.response",
                    ),
                ),
            ],
            options={
                "ordering": ["assessment", "instrument"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("assessment", "instrument"), name="assessment_response_once"
                    )
                ],
            },
        ),
    ]
