"""The one error type the data layer raises for unusable data."""

from keras_seminar.errors import UsageError


class DataError(UsageError):
    """A data set is missing, corrupted, truncated or not what was expected (a `ValueError`)."""
