"""Inference: a trained model over a window source (a store or raw files).

- :mod:`.forward`: windows -> tensors -> model outputs, in batches (eval mode).
- :mod:`.predict`: expression per gene as a table.
- :mod:`.elements`: the learned mask per gene and its regulatory elements as BED rows.
"""
