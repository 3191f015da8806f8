"""Bad inputs raise the exception of the CLI's exit code, with nmc's message."""

from __future__ import annotations

import numpy as np
import pytest

import nmc
from conftest import MODEL


@pytest.fixture(scope="module")
def model():
    return nmc.load(MODEL)


def test_exception_classes_mirror_exit_codes():
    for cls in (nmc.UsageError, nmc.BadInputError, nmc.DoesNotFitError, nmc.MismatchError,
                nmc.OverflowError, nmc.InternalError):
        assert issubclass(cls, nmc.NmcError)


def test_complex_input_is_bad_input(model):
    x = np.zeros((1, 2, 1, 28, 28), dtype=np.complex128)
    with pytest.raises(nmc.BadInputError, match="complex128"):
        model.simulate(x)


def test_wrong_input_shape_names_the_shapes(model):
    with pytest.raises(nmc.BadInputError, match=r"x: .*784") as e:
        model.simulate(np.zeros((2, 5, 10)))
    assert "10" in str(e.value)


def test_wrong_input_shape_for_the_emulator(model):
    dep = model.compile("loihi1")
    with pytest.raises(nmc.BadInputError, match="x: "):
        dep.emulate(np.zeros((2, 5, 3, 3)))


def test_unknown_target_lists_the_known_ones(model):
    with pytest.raises(nmc.BadInputError, match="loihi1") as e:
        model.compile("loihi9")
    assert "loihi9" in str(e.value)


def test_model_that_does_not_fit(model, tmp_path):
    t = nmc.target("loihi1").to_ron()
    # One core per chip and one chip: the conv net needs more.
    t = t.replace("cores_per_chip: 128", "cores_per_chip: 1").replace("max_chips: 32", "max_chips: 1")
    assert "cores_per_chip: 1," in t and "max_chips: 1," in t
    (tmp_path / "tiny.ron").write_text(t)
    with pytest.raises(nmc.DoesNotFitError, match="core"):
        model.compile(nmc.target(tmp_path / "tiny.ron"))


def test_missing_file_names_it(tmp_path):
    with pytest.raises(nmc.NmcError, match="nope.nir"):
        nmc.load(tmp_path / "nope.nir")


def test_malformed_file_is_bad_input(tmp_path):
    (tmp_path / "junk.nir").write_bytes(b"not an hdf5 file")
    with pytest.raises(nmc.BadInputError, match="junk.nir"):
        nmc.load(tmp_path / "junk.nir")


def test_not_a_model(tmp_path):
    with pytest.raises(TypeError, match="path or a nir.NIRGraph"):
        nmc.load(42)
    with pytest.raises(TypeError, match="expected an array"):
        nmc.load(MODEL).simulate(str(MODEL))


def test_stage_mismatch_is_a_usage_error(model, tmp_path):
    dep = model.compile("loihi1")
    dep.save(tmp_path / "a.nmca")
    art = nmc.load(tmp_path / "a.nmca")
    with pytest.raises(nmc.UsageError, match="float network"):
        art.simulate(np.zeros((1, 1, 1, 28, 28)))
    with pytest.raises(nmc.UsageError, match="not a compiled artifact"):
        model.emulate(np.zeros((1, 1, 1, 28, 28)))


def test_bad_options_are_usage_errors(tmp_path):
    with pytest.raises(nmc.UsageError, match="discretization `rk4`"):
        nmc.load(MODEL, discretization="rk4")
    with pytest.raises(nmc.UsageError, match="dt"):
        nmc.load(MODEL, dt=-1.0)
    with pytest.raises(nmc.UsageError, match="onnx"):
        nmc.load(MODEL, calibrate=np.zeros((1, 784)))
    with pytest.raises(nmc.NmcError, match="encoder"):
        nmc.load(MODEL).compile("loihi1", encoder="magic")


def test_labels_must_match_the_batch(model):
    with pytest.raises(nmc.BadInputError, match="3 labels for a batch of 2"):
        model.simulate(np.zeros((2, 1, 1, 28, 28)), 2, labels=np.array([1, 2, 3]))
    with pytest.raises(nmc.BadInputError, match="negative"):
        model.simulate(np.zeros((2, 1, 1, 28, 28)), 2, labels=np.array([1, -2]))


def test_zero_steps(model):
    dep = model.compile("loihi1")
    with pytest.raises(nmc.NmcError, match="steps"):
        dep.emulate(np.zeros((1, 1, 1, 28, 28)), 0)


def test_verify_check_raises_on_a_mismatch(model, monkeypatch):
    # A = B holds for every network nmc compiles, so the check is driven
    # with a report that says otherwise.
    import json

    real = nmc._nmc.verify

    def fake(*a):
        report, dep = real(*a)
        r = json.loads(report)
        assert r["exact"]["equal"] is True
        r["exact"]["equal"] = False
        r["exact"]["mismatch"] = {"layer": "if1", "step": 3}
        return json.dumps(r), dep

    monkeypatch.setattr(nmc._nmc, "verify", fake)
    x = np.zeros((1, 1, 1, 28, 28))
    assert nmc.verify(model, "loihi1", x, steps=2)["exact"]["equal"] is False
    with pytest.raises(nmc.MismatchError, match="if1"):
        nmc.verify(model, "loihi1", x, steps=2, check=True)


def test_dead_end_node_warns_as_the_cli_does(cli):
    f = MODEL.parents[2] / "tests" / "fixtures" / "hostile" / "dead_end.nir"
    with pytest.warns(UserWarning, match="node `probe` reaches no Output node"):
        m = nmc.load(f)
    assert m.warnings == ["node `probe` reaches no Output node: it is computed but nothing reads it"]
    r = cli.run("inspect", f)
    assert f"warning: {f}: {m.warnings[0]}" in r.stderr
    # A model without dead ends loads without a warning.
    assert nmc.load(MODEL).warnings == []
