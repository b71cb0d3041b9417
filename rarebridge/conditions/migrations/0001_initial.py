# The catalogue and patients' conditions moved here from the directory app (issue 14). The
# tables already exist: directory 0002 renamed them to conditions_*, so this only tells Django's
# state that the models now live here. Nothing is created or copied.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('directory', '0002_condition_tables_renamed'),
        ('accounts', '0001_initial'),
        ('network', '0001_initial'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='Condition',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('orphacode', models.PositiveIntegerField(unique=True, verbose_name='ORPHAcode')),
                        ('level', models.CharField(choices=[('group', 'Group of conditions'), ('disorder', 'Condition'), ('subtype', 'Subtype')], default='disorder', max_length=10, verbose_name='level')),
                        ('names', models.JSONField(default=dict, verbose_name='names by language')),
                        ('synonyms', models.JSONField(blank=True, default=dict, verbose_name='synonyms by language')),
                        ('is_active', models.BooleanField(default=True, verbose_name='active')),
                        ('source', models.CharField(blank=True, max_length=40, verbose_name='source')),
                        ('updated_at', models.DateTimeField(auto_now=True, db_index=True)),
                        ('parents', models.ManyToManyField(blank=True, related_name='children', to='conditions.condition', verbose_name='groups')),
                    ],
                    options={
                        'verbose_name': 'condition',
                        'verbose_name_plural': 'conditions',
                        'ordering': ['orphacode'],
                    },
                ),
                migrations.CreateModel(
                    name='CrossReference',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('system', models.CharField(choices=[('ICD-10', 'ICD-10'), ('ICD-11', 'ICD-11'), ('OMIM', 'OMIM')], max_length=10, verbose_name='terminology')),
                        ('code', models.CharField(max_length=40, verbose_name='code')),
                        ('mapping', models.CharField(blank=True, max_length=10, verbose_name='mapping')),
                        ('condition', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='xrefs', to='conditions.condition')),
                    ],
                    options={
                        'ordering': ['system', 'code'],
                        'indexes': [models.Index(fields=['system', 'code'], name='conditions__system_97183f_idx')],
                        'constraints': [models.UniqueConstraint(fields=('condition', 'system', 'code'), name='xref_unique')],
                    },
                ),
                migrations.CreateModel(
                    name='PatientCondition',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('added_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('condition', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='conditions.condition')),
                        ('organisation', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='network.organisation')),
                        ('patient', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='conditions', to='accounts.patientprofile')),
                    ],
                    options={
                        'ordering': ['created_at', 'pk'],
                        'abstract': False,
                        'constraints': [models.UniqueConstraint(fields=('patient', 'condition'), name='patient_condition_unique')],
                    },
                ),
            ],
        ),
    ]
