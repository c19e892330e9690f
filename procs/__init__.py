"""The pipeline's processes (one small agent per process). The diagram arrives with the pipeline."""
