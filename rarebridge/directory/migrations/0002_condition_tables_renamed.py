# Issue 14: the catalogue moves to the conditions app. Database only: the tables of Condition
# (and its parents table), CrossReference and PatientCondition are renamed to conditions_*, their
# rows untouched, and the cross-reference index takes the name the conditions app gives it.
# Django's state is moved by conditions 0001 and directory 0003. Foreign keys from other tables
# follow the rename (PostgreSQL by table oid, SQLite >= 3.26 by rewriting the references).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('directory', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RenameIndex(
                    model_name='crossreference',
                    new_name='conditions__system_97183f_idx',
                    old_name='directory_c_system_e0b84e_idx',
                ),
                migrations.AlterModelTable(name='condition', table='conditions_condition'),
                migrations.AlterModelTable(name='crossreference', table='conditions_crossreference'),
                migrations.AlterModelTable(name='patientcondition', table='conditions_patientcondition'),
            ],
            state_operations=[],
        ),
    ]
