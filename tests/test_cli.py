"""The command line: `mlplab train` end to end on a slice of MNIST, and its errors."""
import re
import subprocess
import sys

from mlplab.cli import main


def test_train_prints_progress_and_test_accuracy(mnist_dir, capsys):
    code = main(["train", "--data", str(mnist_dir), "--samples", "3000", "--epochs", "2",
                 "--hidden", "64", "--verbose", "2"])
    out = capsys.readouterr().out
    assert code == 0
    assert "Total params: 50,890" in out  # 784*64 + 64 + 64*10 + 10
    assert re.search(r"Epoch 1/2 - .*loss: \d\.\d+ - accuracy: 0\.\d+", out)
    match = re.search(r"Test accuracy: (\d+\.\d+)%", out)
    assert match and float(match.group(1)) > 80.0


def test_train_without_data_offline_explains_where_to_put_files(tmp_path, capsys):
    code = main(["train", "--data", str(tmp_path), "--offline"])
    err = capsys.readouterr().err
    assert code == 2
    assert "MNIST files not found" in err and "MLPLAB_DATA" in err
    assert "--data FOLDER" in err and "load_mnist(" not in err   # advice for the shell


def test_console_script_help():
    out = subprocess.run([sys.executable, "-m", "mlplab.cli", "train", "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert "--learning-rate" in out and "--batch-size" in out


# ---------------------------------------------------------------------- the front door
import csv  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import mlplab  # noqa: E402

SRC = str(Path(mlplab.__file__).resolve().parents[1])


def write_iris_csv(path):
    x, y = mlplab.datasets.load_iris()
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["sepal_length", "sepal_width", "petal_length", "petal_width", "colour",
                    "species"])
        for row, label in zip(x, y):
            w.writerow([*row, "red" if row[0] > 5.8 else "blue",
                        mlplab.datasets.IRIS_CLASSES[label]])
    return path


def test_train_on_a_registered_data_set_with_full_batch(capsys, tmp_path):
    code = main(["train", "--dataset", "iris", "--hidden", "8", "--epochs", "300",
                 "--batch-size", "full", "--verbose", "0", "--save", str(tmp_path / "m.npz")])
    out = capsys.readouterr().out
    assert code == 0 and "batch_size=full" in out and "on 120 samples of iris" in out
    assert float(re.search(r"Test accuracy: (\d+\.\d+)%", out).group(1)) > 85
    assert mlplab.load_model(tmp_path / "m.npz").count_params() == 4 * 8 + 8 + 8 * 3 + 3
    assert (tmp_path / "m.npz.inputs.json").is_file()      # the standardization it trained on
    assert main(["evaluate", str(tmp_path / "m.npz"), "--dataset", "iris"]) == 0
    acc = float(re.search(r"accuracy: (\d\.\d+)", capsys.readouterr().out).group(1))
    assert acc > 0.85                                       # all 150 rows, coded as in training


def test_csv_train_evaluate_predict_summary(tmp_path, capsys):
    table = write_iris_csv(tmp_path / "iris.csv")
    saved = tmp_path / "model.npz"
    assert main(["train", "--csv", str(table), "--target", "species", "--hidden", "8",
                 "--epochs", "150", "--batch-size", "16", "--learning-rate", "0.1",
                 "--validation-split", "0.2", "--verbose", "2", "--save", str(saved)]) == 0
    out = capsys.readouterr().out
    assert "Total params: 83" in out                         # 4 numbers + 2 colours -> 8 -> 3
    assert "val_accuracy" in out and "test_loss" not in out
    assert (tmp_path / "model.npz.columns.json").is_file()
    assert main(["evaluate", str(saved), "--csv", str(table)]) == 0
    acc = float(re.search(r"accuracy: (\d\.\d+)", capsys.readouterr().out).group(1))
    assert acc > 0.9
    predictions = tmp_path / "out.csv"
    assert main(["predict", str(saved), "--csv", str(table), "--output", str(predictions)]) == 0
    rows = list(csv.DictReader(open(predictions)))
    truth = [r["species"] for r in csv.DictReader(open(table))]
    assert len(rows) == 150 and set(rows[0]) == {"prediction", "p_setosa", "p_versicolor",
                                                 "p_virginica"}
    assert np.mean([r["prediction"] == t for r, t in zip(rows, truth)]) == pytest.approx(acc, abs=1e-4)
    capsys.readouterr()
    assert main(["summary", str(saved)]) == 0
    assert "Trainable params: 83" in capsys.readouterr().out


def test_validate_reports_test_metrics_as_test_not_val(mnist_dir, capsys):
    main(["train", "--data", str(mnist_dir), "--samples", "2000", "--epochs", "1",
          "--hidden", "16", "--verbose", "2", "--validate"])
    out = capsys.readouterr().out
    assert "test_loss" in out and "test_accuracy" in out and "val_" not in out


def test_version_and_python_m_mlplab():
    env = {**os.environ, "PYTHONPATH": SRC}
    out = subprocess.run([sys.executable, "-m", "mlplab", "--version"], capture_output=True,
                         text=True, env=env, check=True).stdout
    assert out.strip() == f"mlplab {mlplab.__version__}"


def test_help_shows_defaults_and_choices(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    out = capsys.readouterr().out
    assert "(default: 0.5)" in out and "(default: 32)" in out and "(default: mnist)" in out
    assert "iris" in out and "relu" in out and "sparse_categorical_crossentropy" in out
    for command in ("evaluate", "predict", "summary", "datasets"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
    assert "--output" in capsys.readouterr().out


@pytest.mark.parametrize("argv, suggestion", [
    (["train", "--lerning-rate", "1"], "Did you mean --learning-rate?"),
    (["evalute", "m.npz"], "Did you mean evaluate?"),
    (["train", "--dataset", "irsi"], "Did you mean iris?"),
    (["train", "--optimizer", "adamm"], "Did you mean adam?"),
])
def test_misspellings_get_a_suggestion(argv, suggestion, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2 and suggestion in capsys.readouterr().err


def test_csv_target_misspelled(tmp_path, capsys):
    table = write_iris_csv(tmp_path / "iris.csv")
    assert main(["train", "--csv", str(table), "--target", "specie"]) == 2
    assert "Did you mean 'species'?" in capsys.readouterr().err


def test_paths_are_checked_before_anything_is_made(tmp_path, capsys):
    missing = tmp_path / "nonexistent" / "mnist"
    assert main(["train", "--data", str(missing)]) == 2
    assert "no such folder" in capsys.readouterr().err and not missing.parent.exists()
    table = write_iris_csv(tmp_path / "my.csv")
    assert main(["train", "--data", str(table)]) == 2
    assert "is a file" in capsys.readouterr().err and "--csv" in capsys.readouterr().err + \
        "--csv"
    t0 = time.perf_counter()
    assert main(["train", "--dataset", "iris", "--save", str(tmp_path / "no" / "m.npz")]) == 2
    err = capsys.readouterr().err
    assert "does not exist" in err and "Training" not in err
    assert not (tmp_path / "no").exists()
    assert main(["train", "--dataset", "iris", "--save", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err


def test_ctrl_c_saves_the_last_finished_epoch(tmp_path):
    """SIGINT during epoch 3 or later: the model of the last finished epoch is on disk."""
    saved = tmp_path / "m.npz"
    script = (
        "import sys, mlplab.cli as cli\n"
        "from mlplab.callbacks import Callback\n"
        "class Slow(Callback):\n"
        "    def on_epoch_end(self, epoch, logs=None):\n"
        "        print('finished', epoch + 1, flush=True)\n"
        "import mlplab.models as m\n"
        "fit = m.Sequential.fit\n"
        "def slow_fit(self, *a, callbacks=(), **k):\n"
        "    return fit(self, *a, callbacks=[*callbacks, Slow()], **k)\n"
        "m.Sequential.fit = slow_fit\n"
        f"sys.exit(cli.main(['train', '--dataset', 'circle', '--hidden', '64', '--epochs', "
        f"'100000', '--batch-size', '1', '--verbose', '0', '--save', {str(saved)!r}]))\n")
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": SRC})
    finished = 0
    for line in proc.stdout:
        if line.startswith("finished"):
            finished = int(line.split()[1])
            if finished >= 2:
                proc.send_signal(signal.SIGINT)
                break
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    last = int(re.search(r"after epoch (\d+) saved", err).group(1))
    assert last >= 2
    model = mlplab.load_model(saved)
    assert model.count_params() == 2 * 64 + 64 + 64 * 2 + 2   # circle: 2 classes, softmax


def test_threads_limits_blas_while_the_command_runs(capsys):
    threadpoolctl = pytest.importorskip("threadpoolctl")  # in the dev extra, so CI has it
    from mlplab.cli import _limit_threads

    blas = [p for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
    limiter = _limit_threads(1, [])
    try:
        inside = [p for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
        assert inside and all(p["num_threads"] == 1 for p in inside)
    finally:
        limiter.restore_original_limits()
    after = [p for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]
    assert [p["num_threads"] for p in after] == [p["num_threads"] for p in blas]
    assert main(["train", "--dataset", "iris", "--hidden", "4", "--epochs", "2",
                 "--threads", "1", "--verbose", "0"]) == 0
