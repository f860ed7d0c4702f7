"""CSV tables with mixed columns, the column transformer on them, and the animals table."""
import io

import numpy as np
import pytest
from sklearn import preprocessing as skp
from sklearn.compose import ColumnTransformer as SkColumnTransformer

from mlplab import preprocessing as pp
from mlplab.datasets import ANIMAL_CLASSES, load_animals, load_csv

CSV = """weight,fur,age,talks
4.5,short,3,no
30,long,7,no
0.4,none,12,yes
5.2,short,,no
"""


def test_load_csv_types(tmp_path):
    path = tmp_path / "pets.csv"
    path.write_text(CSV)
    table = load_csv(path)
    assert list(table) == ["weight", "fur", "age", "talks"]
    assert table["weight"].dtype == np.float64 and table["weight"].tolist() == [4.5, 30, 0.4, 5.2]
    assert table["fur"].dtype == object and table["fur"].tolist() == ["short", "long", "none",
                                                                      "short"]
    assert np.isnan(table["age"][3])  # an empty numeric cell is NaN ...
    with pytest.raises(ValueError, match=r"x contains NaN \(first at index \(3, 0\)\)"):
        pp.StandardScaler().fit(table["age"].reshape(-1, 1))  # ... which the scalers reject


def test_column_transformer_on_a_table_agrees_with_sklearn():
    table = load_csv(io.StringIO(CSV))
    del table["age"]
    ct = pp.ColumnTransformer([("num", pp.StandardScaler(), "numeric"),
                               ("cat", pp.OneHotEncoder(handle_unknown="ignore"), "categorical")])
    z = ct.fit_transform(table)
    x = np.column_stack([table[k].astype(object) for k in ("weight", "fur", "talks")])
    sk = SkColumnTransformer([("num", skp.StandardScaler(), [0]),
                              ("cat", skp.OneHotEncoder(handle_unknown="ignore",
                                                        sparse_output=False), [1, 2])])
    np.testing.assert_allclose(z, sk.fit_transform(x), rtol=0, atol=1e-12)
    assert ct.get_feature_names_out() == ["weight", "fur_long", "fur_none", "fur_short",
                                          "talks_no", "talks_yes"]
    # new data is coded with what was learned from the first table
    new = {"weight": np.array([10.0]), "fur": np.array(["scales"], dtype=object),
           "talks": np.array(["yes"], dtype=object)}
    x_new = np.array([[10.0, "scales", "yes"]], dtype=object)
    np.testing.assert_allclose(ct.transform(new), sk.transform(x_new), rtol=0, atol=1e-12)


def test_remainder_passthrough():
    table = {"a": np.array([1.0, 2.0]), "b": np.array([5.0, 7.0]),
             "c": np.array(["x", "y"], dtype=object)}
    ct = pp.ColumnTransformer([("c", pp.OneHotEncoder(), ["c"])], remainder="passthrough")
    np.testing.assert_array_equal(ct.fit_transform(table), [[1, 0, 1, 5], [0, 1, 2, 7]])
    assert ct.get_feature_names_out() == ["c_x", "c_y", "a", "b"]


def test_selector_that_picks_nothing():
    table = {"a": np.array([1.0, 3.0])}
    ct = pp.ColumnTransformer([("num", pp.MinMaxScaler(), "numeric"),
                               ("cat", pp.OneHotEncoder(), "categorical")])
    np.testing.assert_array_equal(ct.fit_transform(table), [[0], [1]])
    assert ct.get_feature_names_out() == ["a"]
    with pytest.raises(ValueError, match=r"no transformer picked any of the columns \['a'\]"):
        pp.ColumnTransformer([("cat", pp.OneHotEncoder(), "categorical")]).fit(table)


def test_animals_table_is_the_lectures_coding():
    table, y = load_animals()
    assert list(table) == ["size", "fur", "talks"] and len(y) == 8
    assert set(y) == set(ANIMAL_CLASSES)
    X, D = load_animals(encoded=True)
    # Lecture 003, "Motivating Example": the first four rows, coded
    np.testing.assert_array_equal(X[:4], [[-1, 0, -1], [1, 1, -1], [-1, -1, 1], [0, 0, -1]])
    np.testing.assert_array_equal(D[:4], [[1, -1, -1, -1], [-1, 1, -1, -1], [-1, -1, 1, -1],
                                          [1, -1, -1, -1]])
    assert np.all(D.sum(axis=1) == -2)  # exactly one +1 per row



def test_animals_column_transformer_remembers_its_fit():
    # the snippet of docs/data.md: one ordinal code per feature, in the lectures' order
    from importlib import resources

    from mlplab.datasets import ANIMAL_ORDERS

    features = pp.ColumnTransformer([(c, pp.OrdinalEncoder([list(o)], feature_range=(-1, 1)),
                                      [c]) for c, o in ANIMAL_ORDERS.items()])
    path = resources.files("mlplab.datasets").joinpath("data/animals.csv")
    table = load_csv(str(path))
    y = table.pop("class")
    assert y.tolist() == load_animals()[1].tolist()
    X, _ = load_animals(encoded=True)
    np.testing.assert_array_equal(features.fit_transform(table), X)
    # new animals are coded with the fitted orders, also when the table has other columns
    new = {"talks": np.array(["yes", "no"], dtype=object), "name": np.array(["Polly", "Rex"]),
           "size": np.array(["large", "medium"], dtype=object),
           "fur": np.array(["none", "long"], dtype=object)}
    np.testing.assert_array_equal(features.transform(new), [[1, -1, 1], [0, 1, -1]])
    with pytest.raises(ValueError, match=r"transformer 'size' \(columns \['size'\]\): "
                                         r"OrdinalEncoder\.transform\(\): column 0 has categories "
                                         r"not seen in fit\(\): \['huge'\] \(known: \['small', "
                                         r"'medium', 'large'\]\)"):
        features.transform({**new, "size": np.array(["huge", "small"], dtype=object)})
    # one-hot on the first six rows; the last two are coded as learned from those six
    onehot = pp.ColumnTransformer([("cat", pp.OneHotEncoder(bipolar=True), "categorical")])
    part = {k: v[:6] for k, v in table.items()}
    onehot.fit(part)
    rest = {k: v[6:] for k, v in table.items()}
    z = onehot.transform(rest)
    names = onehot.get_feature_names_out()
    assert names == ["size_large", "size_medium", "size_small", "fur_long", "fur_none",
                     "fur_short", "talks_no", "talks_yes"]
    for row, animal in zip(z, zip(*rest.values())):
        on = {n for n, v in zip(names, row) if v == 1}
        assert on == {f"{k}_{v}" for k, v in zip(rest, animal)} and set(row) == {-1, 1}


def test_column_transformer_shape_errors():
    ct = pp.ColumnTransformer([("s", pp.StandardScaler(), [0])])
    with pytest.raises(ValueError, match=r"x must be 2-D \(n_samples, n_columns\) or a dict of "
                                         r"columns; received shape \(3,\)"):
        ct.fit([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"a dict x must map names to 1-D columns of one length; "
                                         r"received lengths \{'a': \(2,\), 'b': \(3,\)\}"):
        ct.fit({"a": [1.0, 2.0], "b": [1.0, 2.0, 3.0]})
    ct.fit(np.array([[1.0, 5.0], [3.0, 6.0]]))
    with pytest.raises(ValueError, match=r"StandardScaler\.transform\(\): x contains NaN"):
        ct.transform(np.array([[np.nan, 1.0]]))
    with pytest.raises(ValueError, match=r"x lacks the columns \[0\] seen in fit\(\)"):
        ct.transform(np.zeros((2, 0)))

def test_animals_single_layer_tanh_net_fits_the_table():
    import mlplab
    from mlplab.layers import Dense

    X, D = load_animals(encoded=True)
    model = mlplab.Sequential([Dense(4, activation="tanh")], seed=0)
    model.compile(optimizer=mlplab.SGD(learning_rate=0.1), loss="mse")
    model.fit(X, D, epochs=300, batch_size=1, verbose=0)
    assert np.array_equal(model.predict(X).argmax(axis=1), D.argmax(axis=1))


def test_csv_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"load_csv\(\): no file .*missing\.csv"):
        load_csv(tmp_path / "missing.csv")
    with pytest.raises(ValueError, match=r"line 3 of the CSV has 1 cells; the header has 2 "
                                         r"\(a, b\)"):
        load_csv(io.StringIO("a,b\n1,2\n3\n"))
    with pytest.raises(ValueError, match=r"must name each column once; received \['a', 'a'\]"):
        load_csv(io.StringIO("a,a\n1,2\n"))
    with pytest.raises(ValueError, match=r"the CSV is empty"):
        load_csv(io.StringIO(""))
    table = load_csv(io.StringIO("fur,w\nlong,1\n\n,2\n"))  # an empty categorical cell -> None
    assert table["fur"].tolist() == ["long", None]
    with pytest.raises(ValueError, match=r"line 4 of the CSV has 1 cells"):
        load_csv(io.StringIO("a,b\n1,2\n\n3\n"))  # line numbers count blank lines
    with pytest.raises(ValueError, match=r"missing value \(None or NaN\) at row 1, column 0"):
        pp.OneHotEncoder().fit(table["fur"].reshape(-1, 1))
