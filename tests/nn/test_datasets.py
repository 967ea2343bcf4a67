"""nn.datasets: seeded, the right shapes and labels, and the shapes they claim to be."""

import math

import pytest

from nn import datasets

CLASSIFICATION = ["xor", "moons", "circles", "spiral"]
GENERATED = [name for name in datasets.DATASETS if name != "digits"]


@pytest.mark.parametrize("name", list(datasets.DATASETS))
def test_same_seed_same_data_other_seed_other_data(name):
    a = datasets.load_dataset(name, seed=7)
    assert a == datasets.load_dataset(name, seed=7)
    assert a != datasets.load_dataset(name, seed=8)


@pytest.mark.parametrize("name", GENERATED)
@pytest.mark.parametrize("n", [2, 5, 31])
def test_shapes_and_types(name, n):
    X, y = datasets.load_dataset(name, n=n, seed=0)
    dim = 1 if name == "sine" else 2
    assert len(X) == len(y) == n
    assert all(isinstance(x, list) and len(x) == dim for x in X)
    assert all(type(v) is float and math.isfinite(v) for x in X for v in x)
    assert all(type(t) is float for t in y)


@pytest.mark.parametrize("name", CLASSIFICATION)
def test_labels_are_zero_one_and_balanced(name):
    X, y = datasets.load_dataset(name, n=201, seed=1)
    assert set(y) == {0.0, 1.0}
    assert abs(y.count(1.0) - y.count(0.0)) <= 1
    assert datasets.is_classification(name)


def test_points_are_shuffled_so_any_slice_has_both_classes():
    for name in CLASSIFICATION:
        _, y = datasets.load_dataset(name, n=200, seed=0)
        assert set(y[:20]) == {0.0, 1.0}, name


def test_without_noise_the_shapes_are_exact():
    X, y = datasets.moons(n=50, noise=0.0, seed=0)
    for (a, b), t in zip(X, y):
        # undo the centring and the scale: back on sklearn's unit arcs
        u, v = a / datasets.SCALE + 0.5, b / datasets.SCALE + 0.25
        if t == 0.0:
            assert math.isclose(math.hypot(u, v), 1.0, abs_tol=1e-12) and v >= -1e-12
        else:
            assert math.isclose(math.hypot(u - 1.0, v - 0.5), 1.0, abs_tol=1e-12)
    X, y = datasets.circles(n=40, noise=0.0, seed=0, factor=0.4)
    for (a, b), t in zip(X, y):
        radius = datasets.SCALE * (0.4 if t == 1.0 else 1.0)
        assert math.isclose(math.hypot(a, b), radius, abs_tol=1e-12)
    X, y = datasets.xor(n=100, noise=0.0, seed=0)
    for (a, b), t in zip(X, y):
        assert t == (1.0 if a * b < 0 else 0.0)
        assert min(abs(a), abs(b)) >= 0.3 - 1e-12  # kept away from the axes


def test_sine_is_sin_plus_noise_of_the_given_std():
    X, y = datasets.sine(n=30, noise=0.0, seed=2)
    assert all(-3.0 <= x[0] <= 3.0 and t == math.sin(x[0]) for x, t in zip(X, y))
    X, y = datasets.sine(n=2000, noise=0.2, seed=2)
    residuals = [t - math.sin(x[0]) for x, t in zip(X, y)]
    std = math.sqrt(sum(r * r for r in residuals) / len(residuals))
    assert 0.18 < std < 0.22


@pytest.mark.parametrize("kwargs, message", [
    ({"n": 1}, "n must be an int >= 2"),
    ({"n": 2.5}, "n must be an int"),
    ({"n": True}, "n must be an int"),
    ({"noise": -0.1}, "noise must be a finite number >= 0"),
    ({"noise": math.inf}, "noise must be a finite number >= 0"),
])
def test_bad_arguments_say_what_is_wrong(kwargs, message):
    with pytest.raises(ValueError, match=message):
        datasets.moons(**kwargs)


def test_unknown_dataset_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown dataset 'mnist'; use one of: xor, moons"):
        datasets.load_dataset("mnist")


# ------------------------------------------------------------------------ digits
def test_digits_are_scikit_learns_images_scaled_to_0_1():
    sklearn_datasets = pytest.importorskip("sklearn.datasets")
    bunch = sklearn_datasets.load_digits()
    X, y = datasets.digits(seed=0)
    assert len(X) == len(y) == 1797 and all(len(x) == 64 for x in X)
    assert set(y) == {float(d) for d in range(10)}
    assert all(0.0 <= v <= 1.0 for x in X for v in x)
    # each example is one of sklearn's images, with its own label
    originals = {tuple(float(v) / 16.0 for v in row): float(t)
                 for row, t in zip(bunch.data, bunch.target)}
    assert all(originals[tuple(x)] == t for x, t in zip(X, y))
    small, labels = datasets.digits(n=50, seed=1)
    assert len(small) == 50 and (small, labels) == datasets.digits(n=50, seed=1)
    with pytest.raises(ValueError, match="n must be at most 1797"):
        datasets.digits(n=1798)


def test_digits_without_scikit_learn_says_how_to_install_it(monkeypatch):
    import builtins
    real_import = builtins.__import__

    def no_sklearn(name, *args, **kwargs):
        if name.startswith("sklearn"):
            raise ImportError("No module named 'sklearn'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_sklearn)
    with pytest.raises(datasets.MissingExtraError,
                       match=r"digits dataset needs scikit-learn.*pip install 'chainrule\[digits\]'"):
        datasets.digits()


def test_every_dataset_has_its_training_defaults():
    for name, row in datasets.DATASETS.items():
        assert row.task in ("classification", "regression")
        assert row.activation in ("sigmoid", "tanh", "relu") and row.lr > 0
        assert all(isinstance(h, int) and h > 0 for h in row.hidden) and row.epochs >= 1
        assert (row.classes == 0) == (row.task == "regression")


def test_each_row_states_its_dataset_s_own_facts():
    """The row's input width, sample count, noise and classes are the generator's: what
    training, the memory estimate and the playground read is what load_dataset gives."""
    import inspect
    from nn.datasets import DATASETS, load_dataset
    for name, row in DATASETS.items():
        # the generator's own n and noise are the row's: it states none of its own
        defaults = inspect.signature(row.generator).parameters
        assert (defaults["n"].default, defaults["noise"].default) == (None, None)
        if name == "digits":
            pytest.importorskip("sklearn")
        made = row.generator(seed=3)
        assert len(made[0]) == row.samples
        assert made == row.generator(n=row.samples, noise=row.noise, seed=3)
        X, y = load_dataset(name, n=100)
        assert {len(x) for x in X} == {row.inputs}
        assert len(set(y)) == row.classes or row.task == "regression"
        assert row.outputs == (row.classes if row.classes > 2 else 1)
