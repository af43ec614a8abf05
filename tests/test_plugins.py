"""Third-party families through the ``wsbench.families`` entry-point group.

Throwaway distributions (a module plus a ``*.dist-info`` with METADATA and
entry_points.txt) are written into a temporary directory; a subprocess with that directory
on PYTHONPATH reports what the registry made of them, so the registry of this test process
never sees them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

TOY_MODULE = '''
import keras
from layers import Family, register_family


@register_family("toy_plugin")
class ToyFamily(Family):
    description = "Toy plugin: a 1x1 convolution whatever kernel_size says."

    def make_layer(self, filters, kernel_size, strides, padding, **hp):
        return keras.layers.Conv2D(filters, 1, strides=strides, padding=padding, **hp)

    def param_count(self, input_shape, filters, kernel_size, strides=1, padding="valid", **hp):
        return int(input_shape[-1]) * filters + filters


class UnregisteredFamily(Family):
    """Named directly by an entry point; the registry registers it under that name."""
    description = "Toy plugin class without the decorator."

    def make_layer(self, filters, kernel_size, strides, padding, **hp):
        return keras.layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, **hp)
'''

BROKEN_MODULE = 'raise ImportError("wsbench_broken_plugin needs missing_dependency_xyz")\n'

DUPLICATE_MODULE = '''
from layers import Family, register_family


@register_family("conv")
class ShadowConv(Family):
    description = "Tries to take the built-in conv's name."
'''

# distribution name, version, module name, module source, entry point lines
DISTRIBUTIONS = [
    ("wsbench-toy-plugin", "0.3.1", "wsbench_toy_plugin", TOY_MODULE,
     ["toy_plugin = wsbench_toy_plugin", "toy_class = wsbench_toy_plugin:UnregisteredFamily"]),
    ("wsbench-broken-plugin", "1.0", "wsbench_broken_plugin", BROKEN_MODULE,
     ["broken_plugin = wsbench_broken_plugin"]),
    ("wsbench-dup-plugin", "2.0", "wsbench_dup_plugin", DUPLICATE_MODULE,
     ["dup_conv = wsbench_dup_plugin"]),
]

PROBE = textwrap.dedent('''
    import json
    import keras
    import layers

    report = {"families": layers.list_families(), "plugin_errors": layers.plugin_errors(), "get": {}}
    for name in ["toy_plugin", "toy_class", "broken_plugin", "dup_conv", "conv", "lrlc"]:
        try:
            family = layers.get_family(name)
            out = family.build(2, 3, 1, "same")(keras.ops.zeros((1, 5, 5, 1)))
            report["get"][name] = {"source": family.source, "shape": list(out.shape),
                                   "class": type(family).__name__}
        except Exception as exc:
            report["get"][name] = {"error": type(exc).__name__, "message": str(exc),
                                   "is_value_error": isinstance(exc, ValueError)}
    print("REPORT " + json.dumps(report))
''')


def write_distributions(site: Path) -> None:
    for dist, version, module, source, entry_points in DISTRIBUTIONS:
        (site / f"{module}.py").write_text(source)
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        (info / "entry_points.txt").write_text("[wsbench.families]\n" + "\n".join(entry_points) + "\n")
        (info / "RECORD").write_text("")


def start_probe(site: Path, disable_plugins: bool = False) -> subprocess.Popen:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    env.pop("WSBENCH_DISABLE_PLUGINS", None)
    if disable_plugins:
        env["WSBENCH_DISABLE_PLUGINS"] = "1"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), env.get("PYTHONPATH", "")]))
    return subprocess.Popen([sys.executable, "-c", PROBE], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish_probe(proc: subprocess.Popen) -> dict:
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr[-3000:]
    line = next(line for line in stdout.splitlines() if line.startswith("REPORT "))
    return json.loads(line[len("REPORT "):])


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """Registry reports from two subprocesses: plugins enabled, and disabled by env var."""
    site = tmp_path_factory.mktemp("site")
    write_distributions(site)
    # Both subprocesses start at once; each spends most of its time importing TensorFlow.
    enabled, disabled = start_probe(site), start_probe(site, disable_plugins=True)
    return {"enabled": finish_probe(enabled), "disabled": finish_probe(disabled)}


def test_plugin_is_listed_after_built_ins(reports):
    families = reports["enabled"]["families"]
    assert "toy_plugin" in families
    assert families.index("toy_plugin") > families.index("coordconv")


def test_plugin_source_names_its_distribution(reports):
    toy = reports["enabled"]["get"]["toy_plugin"]
    assert toy["source"] == "plugin wsbench-toy-plugin 0.3.1"


def test_plugin_builds_a_layer(reports):
    assert reports["enabled"]["get"]["toy_plugin"]["shape"] == [1, 5, 5, 2]


def test_entry_point_naming_a_family_class_registers_it(reports):
    toy_class = reports["enabled"]["get"]["toy_class"]
    assert toy_class["class"] == "UnregisteredFamily"
    assert toy_class["source"] == "plugin wsbench-toy-plugin 0.3.1"
    assert toy_class["shape"] == [1, 5, 5, 2]


def test_broken_plugin_error_names_entry_point_and_distribution(reports):
    broken = reports["enabled"]["get"]["broken_plugin"]
    assert broken["error"] == "FamilyError" and broken["is_value_error"]
    assert "'broken_plugin'" in broken["message"]
    assert "wsbench_broken_plugin" in broken["message"]
    assert "wsbench-broken-plugin 1.0" in broken["message"]
    assert "missing_dependency_xyz" in broken["message"]
    assert "broken_plugin" in reports["enabled"]["plugin_errors"]


def test_built_ins_work_beside_broken_plugins(reports):
    got = reports["enabled"]["get"]
    assert got["conv"]["source"] == "built-in" and got["conv"]["shape"] == [1, 5, 5, 2]
    assert got["lrlc"]["source"] == "built-in" and got["lrlc"]["shape"] == [1, 5, 5, 2]
    assert reports["enabled"]["families"][:6] == [
        "conv", "locally_connected", "sisws", "sisws_trainable", "lrlc", "coordconv"]


def test_plugin_taking_an_existing_name_gives_clear_error(reports):
    dup = reports["enabled"]["get"]["dup_conv"]
    assert dup["error"] == "FamilyError"
    assert "'dup_conv'" in dup["message"] and "wsbench-dup-plugin 2.0" in dup["message"]
    assert "'conv' is already registered" in dup["message"]
    assert reports["enabled"]["families"].count("conv") == 1
    assert reports["enabled"]["get"]["conv"]["class"] == "ConvFamily"


def test_disable_env_var_turns_plugins_off(reports):
    disabled = reports["disabled"]
    assert "toy_plugin" not in disabled["families"] and "toy_class" not in disabled["families"]
    assert disabled["plugin_errors"] == {}
    assert disabled["get"]["toy_plugin"]["error"] == "FamilyError"
    assert "unknown family 'toy_plugin'" in disabled["get"]["toy_plugin"]["message"]
    assert disabled["get"]["conv"]["shape"] == [1, 5, 5, 2]
