"""The playground without a browser: set-up checks, the session against its exported snippet
(run as a separate Python process), the model file, and the server's safety rules."""
import json
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("starlette")  # the dev extra installs the playground extra's packages
websockets_client = pytest.importorskip("websockets.sync.client")
import httpx  # noqa: E402

import mlplab  # noqa: E402
from mlplab.playground import server, setup  # noqa: E402
from mlplab.playground.session import Session  # noqa: E402
from mlplab.playground.setup import SetupError, check_setup  # noqa: E402

SRC = Path(__file__).resolve().parents[1] / "src"


def run_snippet(text, tmp_path, name="run.py"):
    path = tmp_path / name
    path.write_text(text)
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    out = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    return {k: float(v) for k, v in re.findall(r"^(Epoch|Training loss|Test loss) (\S+)$",
                                               out.stdout, re.M)}


# ------------------------------------------------------------------------- the set-up
def test_defaults_are_the_tensorflow_playgrounds():
    s = check_setup({})
    assert (s["dataset"], s["networkShape"], s["activation"], s["learningRate"],
            s["batchSize"], s["percTrainData"], s["features"]) == \
        ("circle", [4, 2], "tanh", 0.03, 10, 50, ["x1", "x2"])
    assert setup.resolve_output(s, 2)[:2] == ("tanh", "mean_squared_error")


@pytest.mark.parametrize("raw, words", [
    ({"networkShape": [4] * 9}, "at most 8 hidden layers"),
    ({"networkShape": [17]}, "1 to 16 neurons"),
    ({"learningRate": "fast"}, "learningRate must be a number"),
    ({"noise": 80}, "noise must be an integer from 0 to 50; received 80"),
    ({"features": ["x3"]}, "features must be one or more"),
    ({"dataset": "moons"}, "dataset must be one of"),
    ({"dropout": [0.95, 0]}, "dropout rates must lie in [0, 0.9]"),
    ({"wat": 1}, "unknown set-up keys ['wat']"),
])
def test_bad_setups_are_refused_with_the_key_and_the_value(raw, words):
    with pytest.raises(SetupError) as info:
        check_setup(raw)
    assert words in str(info.value)


def test_a_refused_setup_changes_nothing():
    s = Session()
    s.configure({"dataset": "xor"})
    s.train(3)
    before = [w.copy() for w in s.model.get_weights()]
    with pytest.raises(SetupError, match="networkShape"):
        s.configure({"dataset": "xor", "networkShape": [99]})
    assert s.epoch == 3 and s.setup["networkShape"] == [4, 2]
    assert all(np.array_equal(a, b) for a, b in zip(before, s.model.get_weights()))


def test_features_are_the_named_columns():
    x = np.array([[1.0, 2.0], [-3.0, 0.5]])
    got = setup.features(x, list(setup.FEATURES))
    want = np.column_stack([x[:, 0], x[:, 1], x[:, 0] ** 2, x[:, 1] ** 2, x[:, 0] * x[:, 1],
                            np.sin(x[:, 0]), np.sin(x[:, 1])])
    np.testing.assert_array_equal(got, want)


# ------------------------------------------------------------------------- session == snippet
@pytest.mark.parametrize("raw, epochs", [
    ({"dataset": "xor", "networkShape": [4, 2, 2]}, 25),
    ({"dataset": "circle", "features": ["x1sq", "x2sq"], "networkShape": [3],
      "outputActivation": "sigmoid", "optimizer": "adam", "learningRate": 0.01,
      "regularization": "l2", "regularizationRate": 0.001, "dropout": [0.2]}, 15),
    ({"dataset": "reg-gauss", "networkShape": [8, 4], "activation": "relu",
      "layerActivations": ["", "sigmoid"], "noise": 10, "batchSize": 25}, 10),
    ({"dataset": "spiral", "outputActivation": "softmax", "regularization": "l1",
      "regularizationRate": 0.003, "percTrainData": 70, "dataSeed": 7, "seed": 3}, 10),
    ({"model": "perceptron", "dataset": "gauss", "noise": 50, "learningRate": 1.0}, 10),
    ({"model": "adaline", "dataset": "xor", "features": ["x1x2"], "learningRate": 0.001},
     10),
])
def test_the_exported_snippet_reproduces_the_run(raw, epochs, tmp_path):
    s = Session()
    s.configure(raw)
    frame = s.train(epochs)
    got = run_snippet(s.snippet(), tmp_path)
    assert got["Epoch"] == epochs == frame["epoch"]
    assert got["Training loss"] == pytest.approx(frame["trainLoss"], abs=2e-6)
    assert got["Test loss"] == pytest.approx(frame["testLoss"], abs=2e-6)


def test_frames_carry_the_heatmaps_the_page_draws():
    s = Session()
    data = s.configure({"dataset": "gauss", "networkShape": [8, 8, 8, 8], "samples": 500})
    assert len(data["train"]) == 250 and data["layers"] == [8, 8, 8, 8, 1]
    f = s.train()
    import base64
    boundary = np.frombuffer(base64.b64decode(f["boundary"]), np.uint8)
    assert boundary.shape == (100 * 100,)
    assert [len(layer) for layer in f["neurons"]] == [8, 8, 8, 8, 1]
    assert all(len(base64.b64decode(b)) == 100 for layer in f["neurons"] for b in layer)
    # the output neuron's 10 x 10 map is the boundary sampled on the coarse grid: same codes
    # where the two grids meet (the corners)
    out = np.frombuffer(base64.b64decode(f["neurons"][-1][0]), np.uint8).reshape(10, 10)
    big = boundary.reshape(100, 100)
    assert out[0, 0] == big[0, 0] and out[-1, -1] == big[-1, -1]
    # accuracy and confusion matrix agree with the model's own predictions
    y_test = s.y[s.n_train_:]
    pred = (s.model.predict(s.X_test)[:, 0] > 0).astype(int)
    assert f["testAccuracy"] == pytest.approx((pred == y_test).mean())
    assert np.trace(f["confusion"]) == (pred == y_test).sum()
    assert np.sum(f["confusion"]) == len(y_test)


def test_stop_rules_stop_with_a_reason():
    s = Session()
    s.configure({"dataset": "gauss", "maxEpochs": 4})
    assert s.train(10)["epoch"] == 4 and "maxEpochs = 4" in s.stop_reason
    assert not s.resume()  # still 4 epochs
    s.configure({"dataset": "gauss", "maxEpochs": 6})  # a live key: the run goes on
    assert s.resume() and s.train(10)["epoch"] == 6
    s.configure({"dataset": "gauss", "lossThreshold": 0.5, "learningRate": 0.1})
    f = s.train(100)
    assert f["testLoss"] < 0.5
    assert "fell below 0.5" in f["stopReason"] and f["epoch"] < 100
    s.configure({"dataset": "gauss", "patience": 3, "learningRate": 10.0})
    f = s.train(100)
    assert f["stopReason"] and ("early stopping" in f["stopReason"] or "NaN" in f["stopReason"])


def test_mlplab_configuration_warnings_become_notes():
    s = Session()
    notes = s.configure({"dataset": "xor", "learningRate": 10.0})["notes"]
    assert any("learning_rate=10 is very large" in n for n in notes)


def test_the_perceptron_replays_its_run_and_stops_when_it_converges():
    s = Session()
    data = s.configure({"model": "perceptron", "dataset": "circle",
                        "features": ["x1sq", "x2sq"]})
    assert data["layers"] == [1] and data["loss"] == "fraction misclassified"
    frames = [s.train() for _ in range(20)]
    last = frames[-1]
    assert "converged" in last["stopReason"] and last["trainLoss"] == 0.0
    p = mlplab.Perceptron(max_epochs=last["epoch"], coding="bipolar", shuffle=True, random_state=1,
                          learning_rate=0.03).fit(s.X_train, s.y[:s.n_train_])
    np.testing.assert_allclose(np.array(last["weights"][0])[:, 0], p.W_[1:, 0], atol=1e-4)
    with pytest.raises(SetupError, match="weights replay its recorded run"):
        s.set_weight(0, 0, 0, 1.0)
    with pytest.raises(SetupError, match="takes two classes"):
        s.configure({"model": "adaline", "dataset": "reg-plane"})


def test_live_keys_do_not_restart_the_run():
    s = Session()
    s.configure({"dataset": "xor"})
    s.train(5)
    reply = s.configure({"dataset": "xor", "epochsPerFrame": 5, "maxEpochs": 100})
    assert reply["reset"] is False and s.epoch == 5
    assert s.train()["epoch"] == 10


def test_weight_edits_change_the_model_and_are_checked():
    s = Session()
    s.configure({"dataset": "xor"})
    s.set_weight(0, 1, 2, 3.5)
    s.set_weight(0, 2, 0, -1.25)  # row 2 of a 2-input layer: the bias
    layer = s.model.layers[0]
    assert layer.W[1, 2] == 3.5 and layer.b[0] == -1.25 and s.edited
    assert s.frame()["weights"][0][1][2] == 3.5
    with pytest.raises(SetupError, match="row must be 0..2"):
        s.set_weight(0, 3, 0, 1.0)
    with pytest.raises(SetupError, match=r"\[-100, 100\]"):
        s.set_weight(0, 0, 0, float("inf"))


def test_the_model_file_loads_back_with_the_same_predictions():
    s = Session()
    s.configure({"dataset": "spiral", "networkShape": [6, 6]})
    s.train(5)
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"pg-model-{os.getpid()}.npz"
    try:
        path.write_bytes(s.model_file())
        twin = mlplab.load_model(path)
    finally:
        path.unlink(missing_ok=True)
    np.testing.assert_array_equal(twin.predict(s.X_test), s.model.predict(s.X_test))


def three_class_csv(n=300, seed=0):
    x, y = mlplab.datasets.make_blobs(n, centers=[[-3, -3], [3, -3], [0, 3]], seed=seed)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    return "x1,x2,species\n" + "".join(f"{a:.5f},{b:.5f},{c}\n" for (a, b), c in zip(x, names))


def test_uploaded_csv_trains_with_softmax_and_the_snippet_replays_it(tmp_path):
    s = Session()
    info = s.set_upload(three_class_csv())
    assert info["classes"] == ["setosa", "versicolor", "virginica"] and info["rows"] == 300
    data = s.configure({"dataset": "upload", "networkShape": [4], "learningRate": 0.1})
    assert data["output"] == "softmax" and data["loss"] == "sparse_categorical_crossentropy"
    f = s.train(20)
    assert f["testAccuracy"] > 0.9 and np.array(f["confusion"]).shape == (3, 3)
    got = run_snippet(s.snippet(), tmp_path)
    assert got["Test loss"] == pytest.approx(f["testLoss"], abs=2e-6)
    # a second upload under the same set-up replaces the data and starts afresh
    s.set_upload(three_class_csv(n=120, seed=1))
    data = s.configure({"dataset": "upload", "networkShape": [4], "learningRate": 0.1})
    assert data["reset"] and len(data["train"]) + len(data["test"]) == 120 and s.epoch == 0


@pytest.mark.parametrize("text, words", [
    ("a,b,c\n" + "1,2,0\n" * 50000, "at most 262,144"),
    ("a,b\n1,2\n3,4\n5,6\n7,8\n", "3 columns"),
    ("a,b,c\n1,2,0\n3,4,1\n", "4 to 5,000 rows"),
    ("a,b,c\n" + "".join(f"{i},1,{i}\n" for i in range(12)), "real numbers"),
])
def test_bad_uploads_are_refused(text, words):
    s = Session()
    try:
        s.set_upload(text)
        s.configure({"dataset": "upload"})
    except SetupError as exc:
        assert words in str(exc)
    else:
        pytest.fail("accepted")


# ------------------------------------------------------------------------- the server
@pytest.fixture(scope="module")
def running():
    srv = server.start()
    yield srv
    srv.stop()


def ws_url(srv):
    return srv.url.replace("http://", "ws://") + "ws"


def test_page_and_static_files_are_served(running):
    page = httpx.get(running.url)
    assert page.status_code == 200 and "<title>mlplab playground</title>" in page.text
    for name in ("app.js", "style.css"):
        assert httpx.get(running.url + "static/" + name).status_code == 200
    assert "cdn" not in page.text.lower() and "https://" not in page.text


def test_a_foreign_origin_websocket_is_refused(running):
    with pytest.raises(Exception) as info:
        websockets_client.connect(ws_url(running), origin="http://evil.example")
    assert "403" in str(info.value)
    own = running.url.rstrip("/")
    with websockets_client.connect(ws_url(running), origin=own) as ws:
        assert json.loads(ws.recv())["type"] == "hello"


def test_a_foreign_host_header_is_refused(running):
    assert httpx.get(running.url, headers={"Host": "rebind.example"}).status_code == 400


def test_an_oversized_upload_is_refused_with_a_message(running):
    with websockets_client.connect(ws_url(running), origin=running.url.rstrip("/")) as ws:
        ws.recv()
        ws.send(json.dumps({"type": "upload", "text": "x" * (setup.MAX_UPLOAD_BYTES + 1)}))
        reply = json.loads(ws.recv())
        assert reply["type"] == "error" and "262,144" in reply["message"]
        ws.send(json.dumps({"type": "setup", "setup": {"networkShape": [8] * 9}}))
        reply = json.loads(ws.recv())
        assert reply["type"] == "error" and "at most 8 hidden layers" in reply["message"]


def test_sessions_end_with_their_socket(running):
    own = running.url.rstrip("/")
    with websockets_client.connect(ws_url(running), origin=own) as ws:
        ws.recv()
        ws.send(json.dumps({"type": "setup", "setup": {"dataset": "xor"}}))
        ws.send(json.dumps({"type": "play"}))
        kinds = set()
        while "frame" not in kinds or len(kinds) < 3:
            kinds.add(json.loads(ws.recv())["type"])
        assert len(running.app.state.sessions) == 1
    for _ in range(100):
        if not running.app.state.sessions:
            break
        import time
        time.sleep(0.05)
    assert not running.app.state.sessions


def non_loopback_addresses():
    import psutil

    return [a.address for addrs in psutil.net_if_addrs().values() for a in addrs
            if a.family == socket.AF_INET and not a.address.startswith("127.")]


def test_the_server_listens_on_loopback_only_by_default(running):
    assert running.sock.getsockname()[0] == "127.0.0.1"
    port = running.sock.getsockname()[1]
    for address in non_loopback_addresses():
        with pytest.raises(OSError):
            socket.create_connection((address, port), timeout=2).close()


def test_command_line_prints_the_url_and_stops_on_ctrl_c():
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen([sys.executable, "-c", "import sys; from mlplab.cli import main; "
                             "sys.exit(main())", "playground", "--port", "0", "--no-browser"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    try:
        import select

        assert select.select([proc.stdout], [], [], 60)[0], "no URL printed within 60 s"
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        assert httpx.get(url).status_code == 200
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "stopped" in out


def test_a_non_loopback_host_prints_a_warning(capsys, monkeypatch):
    monkeypatch.setattr(server, "_server", lambda host, port: (_ for _ in ()).throw(
        OSError(98, "Address already in use")))
    assert server.serve("0.0.0.0", 1, open_browser=False) == 2
    err = capsys.readouterr().err
    assert "Warning: serving the playground on 0.0.0.0, not loopback" in err
    assert "cannot listen on 0.0.0.0:1" in err


def test_the_core_cli_needs_no_web_server(capsys, monkeypatch):
    code = ("import sys; from mlplab.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('starlette', 'uvicorn', 'websockets') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": str(SRC)})
    assert out.stdout.strip() == "[]", out.stderr
    monkeypatch.setitem(sys.modules, "mlplab.playground.server", None)  # the extra missing
    from mlplab.cli import main

    assert main(["playground", "--no-browser"]) == 2
    assert 'pip install "mlplab[playground]"' in capsys.readouterr().err
