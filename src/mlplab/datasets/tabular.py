"""Tables with numeric and categorical columns: a CSV reader and the lectures' animals table.

A table is a dict of named 1-D columns (``{"size": array([...]), ...}``): float64 for columns
whose cells are all numbers, object arrays of strings otherwise. It is what
:class:`mlplab.preprocessing.ColumnTransformer` takes, so a scaler and an encoder can each be
given their columns by name.
"""
from __future__ import annotations

import csv
import io
from importlib import resources
from pathlib import Path

import numpy as np

from ..exceptions import ArgumentError, ArgumentTypeError, DataFileError

ANIMAL_CLASSES = ("cat", "dog", "parrot", "carp")
#: The order of each ordinal feature of the animals table (coded -1, 0, 1 in the lectures).
ANIMAL_ORDERS = {"size": ("small", "medium", "large"), "fur": ("none", "short", "long"),
                 "talks": ("no", "yes")}


def _parse_number(cell: str):
    try:
        return float(cell)
    except ValueError:
        return None


def load_csv(source, delimiter: str = ",") -> dict[str, np.ndarray]:
    """Read a CSV with a header row into a dict of columns.

    A column whose non-empty cells are all numbers becomes float64 (empty cells NaN, which the
    scalers then reject with a clear message); any other column becomes an object array of
    strings with empty cells as None (which the encoders reject). Pull the target out with
    ``y = table.pop("class")``.

    Parameters
    ----------
    source : str, Path or text file object
    delimiter : str, default=","

    >>> load_csv(io.StringIO("w,fur\\n1.5,long\\n2,none\\n"))
    {'w': array([1.5, 2. ]), 'fur': array(['long', 'none'], dtype=object)}
    """
    where = "load_csv()"
    if not isinstance(delimiter, str) or len(delimiter) != 1:
        raise ArgumentError(f"{where}: delimiter must be one character, e.g. ',' or ';'; "
                            f"received {delimiter!r}.")
    if isinstance(source, (str, Path)):
        path = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"{where}: no file {path}; check the path (relative paths "
                                    f"start in {Path.cwd()}).")
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DataFileError(f"{where}: {path} is not UTF-8 text ({exc.reason} at byte "
                                f"{exc.start}); save it as UTF-8 CSV.") from None
        name = str(path)
    elif hasattr(source, "read"):
        text, name = source.read(), "the CSV"
    else:
        raise ArgumentTypeError(f"{where}: source must be a path or a text file object; "
                                f"received {type(source).__name__}.")
    if not isinstance(text, str):
        raise ArgumentTypeError(f"{where}: the file object must be opened in text mode "
                                f"(open(path, newline='')); it returned "
                                f"{type(text).__name__}.")
    try:
        reader = csv.reader(io.StringIO(text), delimiter=delimiter)
        numbered = [(reader.line_num, row) for row in reader if row]  # blank lines skipped
    except csv.Error as exc:
        raise DataFileError(f"{where}: {name} is not a readable CSV ({exc}).") from None
    if not numbered:
        raise DataFileError(f"{where}: {name} is empty; expected a header row and data rows.")
    rows = [row for _, row in numbered]
    header = [h.strip() for h in rows[0]]
    if len(set(header)) != len(header) or "" in header:
        raise DataFileError(f"{where}: the header of {name} must name each column once; "
                         f"received {header!r}.")
    for i, row in numbered[1:]:
        if len(row) != len(header):
            raise DataFileError(f"{where}: line {i} of {name} has {len(row)} cells; the header has "
                             f"{len(header)} ({', '.join(header)}).")
    table = {}
    for j, column in enumerate(header):
        cells = [row[j].strip() for row in rows[1:]]
        numbers = [None if c == "" else _parse_number(c) for c in cells]
        if all(v is not None or c == "" for v, c in zip(numbers, cells)) and any(cells):
            table[column] = np.array([np.nan if v is None else v for v in numbers])
        else:
            table[column] = np.array([c if c else None for c in cells], dtype=object)
    return table


def load_animals(encoded: bool = False):
    """The lectures' animals table: size, fur, talks -> cat / dog / parrot / carp.

    Rows 1-4 are the lecture's (small/short/no cat, large/long/no dog, small/none/yes
    parrot, medium/short/no cat); rows 5-8 were added so that each class occurs at least
    twice (the lecture shows no carp).

    Parameters
    ----------
    encoded : bool, default=False
        False: ``(table, y)`` with the three feature columns as strings and the class names.
        True: ``(X, D)`` coded as in the lecture, both float64: each feature ordinal in
        [-1, 1] (small -1, medium 0, large 1; fur none -1, short 0, long 1; talks no -1,
        yes 1) and D the bipolar one-hot class in the order cat, dog, parrot, carp.
    """
    from ..preprocessing import ColumnTransformer, OneHotEncoder, OrdinalEncoder

    text = resources.files("mlplab.datasets").joinpath("data/animals.csv").read_text()
    table = load_csv(io.StringIO(text))
    y = table.pop("class")
    if not encoded:
        return table, y
    features = ColumnTransformer([
        (name, OrdinalEncoder([list(order)], feature_range=(-1, 1)), [name])
        for name, order in ANIMAL_ORDERS.items()])
    classes = OneHotEncoder(categories=[list(ANIMAL_CLASSES)], bipolar=True)
    return features.fit_transform(table), classes.fit_transform(y.reshape(-1, 1))
