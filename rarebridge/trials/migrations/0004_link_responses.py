"""Step 2: every response answered in an assessment now names its person (the participant's
user) and language, and is linked from the assessment. Reversible while no response exists
outside a study."""

from django.db import migrations

CHUNK = 500


def link_responses(apps, schema_editor):
    db = schema_editor.connection.alias
    Response = apps.get_model("trials", "Response")
    AssessmentResponse = apps.get_model("trials", "AssessmentResponse")
    Assessment = apps.get_model("trials", "Assessment")
    done = set(AssessmentResponse.objects.using(db).values_list("response_id", flat=True))
    assessments = (
        Assessment.objects.using(db)
        .filter(responses__isnull=False)
        .distinct()
        .select_related("participant__patient")
    )
    links = []
    for assessment in assessments.iterator(chunk_size=CHUNK):
        participant = assessment.participant
        responses = Response.objects.using(db).filter(assessment_id=assessment.pk)
        # update(): no auto_now, so each response keeps its last-saved time
        responses.update(subject_id=participant.patient.user_id, language=participant.language)
        for pk, instrument in responses.values_list("pk", "instrument"):
            if pk not in done:
                links.append(
                    AssessmentResponse(
                        assessment_id=assessment.pk, response_id=pk, instrument=instrument
                    )
                )
        if len(links) >= CHUNK:
            AssessmentResponse.objects.using(db).bulk_create(links)
            links = []
    AssessmentResponse.objects.using(db).bulk_create(links)


def unlink_responses(apps, schema_editor):
    db = schema_editor.connection.alias
    Response = apps.get_model("trials", "Response")
    AssessmentResponse = apps.get_model("trials", "AssessmentResponse")
    outside = Response.objects.using(db).filter(assessment_link__isnull=True).count()
    if outside:
        raise RuntimeError(
            f"{outside} responses were given outside a study; the schema before 0004 cannot "
            "hold them. Export and delete them first if you really mean to go back."
        )
    for link in AssessmentResponse.objects.using(db).iterator(chunk_size=CHUNK):
        Response.objects.using(db).filter(pk=link.response_id).update(
            assessment_id=link.assessment_id
        )
    AssessmentResponse.objects.using(db).all().delete()
    Response.objects.using(db).update(subject_id=None, language="")


class Migration(migrations.Migration):
    dependencies = [("trials", "0003_response_subject_and_link")]

    operations = [migrations.RunPython(link_responses, unlink_responses)]
