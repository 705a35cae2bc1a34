"""The local model server: MLServer (Open Inference Protocol v2) with a TorchScript runtime and an S3 repository.

MLServer pins ``protobuf<7`` while flytekit's environment has protobuf 7, so the server runs from its
own venv made by ``modelserver/install.sh``; Taxiway's code only imports :mod:`modelserver.layout`
(the repository contract, standard library only) and :mod:`modelserver.process` (starts the server).
"""
