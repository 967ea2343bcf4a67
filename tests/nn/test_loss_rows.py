"""A loss name means one thing, stated in its row of nn/loss_table.py: no other module
decides anything by comparing a loss's name, and every row that code reads for a field
has it."""

import pathlib
import re

from nn.loss_table import LOSS_TABLE, LOSSES, NEURON_LOSSES, loss_named

ROOT = pathlib.Path(__file__).resolve().parents[2]
PACKAGES = ("autograd_core", "nn", "visualize", "student", "playground", "chainrule")


def test_no_module_but_the_table_branches_on_a_loss_name():
    names = "|".join(re.escape(name) for loss in LOSS_TABLE.values()
                     for name in (loss.name, *loss.spellings))
    branch = re.compile(rf"""[!=]=\s*["']({names})["']|["']({names})["']\s*[!=]=""")
    found = [f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
             for package in PACKAGES for path in sorted((ROOT / package).rglob("*.py"))
             if path != ROOT / "nn" / "loss_table.py"
             for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
             if branch.search(line)]
    assert not found, "decided by a loss's name outside nn/loss_table.py:\n" + "\n".join(found)


def test_each_row_has_what_its_readers_read():
    for loss in LOSSES.values():  # evaluation, predict and the playground's derivations
        assert loss.class_index or loss.threshold in (0.0, 0.5), loss.name
        neuron = loss_named(loss.neuron_loss)
        assert neuron is not None and neuron.cost is not None, loss.name
        assert loss.neuron_factor in (1.0, 2.0), loss.name
    for name in NEURON_LOSSES:  # neuron_backward's output rule
        assert loss_named(name).output_delta is not None, name
