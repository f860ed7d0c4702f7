"""``model.summary()``: Keras's table of layers, output shapes and parameter counts."""
from __future__ import annotations


def readable_size(nbytes: int) -> str:
    """Keras's summary form: 164.00 B, 198.79 KB, 1.55 MB."""
    size = float(nbytes)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{size:.2f} {unit}"
        size /= 1024


def summary_text(model, layers, show_trainable=False) -> str:
    """The table of ``layers`` (a Trainable column with ``show_trainable``), then the total,
    trainable and non-trainable parameter counts with their size in memory."""
    from tabulate import tabulate  # a small dependency, imported when a table is printed

    headers = ["Layer (type)", "Output Shape", "Param #"] + \
        (["Trainable"] if show_trainable else [])
    rows = [[f"{layer.name} ({type(layer).__name__})", str((None,) + layer.output_shape),
             f"{layer.count_params():,}"] + (["Y" if layer.trainable else "N"]
                                              if show_trainable else [])
            for layer in layers]
    lines = [f'Model: "{model.name}"', tabulate(rows, headers=headers, tablefmt="simple")]
    for label, arrays in (("Total", model.weights), ("Trainable", model.trainable_weights),
                          ("Non-trainable", model.non_trainable_weights)):
        count, nbytes = sum(a.size for a in arrays), sum(a.nbytes for a in arrays)
        lines.append(f"{label} params: {count:,} ({readable_size(nbytes)})")
    return "\n".join(lines)
