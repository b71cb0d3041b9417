# Issue 14: state only. The directory's links to conditions point at conditions.Condition, and
# Condition, CrossReference and PatientCondition leave the directory app (their tables were
# renamed by 0002 and now belong to the conditions app). No column changes: the foreign keys
# keep their columns and their targets' rows.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('conditions', '0001_initial'),
        ('directory', '0002_condition_tables_renamed'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name='peerprofile',
                    name='condition',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='conditions.condition'),
                ),
                migrations.AlterField(
                    model_name='contactrequest',
                    name='condition',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='conditions.condition'),
                ),
                migrations.AlterField(
                    model_name='entrycondition',
                    name='condition',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='conditions.condition'),
                ),
                migrations.AlterField(
                    model_name='directoryentry',
                    name='conditions',
                    field=models.ManyToManyField(blank=True, related_name='directory_entries', through='directory.EntryCondition', to='conditions.condition'),
                ),
                migrations.DeleteModel(name='PatientCondition'),
                migrations.DeleteModel(name='CrossReference'),
                migrations.DeleteModel(name='Condition'),
            ],
        ),
    ]
