"""Exact resume: training killed with SIGKILL at random moments, then run again, ends
bit-identical to the run never interrupted (weights, History, the best-model checkpoint),
and leaves no stray file.

The training script runs in a subprocess; the test waits until it has started fitting, kills
it (kill -9) after a random delay (seeded), runs the same script again until it completes
(sometimes killing that run too), and compares. To spare the import of NumPy and mlplab in
each of the ~45 runs, every run is a process forked from one "zygote" subprocess that
imported them once; each run is still a separate process, killed by SIGKILL. Writing the backups is slowed down a little
(a sleep inside the write, between the temporary file and its rename) so that many kills land
in the middle of a save. ``python -m pytest -q -s tests/test_resume.py`` prints the figures.
"""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import mlplab
from mlplab import ArgumentError
from mlplab.callbacks import BackupAndRestore, Callback, EarlyStopping, ReduceLROnPlateau
from mlplab.layers import Dense, Dropout, Input

SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src")
TRIALS = 20
EPOCHS = 12

ZYGOTE = r'''
import os, sys
import numpy as np
import mlplab, mlplab.callbacks, mlplab.layers
train = compile(open(sys.argv[1]).read(), sys.argv[1], "exec")
for line in sys.stdin:
    command, *args = line.split()
    if command == "run":  # a new process runs the training script with these arguments
        pid = os.fork()
        if pid == 0:
            sys.argv = [sys.argv[1], *args]
            try:
                exec(train, {"__name__": "__main__"})
            except BaseException:
                import traceback
                traceback.print_exc()
                os._exit(1)
            os._exit(0)
        print(pid, flush=True)
    elif command == "wait":
        _, status = os.waitpid(int(args[0]), 0)
        print(status, flush=True)
'''

SCRIPT = r'''
import json, os, sys, time
import numpy as np
import mlplab
from mlplab import saving
from mlplab.callbacks import BackupAndRestore, EarlyStopping, ModelCheckpoint, ReduceLROnPlateau
from mlplab.layers import Dense, Dropout, Input

folder, log_path = sys.argv[1], sys.argv[2]
log = open(log_path, "a", buffering=1)
real_savez, real_write = np.savez, saving.write_atomic

def slow_savez(f, **arrays):        # the file is written, then a pause before the rename
    real_savez(f, **arrays)
    f.flush()
    time.sleep(0.005)

def logged_write(path, write, what="save()"):
    log.write("save-begin\n")
    out = real_write(path, write, what)
    log.write("save-end\n")
    return out

np.savez, saving.write_atomic = slow_savez, logged_write
rng = np.random.default_rng(0)
x = rng.normal(size=(300, 10))
y = (x[:, :3] @ rng.normal(size=(3, 3))).argmax(axis=1)
model = mlplab.Sequential([Input((10,)), Dense(16, activation="tanh"), Dropout(0.25),
                           Dense(3, activation="softmax")], seed=0)
model.compile(mlplab.Adam(0.01), "sparse_categorical_crossentropy", metrics=["accuracy"])
log.write("fit-begin\n")
history = model.fit(x, y, batch_size=16, epochs=EPOCHS, validation_split=0.2, verbose=0,
                    callbacks=[EarlyStopping(patience=100, restore_best_weights=True),
                               ReduceLROnPlateau(patience=2, factor=0.5),
                               ModelCheckpoint(os.path.join(folder, "best.npz"),
                                               save_best_only=True),
                               BackupAndRestore(os.path.join(folder, "backup"))])
real_savez(os.path.join(folder, "result.npz"), *model.get_weights())
with open(os.path.join(folder, "history.json"), "w") as f:
    json.dump({"history": history.history, "epoch": history.epoch}, f)
log.write("done\n")
'''.replace("EPOCHS", str(EPOCHS))


class Zygote:
    """A subprocess that has imported mlplab and forks one process per run of the script."""

    def __init__(self, tmp_path, script):
        (tmp_path / "zygote.py").write_text(ZYGOTE)
        env = {**os.environ, "PYTHONPATH": SRC, "OPENBLAS_NUM_THREADS": "1",
               "OMP_NUM_THREADS": "1"}  # one thread: forking is safe, results deterministic
        self.proc = subprocess.Popen([sys.executable, str(tmp_path / "zygote.py"), str(script)],
                                     env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True)

    def _ask(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline())

    def start(self, folder, log):
        return self._ask(f"run {folder} {log}")

    def wait(self, pid):
        return self._ask(f"wait {pid}")

    def alive(self, pid):
        with open(f"/proc/{pid}/stat") as f:  # a zombie (exited, not reaped) is not alive
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def wait_for(log, word, zygote, pid, timeout=120):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if os.path.exists(log) and word in open(log).read():
            return True
        if not zygote.alive(pid):
            return False
        time.sleep(0.002)
    raise TimeoutError(f"the training script did not reach {word!r}")


def run_to_end(zygote, folder, log):
    assert zygote.wait(zygote.start(folder, log)) == 0, "the training script failed"


def result(folder):
    with np.load(folder / "result.npz") as f:
        weights = [f[k] for k in sorted(f.files, key=lambda k: int(k.split("_")[1]))]
    with np.load(folder / "best.npz") as f:
        best = [f[k] for k in sorted(f.files) if k.startswith("weight_")]
    return weights, json.loads((folder / "history.json").read_text()), best


def killed_during_save(log):
    events = [line for line in open(log).read().split() if line.startswith("save")]
    return bool(events) and events[-1] == "save-begin"


def test_twenty_kills_at_random_moments_resume_bit_identical(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    zygote = Zygote(tmp_path, script)
    ref = tmp_path / "reference"
    ref.mkdir()
    pid = zygote.start(ref, ref / "log")
    wait_for(ref / "log", "fit-begin", zygote, pid)
    t0 = time.monotonic()
    assert zygote.wait(pid) == 0
    fit_seconds = time.monotonic() - t0
    expected = result(ref)
    assert len(expected[1]["epoch"]) == EPOCHS

    delays = np.random.default_rng(16).uniform(0, fit_seconds, size=(TRIALS, 2))
    figures = {"trials": TRIALS, "kills": 0, "during save": 0, "during fit": 0, "identical": 0,
               "stray files": 0, "max temporaries after a kill": 0}
    for trial in range(TRIALS):
        folder = tmp_path / f"trial{trial}"
        folder.mkdir()
        kills = 2 if trial % 4 == 3 else 1  # every 4th trial: the resumed run is killed too
        for k in range(kills):
            log = folder / f"log{k}"
            pid = zygote.start(folder, log)
            if wait_for(log, "fit-begin", zygote, pid):
                time.sleep(delays[trial, k])
            os.kill(pid, signal.SIGKILL)
            zygote.wait(pid)
            figures["kills"] += 1
            in_save = killed_during_save(log)
            figures["during save"] += in_save
            figures["during fit"] += not in_save
            temporaries = [n for d in (folder, folder / "backup") if d.exists()
                           for n in os.listdir(d) if ".tmp-mlplab-" in n]
            figures["max temporaries after a kill"] = max(
                figures["max temporaries after a kill"], len(temporaries))
            assert len(temporaries) <= 1, temporaries  # at most the one being written
        for name in ("result.npz", "history.json"):  # a kill after the end: start over
            if (folder / name).exists():
                os.remove(folder / name)
        run_to_end(zygote, folder, folder / "log-final")
        weights, history, best = result(folder)
        same = all(np.array_equal(a, b) for a, b in zip(weights, expected[0])) and \
            history == expected[1] and all(np.array_equal(a, b) for a, b in zip(best,
                                                                                  expected[2]))
        figures["identical"] += same
        stray = sorted(set(os.listdir(folder)) - {"result.npz", "history.json", "best.npz",
                                                  "log-final", *(f"log{k}" for k in range(2))})
        figures["stray files"] += len(stray)
        assert same, f"trial {trial}: the resumed run differs from the uninterrupted one"
        assert not stray, f"trial {trial}: stray files {stray}"
    zygote.close()
    print(f"\nresume after kill -9: {figures}")
    assert figures["identical"] == TRIALS and figures["stray files"] == 0
    assert figures["during save"] >= 3 and figures["during fit"] >= 3  # both are exercised


# ------------------------------------------------------------------------------ in-process
def make_model(seed=0):
    model = mlplab.Sequential([Input((5,)), Dense(8, activation="tanh"), Dropout(0.3),
                               Dense(3, activation="softmax")], seed=seed)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class StopAt(Callback):
    """Interrupts fit (as Ctrl-C does) at the end of an epoch, before its backup."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


@pytest.fixture
def data():
    rng = np.random.default_rng(1)
    return rng.normal(size=(120, 5)), rng.integers(0, 3, 120)


def fit(model, data, backup, stop=99, patience=50, **kwargs):
    callbacks = [EarlyStopping(patience=patience, restore_best_weights=True),
                 ReduceLROnPlateau(patience=1, factor=0.5), StopAt(stop),
                 BackupAndRestore(backup, **kwargs)]
    return model.fit(*data, epochs=8, batch_size=16, validation_split=0.25, verbose=0,
                     callbacks=callbacks)


@pytest.mark.parametrize("patience", [50, 1])  # 1: EarlyStopping ends training early
def test_interrupted_at_every_epoch_resumes_exactly(tmp_path, data, patience):
    reference = make_model()
    expected = fit(reference, data, tmp_path / "ref", patience=patience)
    for stop in range(len(expected.epoch)):
        backup = tmp_path / f"b{stop}"
        with pytest.raises(KeyboardInterrupt):
            fit(make_model(), data, backup, stop=stop, patience=patience)
        assert (backup / "latest.npz").exists() == (stop > 0)
        model = make_model()
        history = fit(model, data, backup, patience=patience)
        assert history.history == expected.history and history.epoch == expected.epoch
        assert history.stop_reason == expected.stop_reason
        for a, b in zip(model.get_weights(), reference.get_weights()):
            np.testing.assert_array_equal(a, b)
        assert model.optimizer.iterations == reference.optimizer.iterations
        assert not backup.exists()  # delete_checkpoint=True removes it at the end


def test_double_checkpoint_falls_back_to_the_previous_backup(tmp_path, data):
    reference = make_model()
    expected = fit(reference, data, tmp_path / "ref")
    backup = tmp_path / "b"
    with pytest.raises(KeyboardInterrupt):
        fit(make_model(), data, backup, stop=4, double_checkpoint=True)
    assert (backup / "latest.npz.bkp").exists()
    (backup / "latest.npz").write_bytes(b"damaged")
    model = make_model()
    history = fit(model, data, backup, double_checkpoint=True)
    assert history.history == expected.history
    for a, b in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_keep_the_backup_with_delete_checkpoint_false(tmp_path, data):
    fit(make_model(), data, tmp_path / "b", delete_checkpoint=False)
    assert os.listdir(tmp_path / "b") == ["latest.npz"]
    # a completed backup: fitting again restores it and runs no further epoch
    model = make_model()
    history = fit(model, data, tmp_path / "b", delete_checkpoint=False)
    assert len(history.epoch) == 8 and model.optimizer.iterations == 8 * 6


def test_a_backup_of_another_model_or_fit_is_refused(tmp_path, data):
    backup = tmp_path / "b"
    with pytest.raises(KeyboardInterrupt):
        fit(make_model(), data, backup, stop=2)
    other = mlplab.Sequential([Input((5,)), Dense(4), Dense(3, activation="softmax")], seed=0)
    other.compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(mlplab.ModelFileError, match="written by another model"):
        other.fit(*data, epochs=3, verbose=0, callbacks=[BackupAndRestore(backup)])
    with pytest.raises(mlplab.ModelFileError, match="callbacks"):
        make_model().fit(*data, epochs=3, verbose=0, callbacks=[BackupAndRestore(backup)])


def test_arguments_are_checked():
    with pytest.raises(ArgumentError, match=r"save_freq must be 'epoch'; received 100.*"
                                            r"bit-identical"):
        BackupAndRestore("b", save_freq=100)
    with pytest.raises(mlplab.ArgumentTypeError, match="backup_dir must be a folder path"):
        BackupAndRestore(3)
    with pytest.raises(mlplab.ArgumentTypeError, match="delete_checkpoint must be True or"):
        BackupAndRestore("b", delete_checkpoint="yes")


def test_cli_train_resume_after_kill(tmp_path):
    """``mlplab train --resume``, killed mid-training and run again, saves the model the
    uninterrupted command saves."""
    env = {**os.environ, "PYTHONPATH": SRC, "OPENBLAS_NUM_THREADS": "1"}
    args = [sys.executable, "-m", "mlplab", "train", "--dataset", "iris", "--hidden", "8",
            "--epochs", "40", "--batch-size", "1", "--verbose", "2", "--resume", "--save"]
    subprocess.run(args + [str(tmp_path / "ref.npz")], env=env, check=True,
                   capture_output=True, timeout=300)
    proc = subprocess.Popen(args + [str(tmp_path / "m.npz")], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)
    for line in proc.stdout:
        if line.startswith("Epoch 15/"):
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (tmp_path / "m.npz.backup" / "latest.npz").exists()
    run = subprocess.run(args + [str(tmp_path / "m.npz")], env=env, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0 and "Resuming from the backup" in run.stdout, run.stderr
    assert "Epoch 1/40" not in run.stdout and "Epoch 40/40" in run.stdout
    a, b = mlplab.load_model(tmp_path / "ref.npz"), mlplab.load_model(tmp_path / "m.npz")
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    assert not (tmp_path / "m.npz.backup").exists()


def test_cli_backup_dir_needs_resume(tmp_path, capsys):
    from mlplab.cli import main

    assert main(["train", "--dataset", "iris", "--backup-dir", str(tmp_path / "b")]) == 2
    assert "--backup-dir is the folder of --resume's backup; add --resume" in \
        capsys.readouterr().err
