"""Models: the selective scan (:mod:`.scan`), the Mamba block (:mod:`.mamba`), Caduceus and the Seq2Exp mask model.  Import from the submodules.

Importing this package compiles nothing.
"""
