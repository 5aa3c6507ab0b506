"""A module that imported the clock functions by name before any run started."""

from datetime import datetime
from time import time


def read_time() -> float:
    return time()


def read_datetime() -> datetime:
    return datetime.now()
