"""Baseline models of the field, trained and scored like Seq2Exp (see :mod:`.registry`)."""
