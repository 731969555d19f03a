"""Training, prediction and element calling on top of a dataset store.

- :mod:`.batches`: windows -> tensors, deterministic batch order by (seed, step).
- :mod:`.schedule`: the reference learning-rate schedule (linear warm-up, cosine, floor).
- :mod:`.state`: atomic training checkpoints (weights, optimiser, scheduler, RNG).
- :mod:`.loop`: :func:`train`, with validation, model selection and ``--resume``.
- :mod:`.metrics`: MSE, MAE, Pearson, Spearman, R².
"""
