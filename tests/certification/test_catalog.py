"""The scheme catalog: loads twice without duplicates, cites its sources, says what is unverified."""

import pytest

from certification import catalog
from certification.models import Recognition, RecognitionArrangement, Scheme


@pytest.mark.django_db
def test_catalog_loads_twice_without_duplicates():
    first = catalog.load()
    counts = (Scheme.objects.count(), RecognitionArrangement.objects.count(), Recognition.objects.count())
    second = catalog.load()
    assert counts == (14, 4, 9)
    assert (Scheme.objects.count(), RecognitionArrangement.objects.count(), Recognition.objects.count()) == counts
    assert first.startswith("schemes and recognition arrangements: 27 created, 0 updated, 0 unchanged")
    assert second == ("schemes and recognition arrangements: 0 created, 0 updated, 27 unchanged, "
                      "0 recognitions removed")


@pytest.mark.django_db
def test_every_entry_cites_its_sources_and_levels_rank_in_order():
    catalog.load()
    for scheme in Scheme.objects.all():
        assert scheme.citations, scheme.code
        assert scheme.levels == sorted(scheme.levels, key=scheme.levels.index)
    for arrangement in RecognitionArrangement.objects.all():
        assert arrangement.citations, arrangement.code
    bsi = Scheme.objects.get(code="CC-BSI")
    assert bsi.levels == ["EAL1", "EAL2", "EAL2+", "EAL3", "EAL3+", "EAL4", "EAL4+", "EAL5", "EAL5+", "EAL6", "EAL6+",
                          "EAL7", "EAL7+"]
    assert bsi.level_rank("EAL4") < bsi.level_rank("EAL4+") < bsi.level_rank("EAL5")
    sogis = Recognition.objects.get(arrangement__code="SOG-IS", scheme__code="CC-BSI")
    assert (sogis.max_level, sogis.max_level_rank) == ("EAL4", 6)
    assert "technical domain" in sogis.conditions
    ccra = Recognition.objects.get(arrangement__code="CCRA", scheme__code="CC-NIAP")
    assert ccra.max_level == "EAL2" and "cPP" in ccra.conditions
    cmvp = Scheme.objects.get(code="CMVP-FIPS140-3")
    assert (cmvp.validity_rule, cmvp.validity_years, cmvp.interim_validity_years) == ("fixed", 5, 2)
    assert Scheme.objects.get(code="EUCC").validity_rule == "maximum"
    # Facts the reference marks [K] or unverified say so in the data.
    assert "[K]" in Scheme.objects.get(code="EUCC").unverified
    assert "[K]" in RecognitionArrangement.objects.get(code="CCRA").unverified
    assert "No recognised independent" in Scheme.objects.get(code="QKD-OPERATOR").description


@pytest.mark.django_db
def test_a_changed_entry_is_updated_and_a_dropped_recognition_removed(tmp_path):
    import json

    catalog.load()
    schemes = json.loads((catalog.HERE / "schemes.json").read_text())
    arrangements = json.loads((catalog.HERE / "recognition_arrangements.json").read_text())
    schemes[0]["name"] = "Renamed"
    arrangements[0]["recognitions"] = arrangements[0]["recognitions"][:1]
    (tmp_path / "schemes.json").write_text(json.dumps(schemes))
    (tmp_path / "recognition_arrangements.json").write_text(json.dumps(arrangements))
    summary = catalog.load(tmp_path)
    assert summary == ("schemes and recognition arrangements: 0 created, 1 updated, 23 unchanged, "
                       "3 recognitions removed")
    assert Scheme.objects.get(code=schemes[0]["code"]).name == "Renamed"
