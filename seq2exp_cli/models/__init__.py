"""Models: the selective scan (:mod:`.scan`), the Mamba block (:mod:`.mamba`), Caduceus and
the Seq2Exp mask model.  Import from the submodules; importing this package compiles nothing.
"""
