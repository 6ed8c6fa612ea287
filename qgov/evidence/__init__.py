"""Evidence files attached to any record whose model says `accepts_evidence = True`: stored
privately with their SHA-256 and size, downloaded only through a permission-checked view, and
followed by a custody log (who uploaded, downloaded, verified, handed over, withdrew). The models
live in qgov/evidence/models.py and are re-exported by qgov.models; the workflows are in
qgov/evidence/services.py. docs/evidence.md describes opting in and operating it."""
