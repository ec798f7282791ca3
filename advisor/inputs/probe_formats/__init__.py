"""Probe sets to and from the formats other evaluation tools write (RAGAS, promptfoo, DeepEval, CSV).

One module per format; each maps what it can and reports every line it cannot, with file, line
and reason, so nothing is dropped silently.
"""

from __future__ import annotations

import importlib
from pathlib import Path

from advisor.errors import InputError
from advisor.inputs.probe_formats.records import Conversion, Export
from advisor.inputs.probes import Probe

IMPORT_FORMATS = {"ragas": "advisor.inputs.probe_formats.ragas", "promptfoo": "advisor.inputs.probe_formats.promptfoo",
                  "deepeval": "advisor.inputs.probe_formats.deepeval", "csv": "advisor.inputs.probe_formats.plain_csv"}
EXPORT_FORMATS = {"ragas": "advisor.inputs.probe_formats.ragas", "promptfoo": "advisor.inputs.probe_formats.promptfoo"}


def import_probes(path: str | Path, fmt: str) -> Conversion:
    """Probes read from another tool's file, with the lines that could not be mapped."""
    path = Path(path)
    if not path.is_file():
        raise InputError("file not found", path=path)
    return importlib.import_module(IMPORT_FORMATS[fmt]).import_file(path)


def export_probes(probes: list[Probe], fmt: str) -> Export:
    """The text of another tool's file holding `probes`, with the probes it cannot express."""
    return importlib.import_module(EXPORT_FORMATS[fmt]).export(probes)


def import_probe_file(path: str | Path, fmt: str, out: str | Path) -> Conversion:
    """Import `path`, write the probes that mapped to `out` (JSONL), and check `out` reads back
    as a probe set; the problems are returned for the caller to list."""
    from advisor.inputs.probes import read_probes, write_probes

    conversion = import_probes(path, fmt)
    if not conversion.probes:
        reasons = "; ".join(str(p) for p in conversion.problems[:3])
        raise InputError(f"no line could be mapped to a probe ({reasons})", path=path)
    write_probes(out, conversion.probes)
    read_probes(out)
    return conversion


def export_probe_file(probes_path: str | Path, fmt: str, out: str | Path) -> Export:
    """Write the probe set at `probes_path` in another tool's format to `out`."""
    from advisor.storage.atomic import write_text_atomic
    from advisor.inputs.probes import read_probes

    export = export_probes(read_probes(probes_path).probes, fmt)
    write_text_atomic(out, export.text)
    return export
