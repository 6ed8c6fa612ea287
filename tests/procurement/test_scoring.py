"""The one scoring service, `procurement.services.review_score`, at every boundary, with the
questionnaire as shipped (procurement/catalog/questionnaires.json: weights 8 6 6 7 6 7 6 8 8 4 5 4 5 4
4 4 4 4, bands approve ≥ 75, conditional ≥ 50, reject below; escalation: an unknown Q1, Q6 or Q8 from a
critical supplier)."""

from decimal import Decimal

import pytest

from procurement import catalog
from procurement.models import Questionnaire
from procurement.services import review_score

pytestmark = pytest.mark.django_db

CODES = [f"Q{n}" for n in range(1, 19)]


@pytest.fixture
def questionnaire():
    catalog.load()
    return Questionnaire.objects.get(code="QKD-SCRM-1")


def answers(default="evidenced", **overrides):
    """Every question answered `default`, except those named (Q4="partial")."""
    return {code: overrides.get(code, default) for code in CODES}


def test_the_shipped_questionnaire_is_what_these_tests_assume(questionnaire):
    assert [q["weight"] for q in questionnaire.questions] == [8, 6, 6, 7, 6, 7, 6, 8, 8, 4, 5, 4, 5, 4, 4, 4, 4, 4]
    assert questionnaire.escalation == {"criticality": ["critical"], "questions": ["Q1", "Q6", "Q8"]}


def test_all_evidenced_scores_100_and_approves(questionnaire):
    result = review_score(questionnaire, answers(), "critical")
    assert (result.score, result.outcome, result.escalation_reasons) == (Decimal("100.0"), "approve", [])
    assert (result.answered, result.total) == (18, 18)


def test_all_unknown_scores_0_and_rejects(questionnaire):
    result = review_score(questionnaire, answers("unknown"), "low")
    assert (result.score, result.outcome, result.answered) == (Decimal("0.0"), "reject", 0)


def test_no_answers_at_all_count_as_unknown(questionnaire):
    assert review_score(questionnaire, {}, "low").score == Decimal("0.0")


def test_partial_on_a_weight_7_question_earns_3_5(questionnaire):
    result = review_score(questionnaire, answers("unknown", Q4="partial"), "high")
    assert result.score == Decimal("3.5")
    assert result.answered == 1


def test_all_partial_scores_exactly_50_conditional(questionnaire):
    result = review_score(questionnaire, answers("partial"), "critical")
    assert (result.score, result.outcome, result.escalation_reasons) == (Decimal("50.0"), "conditional", [])


@pytest.mark.parametrize(("overrides", "score", "outcome"), [
    # 200 points in all; each unknown loses 2 × weight, each partial 1 × weight.
    ({"Q2": "unknown", "Q3": "unknown", "Q4": "unknown", "Q5": "unknown"}, "75.0", "approve"),  # −50
    ({"Q2": "unknown", "Q3": "unknown", "Q5": "unknown", "Q10": "unknown", "Q4": "partial"}, "74.5",
     "conditional"),  # −51
    ({"Q2": "unknown", "Q3": "unknown", "Q4": "unknown", "Q5": "unknown", "Q7": "unknown", "Q10": "unknown",
      "Q11": "unknown", "Q12": "unknown", "Q14": "partial", "Q15": "partial", "Q16": "partial"}, "50.0",
     "conditional"),  # −(12 + 12 + 14 + 12 + 12 + 8 + 10 + 8) − (4 + 4 + 4) = −100
])
def test_band_edges_from_evidenced(questionnaire, overrides, score, outcome):
    result = review_score(questionnaire, answers(**overrides), "high")
    assert (result.score, result.outcome) == (Decimal(score), outcome)


def test_49_5_rejects(questionnaire):
    # All partial is 100 points; Q4 unknown −7, Q5 evidenced +6: 99 points.
    result = review_score(questionnaire, answers("partial", Q4="unknown", Q5="evidenced"), "high")
    assert (result.score, result.outcome) == (Decimal("49.5"), "reject")


def test_75_0_from_partials_approves_too(questionnaire):
    # All partial (100) and 50 more from evidencing Q1 Q2 Q3 Q4 Q5 Q6 Q7 (8+6+6+7+6+7+6 = 46) and Q10 (4).
    evidenced = dict.fromkeys(("Q1", "Q2", "Q3", "Q4", "Q5", "Q6", "Q7", "Q10"), "evidenced")
    result = review_score(questionnaire, answers("partial", **evidenced), "critical")
    assert (result.score, result.outcome) == (Decimal("75.0"), "approve")


@pytest.mark.parametrize("code", ["Q1", "Q6", "Q8"])
def test_an_unknown_escalation_question_escalates_a_critical_supplier(questionnaire, code):
    result = review_score(questionnaire, answers(**{code: "unknown"}), "critical")
    assert result.outcome == "escalate"
    assert len(result.escalation_reasons) == 1
    assert result.escalation_reasons[0].startswith(f"{code} unknown for a critical supplier")


def test_escalation_overrides_a_high_score(questionnaire):
    result = review_score(questionnaire, answers(Q8="unknown"), "critical")
    assert result.score == Decimal("92.0")  # would approve
    assert result.outcome == "escalate"


def test_every_unknown_escalation_question_is_a_reason(questionnaire):
    result = review_score(questionnaire, answers(Q1="unknown", Q6="unknown", Q8="unknown"), "critical")
    assert [reason[:2] for reason in result.escalation_reasons] == ["Q1", "Q6", "Q8"]


@pytest.mark.parametrize("code", ["Q1", "Q6", "Q8"])
def test_a_partial_escalation_question_does_not_escalate(questionnaire, code):
    result = review_score(questionnaire, answers(**{code: "partial"}), "critical")
    assert (result.outcome, result.escalation_reasons) == ("approve", [])


@pytest.mark.parametrize("criticality", ["low", "medium", "high"])
def test_other_criticalities_never_escalate(questionnaire, criticality):
    result = review_score(questionnaire, answers(Q1="unknown", Q6="unknown", Q8="unknown"), criticality)
    assert result.escalation_reasons == []
    assert result.outcome == "approve"  # 200 − 16 − 14 − 16 = 154 points: 77.0
    assert result.score == Decimal("77.0")


def test_unknown_on_questions_outside_the_rule_does_not_escalate(questionnaire):
    result = review_score(questionnaire, answers(Q2="unknown", Q9="unknown"), "critical")
    assert (result.outcome, result.escalation_reasons) == ("approve", [])  # 200 − 12 − 16 = 172: 86.0


def test_escalation_on_a_rejecting_score_is_still_escalation(questionnaire):
    result = review_score(questionnaire, answers("unknown"), "critical")
    assert (result.score, result.outcome, len(result.escalation_reasons)) == (Decimal("0.0"), "escalate", 3)


def test_answers_to_questions_not_in_the_questionnaire_raise(questionnaire):
    with pytest.raises(ValueError, match="Q19"):
        review_score(questionnaire, {**answers(), "Q19": "evidenced"}, "low")


def test_an_answer_value_that_is_not_a_choice_raises(questionnaire):
    with pytest.raises(ValueError, match="maybe"):
        review_score(questionnaire, answers(Q3="maybe"), "low")
