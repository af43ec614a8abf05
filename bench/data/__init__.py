"""Data: the dataset registry and loading every dataset the same way (checks, scaling, splits)."""

from bench.data.loading import Dataset, load_dataset, resolve_source
from bench.data.registry import (DATASETS, DatasetError, DatasetSource, RawArrays, dataset_key, dataset_names,
                                 describe_datasets, register_dataset)

__all__ = ["DATASETS", "Dataset", "DatasetError", "DatasetSource", "RawArrays", "dataset_key", "dataset_names",
           "describe_datasets", "load_dataset", "register_dataset", "resolve_source"]
