"""Where people already train: Lightning (:mod:`~infoflow.integrations.lightning`, the
``infoflow[lightning]`` extra) and TensorBoard (:mod:`~infoflow.integrations.tensorboard`, the
``infoflow[tensorboard]`` extra). Importing this package imports neither."""
