"""Extension points of the core that domain apps fill in their AppConfig.ready()."""

# Called with each new agency (from the create service and the demo loader), e.g. to give it a
# default risk matrix. Each hook must be idempotent.
agency_setup_hooks: list = []


def agency_setup(agency) -> None:
    for hook in agency_setup_hooks:
        hook(agency)
