"""A record others still refer to through a protected key is refused with the reason, on every
door, and nothing is deleted (a live fuzzing run found DELETE /api/personnel/{id}/ answering 500)."""

from certification.models import Person
from qgov.choices import RoleChoices
from tests.certification.factories import PersonFactory, PersonnelAccreditationFactory

MESSAGE = "“Alex Meyer” is still referred to by 2 personnel accreditations; delete or change those first."


def held_person(agency):
    person = PersonFactory(agency=agency, name="Alex Meyer")
    PersonnelAccreditationFactory.create_batch(2, agency=agency, person=person)
    return person


def test_the_api_refuses_with_the_reason_and_deletes_nothing(api_as, agency, member_of):
    person = held_person(agency)
    response = api_as(member_of(agency, RoleChoices.ADMIN)).delete(f"/api/personnel/{person.pk}/")
    assert response.status_code == 400
    assert response.json()["errors"] == {"non_field_errors": [MESSAGE]}
    assert Person.objects.filter(pk=person.pk).exists()


def test_the_delete_page_says_why(client, agency, member_of):
    person = held_person(agency)
    client.force_login(member_of(agency, RoleChoices.ADMIN))
    response = client.post(f"/certification/personnel/{person.pk}/delete/", follow=True)
    assert MESSAGE in response.content.decode()
    assert Person.objects.filter(pk=person.pk).exists()
