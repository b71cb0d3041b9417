
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('network', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    # The four models moved here from ``trials`` as they are; their tables stay where they
    # were (``trials_*``, see each model's ``db_table``), so this migration only tells Django
    # who owns them. The response's change of shape (subject and language in, assessment out)
    # is done to the table by trials 0003-0005, which run around this one.
    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='ExternalQuestionnaire',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('url', models.CharField(max_length=300, unique=True)),
                        ('instrument', models.CharField(max_length=40)),
                        ('link_ids', models.JSONField()),
                        ('answers', models.JSONField()),
                        ('imported_at', models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        'db_table': 'trials_externalquestionnaire',
                    },
                ),
                migrations.CreateModel(
                    name='InstrumentText',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('instrument', models.CharField(max_length=40)),
                        ('language', models.CharField(max_length=8)),
                        ('source', models.TextField()),
                        ('provenance', models.CharField(default='licensed', max_length=10)),
                        ('items', models.JSONField(default=dict)),
                        ('answers', models.JSONField(default=dict)),
                        ('sha256', models.CharField(max_length=64)),
                        ('loaded_at', models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        'db_table': 'trials_instrumenttext',
                        'ordering': ['instrument', 'language', '-loaded_at'],
                        'constraints': [models.UniqueConstraint(fields=('instrument', 'language', 'sha256'), name='instrument_text_unique')],
                    },
                ),
                migrations.CreateModel(
                    name='Response',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('instrument', models.CharField(max_length=40)),
                        ('language', models.CharField(blank=True, default='', max_length=8)),
                        ('answers', models.JSONField(default=dict)),
                        ('revision', models.PositiveIntegerField(default=0)),
                        ('submitted_at', models.DateTimeField(blank=True, null=True)),
                        ('on_behalf', models.BooleanField(default=False, verbose_name="entered on the participant's behalf")),
                        ('scores', models.JSONField(default=dict)),
                        ('algorithm', models.CharField(blank=True, max_length=40)),
                        ('scoring_options', models.JSONField(default=dict)),
                        ('flags', models.JSONField(default=list)),
                        ('entered_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('organisation', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='network.organisation')),
                        ('subject', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'trials_response',
                        'ordering': ['subject_id', 'instrument', 'created_at'],
                    },
                ),
                migrations.CreateModel(
                    name='ResponseRevision',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('number', models.PositiveIntegerField()),
                        ('answers', models.JSONField(default=dict)),
                        ('saved_at', models.DateTimeField()),
                        ('response', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='revisions', to='instruments.response')),
                        ('saved_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'trials_responserevision',
                        'ordering': ['response', 'number'],
                        'constraints': [models.UniqueConstraint(fields=('response', 'number'), name='response_revision_once')],
                    },
                ),
            ],
        ),
    ]
