"""The pipeline's error types: each carries a message that names the file or key and the problem."""


class PipelineError(Exception):
    """An error the user can fix; stages print its message and exit 1 without a traceback."""


class ConfigError(PipelineError, ValueError):
    """A value in params.yaml that the pipeline cannot use."""


class SourceError(PipelineError):
    """The data source cannot be read."""


class DataError(PipelineError, ValueError):
    """The data set is incomplete, corrupt or not in the expected shape."""


class TrainingError(PipelineError):
    """Training cannot go on (a non-finite loss, a missing checkpoint)."""
