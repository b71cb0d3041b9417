"""Step 3: the response no longer names an assessment, and the four questionnaire models
belong to ``instruments`` from here on (their tables keep their names: state only). The
assessment reaches its responses through ``AssessmentResponse``."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("trials", "0004_link_responses"),
        ("instruments", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="response", name="response_once_per_instrument"),
        migrations.RemoveField(model_name="response", name="assessment"),
        migrations.AlterField(
            model_name="response",
            name="subject",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name="assessmentresponse",
                    name="response",
                    field=models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="assessment_link",
                        to="instruments.response",
                    ),
                ),
                migrations.DeleteModel(name="ResponseRevision"),
                migrations.DeleteModel(name="Response"),
                migrations.DeleteModel(name="ExternalQuestionnaire"),
                migrations.DeleteModel(name="InstrumentText"),
                migrations.AddField(
                    model_name="assessment",
                    name="responses",
                    field=models.ManyToManyField(
                        related_name="assessments",
                        related_query_name="assessment",
                        through="trials.AssessmentResponse",
                        to="instruments.response",
                    ),
                ),
            ],
        ),
    ]
