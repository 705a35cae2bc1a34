"""The example pipeline Taxiway ships: distributed PyTorch training of a spiral classifier.

Modules:
    data         synthetic, seeded spiral dataset written as a FlyteDirectory of tensors
    model        the classifier and its hyperparameters
    distributed  process-group setup that works under torchelastic, the Kubeflow operator or alone
    train        the DDP training loop and its two task variants (Elastic, PyTorchJob)
    evaluate     metrics on the held-out split and the TorchScript export
    workflows    ``training_workflow`` and ``multiworker_training_workflow``
    launch_plans ``validation_lp`` and ``nightly_retraining_lp``
"""
