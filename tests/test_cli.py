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


def test_console_script_help():
    out = subprocess.run([sys.executable, "-m", "mlplab.cli", "train", "--help"],
                         capture_output=True, text=True, check=True).stdout
    assert "--learning-rate" in out and "--batch-size" in out
