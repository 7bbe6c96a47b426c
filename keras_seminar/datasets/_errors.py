"""The one error type the data layer raises for unusable data."""


class DataError(ValueError):
    """A data set is missing, corrupted, truncated or not what was expected."""
