"""The compliance report's register as an OSCAL Plan of Action and Milestones (compliance-trestle).
Being written."""


def poam_json(context, entries) -> bytes:
    raise NotImplementedError
