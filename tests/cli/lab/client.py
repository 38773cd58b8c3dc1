"""Scenarios of the lab server driven by the real, unmodified daiedge-vlab
client (PyPI, 1.2.12), as its README uses it. tests/cli/lab.rs runs one
scenario per call and checks the JSON this prints on its last line.

usage: client.py SETUP_YAML SCENARIO [ARGS...]
"""

import json
import sys
import tempfile

from daiedge_vlab import dAIEdgeVLabAPI


def summary(api, bench_id, result):
    """The parts of a finished benchmark the Rust test checks."""
    raw = result["raw_output"]
    return {
        "id": bench_id,
        "status": api.getBenchmarkStatus(bench_id)["status"],
        "report": result["report"],
        "user_log": result["user_log"],
        "error_log": result["error_log"],
        "raw_output": None if raw is None else raw.hex(),
        "model_output": result["model_output"],
        "info": api.getBenchmarkInfo(bench_id),
    }


def run(api, target, engine, model, *extra):
    """One TYPE1 benchmark, waited for with waitBenchmarkResult."""
    nb = int(extra[0]) if extra else 20
    bench_id = api.startBenchmark(target, engine, model, inference_number=nb)
    assert bench_id is not None, "startBenchmark refused"
    with tempfile.TemporaryDirectory() as save:
        result = api.waitBenchmarkResult(bench_id, save_path=save, interval=0.2)
    return summary(api, bench_id, result)


def dataset(api, target, engine, model, data):
    """TYPE2 twice: the dataset uploaded by path, then reused by name."""
    first = api.startBenchmark(target, engine, model, dataset=data)
    assert first is not None, "startBenchmark refused"
    one = summary(api, first, api.waitBenchmarkResult(first, interval=0.2))
    names = api.getDatasets()
    name = [n for n in names if n.startswith(data.rsplit("/", 1)[-1] + "_")][0]
    second = api.startBenchmark(target, engine, model, dataset=name)
    assert second is not None, "startBenchmark by dataset name refused"
    two = summary(api, second, api.waitBenchmarkResult(second, interval=0.2))
    deleted = api.deleteDataset(name)
    return {"first": one, "second": two, "datasets": names, "name": name,
            "deleted": deleted, "after_delete": api.getDatasets()}


def by_reference(api, target, engine, model):
    """uploadModel, then a benchmark of the returned reference."""
    ref = api.uploadModel(model)
    assert ref is not None, "uploadModel refused"
    out = run(api, target, engine, ref)
    out["ref"] = ref
    out["models"] = api.getModels()
    return out


def delete(api, target, engine, model):
    """A queued or running benchmark deleted: gone for its user."""
    bench_id = api.startBenchmark(target, engine, model, inference_number=20)
    deleted = api.deleteBenchmark(bench_id)
    return {"id": bench_id, "deleted": deleted,
            "status_after": api.getBenchmarkStatus(bench_id),
            "listed": api.getBenchmarks()}


def start(api, target, engine, model, *extra):
    """Submits without waiting; prints the id."""
    nb = int(extra[0]) if extra else 20
    return {"id": api.startBenchmark(target, engine, model, inference_number=nb)}


def peek(api, bench_id):
    """What another user sees of a benchmark id."""
    return {"status": api.getBenchmarkStatus(bench_id),
            "info": api.getBenchmarkInfo(bench_id),
            "report": api.getBenchmarkReport(bench_id),
            "deleted": api.deleteBenchmark(bench_id),
            "listed": api.getBenchmarks()}


def upload(api, model):
    """uploadModel alone: the reference."""
    return {"ref": api.uploadModel(model)}


def config(api):
    """The lab's configuration and the engines' parameters."""
    return {"config": api.getAvailableConfigurations(full=True),
            "tract": api.getAvailableParameters("tract")}


SCENARIOS = {f.__name__: f for f in (run, dataset, by_reference, delete, start, peek, upload, config)}


if __name__ == "__main__":
    setup, scenario, *args = sys.argv[1:]
    lab = dAIEdgeVLabAPI(setup)
    print(json.dumps(SCENARIOS[scenario](lab, *args)))
