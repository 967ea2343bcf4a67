"""Module.save / Module.load: exact round trips, atomic writes, and every bad file refused."""

import json
import math
import os

import pytest

import nn
from nn import MLP, Layer, ModelFileError, Module, Neuron
from nn import serialize


def outputs(model, inputs):
    out = model(inputs)
    return [v.data for v in out] if isinstance(out, list) else out.data


@pytest.fixture
def model():
    return MLP(3, [4, 4, 2], activation="tanh", output_activation="linear", seed=5)


@pytest.fixture
def saved(model, tmp_path):
    path = tmp_path / "model.json"
    model.save(path)
    return path


def test_round_trip_gives_identical_parameters_and_outputs(model, saved):
    loaded = MLP.load(saved)
    assert loaded is not model
    assert [p.data for p in loaded.parameters()] == [p.data for p in model.parameters()]
    assert [p.label for p in loaded.parameters()] == [p.label for p in model.parameters()]
    for x in ([0.1, -0.2, 0.3], [5.0, 1.0, -7.5]):
        assert outputs(loaded, x) == outputs(model, x)
    # and saving the loaded model gives the same bytes
    again = saved.parent / "again.json"
    loaded.save(again)
    assert again.read_bytes() == saved.read_bytes()


def test_mixed_activations_and_kinds_survive(tmp_path):
    mlp = MLP(2, [3, 3, 1], activation="relu", output_activation="sigmoid", seed=1)
    for neuron in mlp.layers[1].neurons:  # hidden layers may differ from one another
        neuron.activation = "tanh"
    for module in (mlp, Layer(3, 2, "relu", seed=2), Neuron(4, "linear", seed=3)):
        path = tmp_path / f"{type(module).__name__}.json"
        module.save(path)
        loaded = Module.load(path)  # Module.load returns whatever the file holds
        assert type(loaded) is type(module)
        x = [0.5, -1.5, 2.0, 0.25][:_nin(module)]
        assert outputs(loaded, x) == outputs(module, x)
    assert [n.activation for n in Module.load(tmp_path / "MLP.json").layers[1].neurons] \
        == ["tanh"] * 3


def _nin(module):
    if isinstance(module, MLP):
        return len(module.layers[0].neurons[0].w)
    if isinstance(module, Layer):
        return len(module.neurons[0].w)
    return len(module.w)


def test_the_file_says_what_it_is(model, saved):
    data = json.loads(saved.read_text())
    assert data["format"] == "chainrule-model" and data["version"] == 1
    assert data["kind"] == "MLP"
    assert data["architecture"] == {"sizes": [3, 4, 4, 2],
                                    "activations": ["tanh", "tanh", "linear"]}
    assert data["layers"][0]["weights"][1] == [w.data for w in model.layers[0].neurons[1].w]
    assert data["layers"][2]["biases"] == [n.b.data for n in model.layers[2].neurons]


def test_load_of_the_wrong_class_is_refused(tmp_path):
    path = tmp_path / "layer.json"
    Layer(2, 2, seed=0).save(path)
    with pytest.raises(ModelFileError, match="holds a Layer, not a MLP"):
        MLP.load(path)


def test_missing_file_names_the_file(tmp_path):
    path = tmp_path / "nope.json"
    with pytest.raises(FileNotFoundError, match="nope.json"):
        MLP.load(path)


def _corrupt(saved, edit):
    data = json.loads(saved.read_text())
    edit(data)
    saved.write_text(json.dumps(data))


def _set(path, value):
    def edit(data):
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return edit


BAD_FILES = {
    "empty": (lambda p: p.write_text(""), "is empty"),
    "truncated": (lambda p: p.write_text(p.read_text()[: len(p.read_text()) // 2]),
                  "not valid JSON, it may be truncated or corrupt"),
    "not json": (lambda p: p.write_text("weights: 1 2 3\n"), "not valid JSON"),
    "binary": (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe"), "not valid JSON"),
    "a list": (lambda p: p.write_text("[1, 2]"), "not a chainrule model"),
    "other format": (lambda p: _corrupt(p, _set(["format"], "keras")),
                     "not a chainrule model"),
    "version 2": (lambda p: _corrupt(p, _set(["version"], 2)),
                  "format version 2 is not supported; this chainrule reads version 1"),
    "no version": (lambda p: _corrupt(p, lambda d: d.pop("version")),
                   "format version None is not supported"),
    "too few weights": (lambda p: _corrupt(p, lambda d: d["layers"][1]["weights"].pop()),
                        r"layer 2: weights must be 4 rows of 4 numbers"),
    "short row": (lambda p: _corrupt(p, lambda d: d["layers"][0]["weights"][2].pop()),
                  r"layer 1: weights must be 4 rows of 3 numbers"),
    "extra bias": (lambda p: _corrupt(p, lambda d: d["layers"][2]["biases"].append(0.0)),
                   "layer 3: 3 biases but the architecture says 2 neurons"),
    "sizes disagree": (lambda p: _corrupt(p, _set(["architecture", "sizes"], [3, 4, 2])),
                       "architecture has 2 layers"),
    # json.dumps writes float("nan") as NaN, which Python's json reads back
    "nan": (lambda p: _corrupt(p, lambda d: d["layers"][0]["biases"].__setitem__(
        0, math.nan)), "parameter nan is not a finite number"),
    "infinity": (lambda p: _corrupt(p, lambda d: d["layers"][0]["weights"][0].__setitem__(
        0, 1e400)), "parameter inf is not a finite number"),
    "a string": (lambda p: _corrupt(p, lambda d: d["layers"][1]["biases"].__setitem__(
        0, "0.5")), "parameter '0.5' is not a finite number"),
    "a bool": (lambda p: _corrupt(p, lambda d: d["layers"][1]["biases"].__setitem__(
        0, True)), "parameter True is not a finite number"),
    "bad activation": (lambda p: _corrupt(p, _set(["architecture", "activations"],
                                                  ["tanh", "swish", "linear"])),
                       "layer 2: unknown activation 'swish'"),
    "no layers": (lambda p: _corrupt(p, lambda d: d.pop("layers")), "no 'layers' field"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files_raise_one_clear_error_naming_the_file(saved, case):
    damage, message = BAD_FILES[case]
    damage(saved)
    with pytest.raises(ModelFileError, match=message) as caught:
        MLP.load(saved)
    assert str(saved) in str(caught.value)
    assert isinstance(caught.value, ValueError)
    assert "\n" not in str(caught.value)


def test_a_directory_is_not_a_model_file(tmp_path):
    with pytest.raises(ModelFileError, match=str(tmp_path)):
        MLP.load(tmp_path)


def test_a_crash_while_saving_leaves_the_old_file_intact(model, saved, monkeypatch):
    before = saved.read_bytes()
    other = MLP(3, [4, 4, 2], seed=99)

    def crash(*args, **kwargs):
        raise RuntimeError("power cut")

    monkeypatch.setattr(serialize.json, "dump", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        other.save(saved)
    assert saved.read_bytes() == before
    assert os.listdir(saved.parent) == ["model.json"]  # no temporary file left behind
    monkeypatch.undo()
    assert outputs(MLP.load(saved), [1.0, 2.0, 3.0]) == outputs(model, [1.0, 2.0, 3.0])


def test_a_crash_while_saving_a_new_file_leaves_nothing(model, tmp_path, monkeypatch):
    monkeypatch.setattr(serialize.json, "dump", lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        model.save(tmp_path / "new.json")
    assert os.listdir(tmp_path) == []


def test_saved_files_get_ordinary_permissions(model, tmp_path):
    umask = os.umask(0o022)
    try:
        model.save(tmp_path / "m.json")
        assert (tmp_path / "m.json").stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600
        os.chmod(tmp_path / "m.json", 0o640)
        model.save(tmp_path / "m.json")  # replacing keeps the file's permissions
        assert (tmp_path / "m.json").stat().st_mode & 0o777 == 0o640
    finally:
        os.umask(umask)


def test_saving_a_diverged_model_is_refused(model, tmp_path):
    model.parameters()[4].data = math.inf
    with pytest.raises(ValueError, match="parameter L1.h2.w1 is inf"):
        model.save(tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()


def test_save_into_a_missing_directory_fails_clearly(model, tmp_path):
    with pytest.raises(FileNotFoundError):
        model.save(tmp_path / "no" / "such" / "m.json")


def test_model_file_error_is_exported():
    assert nn.ModelFileError is ModelFileError and issubclass(ModelFileError, ValueError)


def test_save_refuses_a_device_and_writes_through_a_symlink(tmp_path):
    import os
    from nn import MLP
    model = MLP(2, [2, 1], seed=0)
    with pytest.raises(FileExistsError, match="not a regular file"):
        model.save("/dev/null")
    assert not os.path.isfile("/dev/null")
    target = tmp_path / "real.json"
    link = tmp_path / "link.json"
    link.symlink_to(target)
    model.save(link)
    assert link.is_symlink() and MLP.load(target).parameters()[0].data == model.parameters()[0].data
