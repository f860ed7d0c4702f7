"""Scalers, encoders, splits and batches: agreement with scikit-learn, round trips, errors."""
import numpy as np
import pytest
from sklearn import model_selection as skms
from sklearn import preprocessing as skp
from sklearn.compose import ColumnTransformer as SkColumnTransformer

from mlplab import NotFittedError
from mlplab import preprocessing as pp

ATOL = 1e-12


def random_data(rng, n=200):
    """Columns on very different scales, one constant column, one with negatives only."""
    x = rng.normal(size=(n, 5)) * [1.0, 100.0, 1e-3, 0.0, 5.0] + [0.0, 50.0, 0.0, 7.0, -20.0]
    return x


# ---------------------------------------------------------------------------------- scalers
@pytest.mark.parametrize("ours, theirs", [
    (pp.StandardScaler(), skp.StandardScaler()),
    (pp.StandardScaler(with_mean=False), skp.StandardScaler(with_mean=False)),
    (pp.StandardScaler(with_std=False), skp.StandardScaler(with_std=False)),
    (pp.MinMaxScaler(), skp.MinMaxScaler()),
    (pp.MinMaxScaler((-1, 1)), skp.MinMaxScaler((-1, 1))),
    (pp.MaxAbsScaler(), skp.MaxAbsScaler()),
])
def test_scalers_agree_with_sklearn(rng, ours, theirs):
    x, x_new = random_data(rng), random_data(rng, 50)
    z = ours.fit_transform(x)
    np.testing.assert_allclose(z, theirs.fit_transform(x), rtol=0, atol=ATOL)
    np.testing.assert_allclose(ours.transform(x_new), theirs.transform(x_new), rtol=0, atol=ATOL)
    np.testing.assert_allclose(ours.inverse_transform(z), theirs.inverse_transform(z),
                               rtol=0, atol=ATOL)
    np.testing.assert_allclose(ours.inverse_transform(z), x, rtol=1e-12, atol=ATOL)
    assert np.all(np.isfinite(z)), "constant column must not divide by zero"


def test_scaler_attributes_match_sklearn(rng):
    x = random_data(rng)
    ours, theirs = pp.StandardScaler().fit(x), skp.StandardScaler().fit(x)
    np.testing.assert_allclose(ours.mean_, theirs.mean_, rtol=1e-14, atol=0)
    np.testing.assert_allclose(ours.scale_, theirs.scale_, rtol=1e-12, atol=0)
    ours, theirs = pp.MinMaxScaler((-1, 1)).fit(x), skp.MinMaxScaler((-1, 1)).fit(x)
    for name in ("data_min_", "data_max_", "data_range_", "scale_", "min_"):
        np.testing.assert_allclose(getattr(ours, name), getattr(theirs, name), rtol=0, atol=ATOL)


def test_constant_columns(rng):
    x = np.full((10, 2), 3.0)
    assert np.array_equal(pp.StandardScaler().fit_transform(x), np.zeros((10, 2)))
    assert np.array_equal(pp.MinMaxScaler((-1, 1)).fit_transform(x), np.full((10, 2), -1.0))
    assert np.array_equal(pp.MeanNormalizer().fit_transform(x), np.zeros((10, 2)))
    assert np.array_equal(pp.MaxAbsScaler().fit_transform(x), np.ones((10, 2)))
    assert np.array_equal(pp.MaxAbsScaler().fit_transform(np.zeros((3, 1))), np.zeros((3, 1)))



@pytest.mark.parametrize("ours, theirs", [
    (pp.StandardScaler(), skp.StandardScaler()),
    (pp.MinMaxScaler((-1, 1)), skp.MinMaxScaler((-1, 1))),
    (pp.MaxAbsScaler(), skp.MaxAbsScaler()),
])
def test_nearly_constant_columns_like_sklearn(rng, ours, theirs):
    # the mean of 37 copies of 0.1 is not exactly 0.1: a variance of ~1e-33, not zero
    x = np.column_stack([np.full(37, 0.1), np.full(37, 1e5 / 3), np.full(37, -7.3),
                         np.zeros(37), rng.normal(size=37)])
    assert x[:, 0].var() > 0
    z = ours.fit_transform(x)
    np.testing.assert_allclose(z, theirs.fit_transform(x), rtol=0, atol=ATOL)
    assert np.abs(z[:, :4]).max() <= 1 and np.all(np.isfinite(z))
    np.testing.assert_allclose(ours.inverse_transform(z), x, rtol=1e-12, atol=ATOL)
    assert np.abs(pp.MeanNormalizer().fit_transform(x)[:, :4]).max() < 1e-12

def test_mean_normalizer_is_centering_over_range(rng):
    x, x_new = random_data(rng), random_data(rng, 30)
    ours = pp.MeanNormalizer().fit(x)
    centred = skp.StandardScaler(with_std=False).fit(x)
    span = skp.MinMaxScaler().fit(x).data_range_
    span = np.where(span == 0, 1.0, span)
    np.testing.assert_allclose(ours.transform(x_new), centred.transform(x_new) / span,
                               rtol=0, atol=ATOL)
    z = ours.transform(x)
    assert z.min() >= -1 and z.max() <= 1
    np.testing.assert_allclose(ours.inverse_transform(z), x, rtol=1e-12, atol=ATOL)


@pytest.mark.parametrize("cls", [pp.StandardScaler, pp.MinMaxScaler, pp.MeanNormalizer,
                                 pp.MaxAbsScaler])
def test_scaler_errors(cls):
    x = np.array([[1.0, 2.0], [3.0, np.nan]])
    with pytest.raises(ValueError, match=r"fit\(\): x contains NaN \(first at index \(1, 1\)\)"):
        cls().fit(x)
    with pytest.raises(ValueError, match=r"x must be 2-D .* received shape \(3,\)\. "
                                          r"Use x\.reshape\(-1, 1\)"):
        cls().fit([1.0, 2.0, 3.0])
    with pytest.raises(NotFittedError, match=r"transform\(\) called before fit\(\)\. Call "
                                           rf"{cls.__name__}\.fit\(x_train\) first"):
        cls().transform([[1.0]])
    fitted = cls().fit([[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(ValueError, match=r"x has 3 features; .* was fitted on 2"):
        fitted.transform([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match=r"contains infinity"):
        fitted.transform([[1.0, np.inf]])
    with pytest.raises(TypeError, match=r"x must be numeric; received dtype <U1"):
        fitted.transform([["a", "b"]])
    with pytest.raises(ValueError, match=r"x is empty"):
        cls().fit(np.zeros((0, 2)))


def test_min_max_range_error():
    with pytest.raises(ValueError, match=r"feature_range must be a pair \(min, max\) with "
                                         r"min < max.*received \(1, 0\)"):
        pp.MinMaxScaler((1, 0))


# ---------------------------------------------------------------------------------- encoders
COLORS = np.array([["red", "s"], ["blue", "m"], ["green", "l"], ["blue", "s"], ["red", "l"]],
                  dtype=object)


def random_categories(rng, n=300):
    return np.column_stack([rng.choice(["cat", "dog", "parrot", "carp"], n),
                            rng.choice(["small", "medium", "large"], n),
                            rng.integers(0, 5, n).astype(str)]).astype(object)


def test_one_hot_agrees_with_sklearn(rng):
    x, x_new = random_categories(rng), random_categories(rng, 40)
    ours = pp.OneHotEncoder().fit(x)
    theirs = skp.OneHotEncoder(sparse_output=False).fit(x)
    for a, b in zip(ours.categories_, theirs.categories_):
        assert a.tolist() == b.tolist()
    z = ours.transform(x_new)
    np.testing.assert_array_equal(z, theirs.transform(x_new))
    np.testing.assert_array_equal(ours.inverse_transform(z), theirs.inverse_transform(z))
    np.testing.assert_array_equal(ours.inverse_transform(z), x_new)
    assert ours.get_feature_names_out(["a", "b", "c"]) == \
        theirs.get_feature_names_out(["a", "b", "c"]).tolist()


def test_one_hot_numeric_and_given_categories(rng):
    x = rng.integers(0, 4, (50, 2))
    cats = [[0, 1, 2, 3], [0, 1, 2, 3, 4]]
    ours = pp.OneHotEncoder(categories=cats).fit(x)
    theirs = skp.OneHotEncoder(categories=cats, sparse_output=False).fit(x)
    np.testing.assert_array_equal(ours.transform(x), theirs.transform(x))
    np.testing.assert_array_equal(ours.inverse_transform(ours.transform(x)), x)
    # a given order is kept (sklearn allows only sorted numeric categories)
    rev = pp.OneHotEncoder(categories=[[3, 2, 1, 0]]).fit(x[:, :1])
    np.testing.assert_array_equal(rev.transform(x[:, :1]), theirs.transform(x)[:, 3::-1])


def test_bipolar_one_hot_is_the_lecture_code():
    # Lecture 003: Red -> [1, -1, -1], Blue -> [-1, 1, -1], Green -> [-1, -1, 1]
    enc = pp.OneHotEncoder(categories=[["red", "blue", "green"]], bipolar=True)
    z = enc.fit_transform([["red"], ["blue"], ["green"]])
    np.testing.assert_array_equal(z, [[1, -1, -1], [-1, 1, -1], [-1, -1, 1]])
    np.testing.assert_array_equal(2 * pp.OneHotEncoder().fit_transform(COLORS) - 1,
                                  pp.OneHotEncoder(bipolar=True).fit_transform(COLORS))
    assert enc.inverse_transform(z).ravel().tolist() == ["red", "blue", "green"]
    # network outputs (not exact codes) decode by the largest entry per block
    assert enc.inverse_transform([[0.2, 0.9, -0.4]]).ravel().tolist() == ["blue"]


@pytest.mark.parametrize("bipolar", [False, True])
def test_one_hot_unknown_ignored_like_sklearn(bipolar):
    ours = pp.OneHotEncoder(handle_unknown="ignore", bipolar=bipolar).fit(COLORS)
    theirs = skp.OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(COLORS)
    new = np.array([["red", "xl"], ["pink", "m"]], dtype=object)
    z = ours.transform(new)
    expected = theirs.transform(new)
    np.testing.assert_array_equal(z, 2 * expected - 1 if bipolar else expected)
    np.testing.assert_array_equal(ours.inverse_transform(z), theirs.inverse_transform(expected))


def test_one_hot_errors():
    enc = pp.OneHotEncoder().fit(COLORS)
    with pytest.raises(ValueError, match=r"column 0 has categories not seen in fit\(\): "
                                         r"\['pink'\].*handle_unknown='ignore'"):
        enc.transform([["pink", "s"]])
    with pytest.raises(ValueError, match=r"x must be 2-D .* Use x\.reshape\(-1, 1\)"):
        pp.OneHotEncoder().fit(["a", "b"])
    with pytest.raises(ValueError, match=r"missing value \(None or NaN\) at row 1, column 0"):
        pp.OneHotEncoder().fit(np.array([["a"], [None]], dtype=object))
    with pytest.raises(ValueError, match=r"missing value .* at row 0, column 1"):
        pp.OneHotEncoder().fit([[1.0, np.nan]])
    with pytest.raises(ValueError, match=r"x has 1 features; OneHotEncoder was fitted on 2"):
        enc.transform([["red"]])
    with pytest.raises(ValueError, match=r"z has 5 columns; the encoder produces 6 \(3 \+ 3\)"):
        enc.inverse_transform(np.zeros((1, 5)))
    with pytest.raises(ValueError, match=r"handle_unknown must be 'error' or 'ignore'; "
                                         r"received 'skip'"):
        pp.OneHotEncoder(handle_unknown="skip")
    with pytest.raises(ValueError, match=r"column 0 holds \['pink'\], which categories\[0\]"):
        pp.OneHotEncoder(categories=[["red"]]).fit([["pink"]])
    with pytest.raises(ValueError, match=r"categories has 1 lists but x has 2 columns"):
        pp.OneHotEncoder(categories=[["red"]]).fit(COLORS)
    with pytest.raises(TypeError, match=r"column 0 mixes value types \(int, str\)"):
        pp.OneHotEncoder().fit(np.array([[1], ["a"]], dtype=object))


def test_ordinal_agrees_with_sklearn(rng):
    x = random_categories(rng)
    order = [["carp", "parrot", "cat", "dog"], ["small", "medium", "large"],
             ["0", "1", "2", "3", "4"]]
    for cats in ("auto", order):
        ours, theirs = pp.OrdinalEncoder(cats).fit(x), skp.OrdinalEncoder(categories=cats).fit(x)
        z = ours.transform(x)
        np.testing.assert_array_equal(z, theirs.transform(x))
        np.testing.assert_array_equal(ours.inverse_transform(z), theirs.inverse_transform(z))
        np.testing.assert_array_equal(ours.inverse_transform(z), x)


def test_ordinal_range_is_min_max_of_the_codes(rng):
    x = random_categories(rng)
    order = [["carp", "parrot", "cat", "dog"], ["small", "medium", "large"],
             ["0", "1", "2", "3", "4"]]
    ours = pp.OrdinalEncoder(order, feature_range=(-1, 1))
    codes = skp.OrdinalEncoder(categories=order).fit_transform(x)
    np.testing.assert_allclose(ours.fit_transform(x),
                               skp.MinMaxScaler((-1, 1)).fit_transform(codes), rtol=0, atol=ATOL)
    np.testing.assert_array_equal(ours.inverse_transform(ours.transform(x)), x)
    # the lectures' size column: small -1, medium 0, large 1
    size = pp.OrdinalEncoder([["small", "medium", "large"]], feature_range=(-1, 1))
    assert size.fit_transform([["small"], ["medium"], ["large"]]).ravel().tolist() == [-1, 0, 1]


def test_ordinal_unknown_value_like_sklearn():
    kw = dict(handle_unknown="use_encoded_value", unknown_value=-1)
    ours, theirs = pp.OrdinalEncoder(**kw).fit(COLORS), skp.OrdinalEncoder(**kw).fit(COLORS)
    new = np.array([["pink", "m"], ["red", "xs"]], dtype=object)
    z = ours.transform(new)
    np.testing.assert_array_equal(z, theirs.transform(new))
    np.testing.assert_array_equal(ours.inverse_transform(z), theirs.inverse_transform(z))


def test_ordinal_errors():
    enc = pp.OrdinalEncoder([["low", "high"]]).fit([["low"], ["high"]])
    with pytest.raises(ValueError, match=r"categories not seen in fit\(\): \['mid'\].*"
                                         r"handle_unknown='use_encoded_value'"):
        enc.transform([["mid"]])
    with pytest.raises(ValueError, match=r"z\[0, 0\] = 5\.0 is not a code of column 0"):
        enc.inverse_transform([[5]])
    with pytest.raises(ValueError, match=r"categories\[0\] lists a value twice"):
        pp.OrdinalEncoder([["a", "a"]]).fit([["a"]])
    with pytest.raises(ValueError, match=r"needs a number as unknown_value"):
        pp.OrdinalEncoder(handle_unknown="use_encoded_value")


def test_label_encoder_agrees_with_sklearn(rng):
    y = rng.choice(["parrot", "cat", "dog", "carp"], 100)
    ours, theirs = pp.LabelEncoder().fit(y), skp.LabelEncoder().fit(y)
    assert ours.classes_.tolist() == theirs.classes_.tolist()
    codes = ours.transform(y)
    np.testing.assert_array_equal(codes, theirs.transform(y))
    np.testing.assert_array_equal(ours.inverse_transform(codes), y)
    with pytest.raises(ValueError, match=r"labels not seen in fit\(\): \['fish'\]"):
        ours.transform(["cat", "fish"])
    with pytest.raises(ValueError, match=r"z must hold integer codes in \[0, 3\]"):
        ours.inverse_transform([4])
    with pytest.raises(ValueError, match=r"y must be 1-D .* from_categorical"):
        ours.fit(np.zeros((3, 2)))


def test_to_categorical_and_back(rng):
    y = rng.integers(0, 5, 50)
    Y = pp.to_categorical(y)
    np.testing.assert_array_equal(Y, skp.OneHotEncoder(sparse_output=False).fit_transform(
        y.reshape(-1, 1)))
    np.testing.assert_array_equal(pp.from_categorical(Y), y)
    Yb = pp.to_categorical(y, 6, bipolar=True)
    np.testing.assert_array_equal(Yb, 2 * pp.to_categorical(y, 6) - 1)
    np.testing.assert_array_equal(pp.from_categorical(Yb), y)
    with pytest.raises(ValueError, match=r"label 4 does not fit num_classes=3"):
        pp.to_categorical([4], 3)
    with pytest.raises(ValueError, match=r"Y must be 2-D"):
        pp.from_categorical([1, 2])



def test_encoder_bad_input_names_the_argument_and_value():
    with pytest.raises(ValueError, match=r"to_categorical\(\): y must hold non-negative integer "
                                         r"labels; y\[1\] = 1\.5"):
        pp.to_categorical([0, 1.5])
    with pytest.raises(ValueError, match=r"y\[0\] = -1"):
        pp.to_categorical([-1, 0])
    with pytest.raises(ValueError, match=r"to_categorical\(\): y contains NaN \(first at index "
                                         r"\(1,\)\)"):
        pp.to_categorical([0.0, np.nan])
    with pytest.raises(ValueError, match=r"y must be 1-D integer labels; received shape \(2, 3\)"):
        pp.to_categorical(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"num_classes must be a positive integer; received 0"):
        pp.to_categorical([0, 1], 0)
    with pytest.raises(ValueError, match=r"y is empty; pass num_classes"):
        pp.to_categorical([])
    assert pp.to_categorical(np.array([], dtype=int), 3).shape == (0, 3)
    enc = pp.LabelEncoder().fit(["cat", "dog"])
    with pytest.raises(ValueError, match=r"LabelEncoder\.fit\(\): y has a missing value "
                                         r"\(None or NaN\) at index 1"):
        pp.LabelEncoder().fit(np.array(["cat", None], dtype=object))
    with pytest.raises(ValueError, match=r"z must hold integer codes in \[0, 1\]; z\[1\] = 2"):
        enc.inverse_transform([0, 2])
    with pytest.raises(ValueError, match=r"z must hold integer codes in \[0, 1\]; received dtype "
                                         r"float64"):
        enc.inverse_transform([0.0, 1.0])
    ordinal = pp.OrdinalEncoder().fit([["a", "x"], ["b", "y"]])
    with pytest.raises(ValueError, match=r"z must have shape \(n_samples, 2\); received \(3,\)"):
        ordinal.inverse_transform([0, 1, 0])
    with pytest.raises(ValueError, match=r"OrdinalEncoder\.fit\(\): x has a missing value "
                                         r"\(None or NaN\) at row 0, column 1"):
        pp.OrdinalEncoder().fit([[0.0, np.nan]])
    with pytest.raises(ValueError, match=r"OrdinalEncoder\.transform\(\): column 1 has categories "
                                         r"not seen in fit\(\): \['z'\] \(known: \['x', 'y'\]\)"):
        ordinal.transform([["a", "z"]])

# ---------------------------------------------------------------------------------- columns
def test_column_transformer_agrees_with_sklearn(rng):
    n = 60
    x = np.empty((n, 4), dtype=object)
    x[:, 0] = rng.normal(size=n) * 10
    x[:, 1] = rng.choice(["none", "short", "long"], n)
    x[:, 2] = rng.uniform(0, 1, n)
    x[:, 3] = rng.choice(["no", "yes"], n)
    ours = pp.ColumnTransformer([("num", pp.StandardScaler(), [0, 2]),
                                 ("cat", pp.OneHotEncoder(), [1, 3])])
    theirs = SkColumnTransformer([("num", skp.StandardScaler(), [0, 2]),
                                  ("cat", skp.OneHotEncoder(sparse_output=False), [1, 3])])
    np.testing.assert_allclose(ours.fit_transform(x[:40]), theirs.fit_transform(x[:40]),
                               rtol=0, atol=ATOL)
    np.testing.assert_allclose(ours.transform(x[40:]), theirs.transform(x[40:]), rtol=0,
                               atol=ATOL)
    # "numeric" / "categorical" pick the same columns
    auto = pp.ColumnTransformer([("num", pp.StandardScaler(), "numeric"),
                                 ("cat", pp.OneHotEncoder(), "categorical")])
    np.testing.assert_allclose(auto.fit_transform(x[:40]), theirs.transform(x[:40]),
                               rtol=0, atol=ATOL)


def test_column_transformer_errors():
    table = {"w": np.array([1.0, 2.0]), "fur": np.array(["long", "none"])}
    ct = pp.ColumnTransformer([("cat", pp.OneHotEncoder(), ["fur"])]).fit(table)
    with pytest.raises(ValueError, match=r"x lacks the columns \['fur'\] seen in fit\(\)"):
        ct.transform({"w": np.array([1.0])})
    with pytest.raises(ValueError, match=r"columns \['fu'\] not found; x has \['w', 'fur'\]"):
        pp.ColumnTransformer([("cat", pp.OneHotEncoder(), ["fu"])]).fit(table)
    with pytest.raises(ValueError, match=r"each transformer must be a tuple"):
        pp.ColumnTransformer([pp.OneHotEncoder()])
    with pytest.raises(NotFittedError, match=r"ColumnTransformer\.transform\(\) called before"):
        pp.ColumnTransformer([("c", pp.OneHotEncoder(), [0])]).transform([[1]])


# ---------------------------------------------------------------------------------- splits
@pytest.mark.parametrize("n, test_size, train_size", [
    (100, None, None), (101, 0.25, None), (97, 0.33, None), (50, None, 0.7), (50, 0.2, 0.5),
    (10, 3, None), (10, None, 4), (7, 0.5, None),
])
def test_split_sizes_match_sklearn(n, test_size, train_size):
    x = np.arange(n)
    ours = pp.train_test_split(x, test_size=test_size, train_size=train_size, seed=0)
    theirs = skms.train_test_split(x, test_size=test_size, train_size=train_size,
                                   random_state=0)
    assert [len(a) for a in ours] == [len(a) for a in theirs]
    assert len(np.intersect1d(*ours)) == 0


def test_unshuffled_split_is_sklearns():
    x, y = np.arange(20).reshape(10, 2), np.arange(10)
    ours = pp.train_test_split(x, y, test_size=0.3, shuffle=False)
    theirs = skms.train_test_split(x, y, test_size=0.3, shuffle=False)
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("counts, test_size", [
    ([53, 31, 16], 0.3), ([50, 30, 20], 0.25), ([120, 40, 25, 15], 0.2), ([7, 5], 0.5),
    ([500, 300, 137, 63], 0.15),
])
def test_stratified_proportions_match_sklearn(rng, counts, test_size):
    y = rng.permutation(np.repeat(np.arange(len(counts)), counts))
    x = rng.normal(size=(len(y), 3))
    x_tr, x_te, y_tr, y_te = pp.train_test_split(x, y, test_size=test_size, stratify=y, seed=1)
    sk = skms.train_test_split(x, y, test_size=test_size, stratify=y, random_state=1)
    k = len(counts)
    ours_counts = np.bincount(y_tr, minlength=k), np.bincount(y_te, minlength=k)
    sk_counts = np.bincount(sk[2], minlength=k), np.bincount(sk[3], minlength=k)
    # Remainder ties are broken at random (in both), so a class may differ by one sample.
    for a, b in zip(ours_counts, sk_counts):
        assert np.abs(a - b).max() <= 1 and a.sum() == b.sum()
    # rows stay paired with their labels, and every row is used at most once
    rows = {tuple(r): label for r, label in zip(x, y)}
    assert all(rows[tuple(r)] == label for r, label in zip(x_tr, y_tr))
    assert len({tuple(r) for r in np.vstack([x_tr, x_te])}) == len(x_tr) + len(x_te)


def test_stratified_without_ties_is_exactly_sklearns(rng):
    # 53/31/16 with test 30: remainders .9/.3/.8 and .1/.7/.2, no ties -> deterministic counts
    y = np.repeat([0, 1, 2], [53, 31, 16])
    _, _, y_tr, y_te = pp.train_test_split(y, y, test_size=0.3, stratify=y, seed=5)
    _, _, sy_tr, sy_te = skms.train_test_split(y, y, test_size=0.3, stratify=y, random_state=5)
    assert np.bincount(y_tr).tolist() == np.bincount(sy_tr).tolist() == [37, 22, 11]
    assert np.bincount(y_te).tolist() == np.bincount(sy_te).tolist() == [16, 9, 5]


def test_split_is_seeded(rng):
    x = rng.normal(size=(30, 2))
    a = pp.train_test_split(x, seed=3)
    b = pp.train_test_split(x, seed=3)
    c = pp.train_test_split(x, seed=4)
    assert all(np.array_equal(u, v) for u, v in zip(a, b))
    assert not np.array_equal(a[0], c[0])


def test_train_val_test_split(rng):
    y = rng.permutation(np.repeat([0, 1, 2], [60, 30, 10]))
    x = np.arange(100)
    x_tr, x_va, x_te, y_tr, y_va, y_te = pp.train_val_test_split(
        x, y, val_size=0.2, test_size=0.1, stratify=y, seed=0)
    assert (len(x_tr), len(x_va), len(x_te)) == (70, 20, 10)
    assert np.bincount(y_va).tolist() == [12, 6, 2] and np.bincount(y_te).tolist() == [6, 3, 1]
    assert sorted(np.concatenate([x_tr, x_va, x_te]).tolist()) == list(range(100))
    np.testing.assert_array_equal(y[x_tr], y_tr)
    sizes = [len(p) for p in pp.train_val_test_split(np.arange(10), val_size=3, test_size=2)]
    assert sizes == [5, 3, 2]



@pytest.mark.parametrize("counts, val_size, test_size", [
    ([60, 30, 10], 0.2, 0.1), ([53, 31, 16], 0.15, 0.15), ([120, 40, 25, 15], 0.1, 0.25),
])
def test_three_way_stratified_is_two_sklearn_splits(rng, counts, val_size, test_size):
    # drawn as sklearn would: test first (of the whole set), then validation from the rest
    y = rng.permutation(np.repeat(np.arange(len(counts)), counts))
    x = np.arange(len(y))
    n = len(y)
    parts = pp.train_val_test_split(x, y, val_size=val_size, test_size=test_size,
                                    stratify=y, seed=3)
    x_rest, sx_te, y_rest, sy_te = skms.train_test_split(
        x, y, test_size=int(np.ceil(test_size * n)), stratify=y, random_state=3)
    sx_tr, sx_va, sy_tr, sy_va = skms.train_test_split(
        x_rest, y_rest, test_size=int(np.ceil(val_size * n)), stratify=y_rest, random_state=3)
    k = len(counts)
    for ours, theirs in zip(parts[3:], (sy_tr, sy_va, sy_te)):
        a, b = np.bincount(ours, minlength=k), np.bincount(theirs, minlength=k)
        assert a.sum() == b.sum() and np.abs(a - b).max() <= 1  # ties are broken at random
    assert sorted(np.concatenate(parts[:3]).tolist()) == list(range(n))
    for xs, ys in zip(parts[:3], parts[3:]):
        np.testing.assert_array_equal(y[xs], ys)
    again = pp.train_val_test_split(x, y, val_size=val_size, test_size=test_size,
                                    stratify=y, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(parts, again))


def test_three_way_split_errors_name_the_part():
    x = np.arange(20)
    y = [0, 1, 2] * 6 + [0, 1]
    with pytest.raises(ValueError, match=r"the validation part has 2 samples, fewer than the 3 "
                                         r"classes"):
        pp.train_val_test_split(x, val_size=2, test_size=3, stratify=y)
    with pytest.raises(ValueError, match=r"the test part has 2 samples, fewer than the 3 "
                                         r"classes"):
        pp.train_val_test_split(x, val_size=3, test_size=2, stratify=y)
    with pytest.raises(ValueError, match=r"classes \[1\] have a single sample left after drawing "
                                         r"the test part"):
        pp.train_val_test_split(x[:10], val_size=0.1, test_size=0.3, stratify=[0] * 8 + [1] * 2)
    with pytest.raises(ValueError, match=r"val_size=20 must be a count between 1 and 19 for 20 "
                                         r"samples"):
        pp.train_val_test_split(x, val_size=20)
    with pytest.raises(ValueError, match=r"test_size=1\.2 must be a fraction in \(0, 1\)"):
        pp.train_val_test_split(x, test_size=1.2)
    with pytest.raises(ValueError, match=r"array 1 has 20 samples but array 2 has 19"):
        pp.train_val_test_split(x, x[1:])

def test_split_errors():
    x = np.arange(10)
    with pytest.raises(ValueError, match=r"test_size=20 must be a count between 1 and 9 for "
                                         r"10 samples"):
        pp.train_test_split(x, test_size=20)
    with pytest.raises(ValueError, match=r"train_size \+ test_size = 8 \+ 3 samples is more "
                                         r"than the 10"):
        pp.train_test_split(x, test_size=3, train_size=0.8)
    with pytest.raises(ValueError, match=r"test_size=1\.5 must be a fraction in \(0, 1\)"):
        pp.train_test_split(x, test_size=1.5)
    with pytest.raises(ValueError, match=r"array 1 has 10 samples but array 2 has 9"):
        pp.train_test_split(x, x[:9])
    with pytest.raises(ValueError, match=r"classes \[2\] have a single sample"):
        pp.train_test_split(x, stratify=[0] * 5 + [1] * 4 + [2])
    with pytest.raises(ValueError, match=r"test part has 2 samples, fewer than the 3 classes"):
        pp.train_test_split(x, test_size=2, stratify=[0, 1, 2] * 3 + [0])
    with pytest.raises(ValueError, match=r"stratify needs shuffle=True"):
        pp.train_test_split(x, shuffle=False, stratify=x % 2)
    with pytest.raises(ValueError, match=r"stratify has 3 labels but the arrays have 10"):
        pp.train_test_split(x, stratify=[0, 1, 0])
    with pytest.raises(ValueError, match=r"take 5 \+ 5 of the 10 samples, leaving none"):
        pp.train_val_test_split(x, val_size=0.5, test_size=0.5)
    with pytest.raises(TypeError, match=r"test_size must be a fraction in \(0, 1\) or a count"):
        pp.train_test_split(x, test_size="half")


# ---------------------------------------------------------------------------------- batches
def test_batches_cover_each_sample_once_per_epoch(rng):
    x = np.arange(23 * 2).reshape(23, 2).astype(np.float32)
    y = np.arange(23)
    it = pp.BatchIterator(x, y, batch_size=5, seed=0)
    assert len(it) == 5
    seen_orders = []
    for _ in range(2):
        sizes, seen = [], []
        for xb, yb in it:
            sizes.append(len(xb))
            np.testing.assert_array_equal(xb[:, 0], 2 * yb)  # rows stay paired
            seen += yb.tolist()
        assert sizes == [5, 5, 5, 5, 3]
        assert sorted(seen) == list(range(23))
        seen_orders.append(seen)
    assert seen_orders[0] != seen_orders[1]  # a new order each epoch


def test_batches_reuse_one_buffer(rng):
    x, y = rng.normal(size=(10, 3)), rng.normal(size=(10, 1))
    it = pp.BatchIterator(x, y, batch_size=4, seed=1)
    bases = {(xb.base is not None and id(xb.base), id(yb.base)) for xb, yb in it}
    assert len(bases) == 1  # every batch is a view of the same preallocated buffer
    for xb, _ in pp.batches(x, y, batch_size=4, shuffle=False):
        assert np.shares_memory(xb, x)  # unshuffled batches are slices of x


def test_batches_match_fit_order():
    # fit shuffles a persistent index array in place each epoch with its generator
    x = np.arange(7)[:, None]
    rng = np.random.default_rng(9)
    order = np.arange(7)
    it = pp.BatchIterator(x, batch_size=3, seed=np.random.default_rng(9))
    for _ in range(3):
        rng.shuffle(order)
        got = np.concatenate([xb[:, 0].copy() for xb, _ in it])
        np.testing.assert_array_equal(got, order)



def test_fit_trains_on_the_batch_iterators_batches(monkeypatch):
    # Sequential.fit takes its mini-batches from BatchIterator: one iterator, one pass per
    # epoch, steps = len(iterator); the batches it yields (their rows gathered by the
    # training step) are the rows of x and y it trains on
    import mlplab
    from mlplab import models, training

    made, seen = [], []

    class Spy(pp.BatchIterator):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

        def _unfilled(self):  # fit's loop: the buffer is filled by the step (or fit) itself
            for xb, yb, rows in super()._unfilled():
                yield xb, yb, rows
                seen.append((xb.copy(), yb.copy()))  # the batch fit trained on

    monkeypatch.setattr(training, "BatchIterator", Spy)
    x = np.arange(22, dtype=np.float64).reshape(11, 2)
    y = (x[:, :1] > 10).astype(np.float64)
    model = mlplab.Sequential([mlplab.Dense(1, activation="sigmoid")], seed=0)
    model.compile(optimizer=mlplab.SGD(learning_rate=0.01), loss="mse")
    model.fit(x, y, epochs=3, batch_size=4, verbose=0)
    assert len(made) == 1 and made[0].batch_size == 4 and len(made[0]) == 3
    assert [len(xb) for xb, _ in seen] == [4, 4, 3] * 3
    for epoch in range(3):
        rows = np.concatenate([xb for xb, _ in seen[3 * epoch:3 * epoch + 3]])
        assert sorted(rows[:, 0].tolist()) == x[:, 0].tolist()  # each sample once per epoch
    assert all(np.array_equal(yb, (xb[:, :1] > 10)) for xb, yb in seen)  # rows stay paired

def test_full_batch_and_errors():
    x = np.ones((6, 2))
    assert [len(xb) for xb, _ in pp.batches(x, batch_size="full")] == [6]
    assert [len(xb) for xb, _ in pp.batches(x, batch_size=100)] == [6]
    with pytest.raises(ValueError, match=r"batch_size must be a positive integer; received 0"):
        pp.BatchIterator(x, batch_size=0)
    with pytest.raises(ValueError, match=r"x has 6 samples but y has 5"):
        pp.BatchIterator(x, np.ones(5))


# ---------------------------------------------------------------------------------- package
def test_public_names_and_docstring_examples():
    import doctest
    import importlib
    import mlplab
    from mlplab import models, training
    assert training.BatchIterator is pp.BatchIterator and models.FULL_BATCH == pp.FULL_BATCH
    assert mlplab.FULL_BATCH == pp.FULL_BATCH
    from mlplab.preprocessing import BatchIterator, ColumnTransformer, OneHotEncoder, \
        StandardScaler, to_categorical, train_test_split  # noqa: F401  (the old import paths)
    attempted = 0
    for part in ("scalers", "encoders", "columns", "splits", "batches"):
        module = importlib.import_module(f"mlplab.preprocessing.{part}")
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0, part
        attempted += result.attempted
    assert attempted >= 18
