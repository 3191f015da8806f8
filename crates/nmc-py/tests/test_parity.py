"""The Python API and the nmc command give the same bytes, spikes and reports."""

from __future__ import annotations

import numpy as np
import pytest

import nmc
from conftest import MODEL

STEPS = 10


@pytest.fixture(scope="module")
def model():
    return nmc.load(MODEL)


@pytest.fixture(scope="module")
def deployment(model):
    return model.compile("loihi1")


@pytest.fixture(scope="module")
def artifact_file(cli, tmp_path_factory):
    p = tmp_path_factory.mktemp("cli") / "mnist_conv.nmca"
    cli.run("compile", MODEL, "--target", "loihi1", "-o", p)
    return p


def test_artifact_bytes_equal_the_cli(deployment, artifact_file, tmp_path):
    assert deployment.artifact == artifact_file.read_bytes()
    deployment.save(tmp_path / "py.nmca")
    assert (tmp_path / "py.nmca").read_bytes() == artifact_file.read_bytes()


def test_options_reach_the_artifact(model, cli, tmp_path):
    # A non-default option gives another artifact, and the same one as the CLI's.
    dep = model.compile("loihi1", scale_firing_rates=2.0, encoder="none")
    cli.run("compile", MODEL, "--target", "loihi1", "--scale-firing-rates", "2", "--encoder", "none",
            "-o", tmp_path / "b.nmca")
    assert dep.artifact == (tmp_path / "b.nmca").read_bytes()
    assert dep.artifact != model.compile("loihi1").artifact


def test_partition_report_equals_the_cli(deployment, cli):
    assert deployment.partition == cli.json("partition", MODEL, "--target", "loihi1")
    assert deployment.partition_text.rstrip("\n") == cli.run("partition", MODEL, "--target", "loihi1").stdout.rstrip("\n")


def test_quantize_report_and_model_equal_the_cli(model, deployment, cli, tmp_path):
    q, report = model.quantize("loihi1")
    assert report == cli.json("quantize", MODEL, "--target", "loihi1")
    assert deployment.quant_report == report
    # The quantized model compiles to the same artifact as the float one.
    cli.run("quantize", MODEL, "--target", "loihi1", "-o", tmp_path / "m.q.ron")
    from_file = nmc.load(tmp_path / "m.q.ron")
    assert from_file.kind == "quantized"
    assert q.compile("loihi1").artifact == deployment.artifact
    assert from_file.compile("loihi1").artifact == deployment.artifact


def test_emulated_spikes_equal_the_cli(deployment, artifact_file, digits, digits_files, cli, tmp_path):
    x, _ = digits
    out = tmp_path / "emu.npz"
    cli.run("emulate", artifact_file, "--input", digits_files[0], "--steps", STEPS, "--out", out)
    ref = np.load(out)
    py = deployment.emulate(x, STEPS)
    assert [f"spikes.{k}" for k in py] == list(ref.keys())
    for k, s in py.items():
        assert s.dtype == np.uint8 and s.shape == ref[f"spikes.{k}"].shape
        np.testing.assert_array_equal(s, ref[f"spikes.{k}"], err_msg=k)
    assert sum(int(s.sum()) for s in py.values()) > 0, "a silent run proves nothing"


def test_artifact_loaded_from_file_emulates_the_same(deployment, artifact_file, digits):
    x, _ = digits
    loaded = nmc.load(artifact_file)
    assert loaded.kind == "artifact"
    a, b = loaded.emulate(x, STEPS), deployment.emulate(x, STEPS)
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


class _FakeTqdm:
    made = []

    def __init__(self, total, **kw):
        self.total, self.n, self.closed = total, 0, False
        _FakeTqdm.made.append(self)

    def update(self, n):
        self.n += n

    def close(self):
        self.closed = True


@pytest.fixture
def fake_tqdm(monkeypatch):
    import sys
    import types

    mod = types.ModuleType("tqdm.auto")
    mod.tqdm = _FakeTqdm
    monkeypatch.setitem(sys.modules, "tqdm", types.ModuleType("tqdm"))
    monkeypatch.setitem(sys.modules, "tqdm.auto", mod)
    _FakeTqdm.made.clear()
    return _FakeTqdm.made


def test_progress_bar_only_when_interactive_and_chunks_change_no_spike(deployment, digits, monkeypatch, fake_tqdm):
    x, _ = digits
    monkeypatch.setattr(nmc, "PROGRESS_CHUNK", 3)
    monkeypatch.setattr(nmc, "_interactive", lambda: False)
    whole = deployment.emulate(x, STEPS)
    assert fake_tqdm == [], "no bar in a non-interactive run"
    monkeypatch.setattr(nmc, "_interactive", lambda: True)
    chunked = deployment.emulate(x, STEPS)
    assert len(fake_tqdm) == 1
    bar = fake_tqdm[0]
    assert (bar.total, bar.n, bar.closed) == (len(x), len(x), True)
    assert chunked.keys() == whole.keys()
    for k, v in whole.items():
        np.testing.assert_array_equal(chunked[k], v)


def test_simulation_equals_the_cli(model, digits, digits_files, cli, tmp_path):
    x, y = digits
    out = tmp_path / "sim.npz"
    report = cli.json("simulate", MODEL, "--input", digits_files[0], "--labels", digits_files[1],
                      "--steps", STEPS, "--out", out)
    ref = np.load(out)
    sim = model.simulate(x, STEPS, labels=y)
    for k, s in sim.spikes.items():
        np.testing.assert_array_equal(s, ref[f"spikes.{k}"], err_msg=k)
    for k, v in sim.outputs.items():
        np.testing.assert_array_equal(v, ref[f"output.{k}"], err_msg=k)
    # The report is the CLI's but for the input's name (a path there, "x" here).
    assert sim.report.pop("input") == "x"
    report.pop("input")
    assert sim.report == report
    assert sim.report["accuracy"] is not None
    counts = sim.counts()
    assert {k: int(c.sum()) for k, c in counts.items()} == {
        layer["name"]: layer["spikes"] for layer in report["rates"]["layers"]
    }


def test_simulate_dt_is_the_cli_dt(model, digits, digits_files, cli):
    x, _ = digits
    sim = model.simulate(x, STEPS, dt=0.002)
    report = cli.json("simulate", MODEL, "--dt", "0.002", "--input", digits_files[0], "--steps", STEPS)
    assert sim.dt == 0.002
    sim.report.pop("input"), report.pop("input")
    assert sim.report == report
    assert model.dt == 0.001, "simulate(dt=) must not change the model"


def test_verify_report_equals_the_cli(model, deployment, digits, digits_files, cli):
    x, y = digits
    report = nmc.verify(model, deployment, x, labels=y, steps=STEPS)
    ref = cli.json("verify", MODEL, "--target", "loihi1", "--input", digits_files[0], "--labels",
                   digits_files[1], "--steps", STEPS)
    assert report == ref
    assert report["exact"]["equal"] is True


def test_verify_refuses_a_deployment_compiled_otherwise(model, digits):
    x, _ = digits
    other = model.compile("loihi1", scale_firing_rates=2.0)
    with pytest.raises(nmc.UsageError, match="not the artifact this model compiles to"):
        nmc.verify(model, other, x, steps=2)


def test_inspect_equals_the_cli(model, cli):
    assert model.inspect(json=True) == cli.json("inspect", MODEL)
    assert model.inspect().rstrip("\n") == cli.run("inspect", MODEL).stdout.rstrip("\n")


def test_target_limits_are_the_target_file(cli, tmp_path):
    assert "loihi1" in nmc.targets()
    t = nmc.target("loihi1")
    assert t.name == "loihi1"
    from_file = nmc.target(MODEL.parents[2] / "targets" / "loihi1.ron")
    assert from_file.limits == t.limits
    assert t.limits["core"]["max_compartments"] > 0
    # to_ron writes a target file the CLI accepts and that reads back the same.
    (tmp_path / "t.ron").write_text(t.to_ron())
    cli.run("targets", "--check", tmp_path / "t.ron")
    assert nmc.target(tmp_path / "t.ron").limits == t.limits


def test_all_families_are_listed_and_the_rule_is_the_files(cli):
    every = nmc.all_targets()
    assert every["xylo-audio2"] == "xylo-iaf" and every["loihi2"] == "lava-loihi2"
    assert every["speck"] == "dynapcnn"
    assert nmc.targets() == [n for n, f in every.items() if f == "loihi"]
    rule = nmc.target("loihi1").rule
    assert rule == nmc.target("loihi1").limits["rule"]
    assert (rule["reset"], rule["threshold"], rule["weight_exponent"]) == ("Zero", "Greater", "PerWeight")
    table = cli.run("targets", "--rules", "loihi1").stdout
    assert "v > vth" in table and "v = 0" in table


ONNX = MODEL.parents[1] / "onnx_mnist"


def test_onnx_with_calibration_equals_the_cli(cli, tmp_path):
    calib = np.load(ONNX / "calib_images.npy")
    m = nmc.load(ONNX / "mnist_cnn.onnx", calibrate=calib, percentile=99.0, max_rate=200.0)
    assert m.warnings == []
    cli.run("compile", ONNX / "mnist_cnn.onnx", "--calibrate", ONNX / "calib_images.npy", "--percentile", "99",
            "--max-rate", "200", "--target", "loihi1", "-o", tmp_path / "o.nmca")
    assert m.compile("loihi1").artifact == (tmp_path / "o.nmca").read_bytes()
    # Other conversion options give another network.
    other = nmc.load(ONNX / "mnist_cnn.onnx", calibrate=calib)
    assert other.compile("loihi1").artifact != m.compile("loihi1").artifact


def test_onnx_without_calibration_warns_as_the_cli_does(cli):
    with pytest.warns(UserWarning, match="weight-based"):
        m = nmc.load(ONNX / "mnist_cnn.onnx")
    assert any("weight-based" in w for w in m.warnings)
    r = cli.run("inspect", ONNX / "mnist_cnn.onnx")
    assert "weight-based" in r.stderr
