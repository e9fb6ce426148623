"""One persistent model-server worker for a user's inference script, without Docker.

Started by the Rust `ScriptContainer` as `python sagemaker_script_worker.py` with
`SAGEMAKER_PROGRAM`, `SAGEMAKER_SUBMIT_DIRECTORY` (a local directory here) and
`SAGEMAKER_MODEL_DIR` in its environment. It imports the user's module once, calls
`model_fn(model_dir)` once, answers one "ready" frame, then serves requests until its
input closes. Handlers are looked up as the scikit-learn container does
(sagemaker-scikit-learn-container `serving.py`): `model_fn`, `input_fn`, `predict_fn`,
`output_fn`, or `transform_fn` in place of the last three; absent ones get the container's
defaults (sagemaker-containers `_encoders.py`).

Frames (both directions): 4-byte big-endian length + a JSON header, then 8-byte big-endian
length + the body bytes. Nothing is pickled across the boundary. The protocol owns the
process's original stdin and stdout; the user's prints go to stderr, which the Rust side
streams into the endpoint's log.

Differences from the container, on purpose (documented in docs/script-mode.md): a one-row
CSV or a flat JSON list stays one row (the container's `squeeze()` made it 1-D and every
model refused it); a content type is matched on its media type (`text/csv; charset=utf-8`
is CSV); bad content types and accepts answer 415 and 406, and a user exception answers a
500 whose message is the exception's last line (the container answered Flask's HTML 500
for all of them).
"""

import io
import json
import os
import struct
import sys
import traceback


class HandlerError(Exception):
    """A failure with an HTTP status."""

    def __init__(self, status, message):
        Exception.__init__(self, message)
        self.status = status
        self.message = message


def media_type(value):
    return (value or "").split(";")[0].strip().lower()


def default_input_fn(body, content_type):
    try:
        return _decode(body, content_type)
    except (ValueError, UnicodeDecodeError) as e:
        # Bad input is the caller's error (400), not the model's.
        raise HandlerError(400, "cannot decode the %s body: %s" % (content_type, e))


def _decode(body, content_type):
    import numpy as np

    kind = media_type(content_type) or "application/json"
    if kind == "application/json":
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        array = np.array(json.loads(text))
        if array.ndim == 1:
            array = array.reshape(1, -1)
        return array.astype(np.float32)
    if kind == "text/csv":
        import csv

        text = body.decode("utf-8") if isinstance(body, bytes) else body
        rows = [row for row in csv.reader(io.StringIO(text)) if row]
        return np.array(rows).astype(np.float32).reshape(len(rows), -1)
    if kind == "application/x-npy":
        data = body if isinstance(body, bytes) else body.encode("utf-8")
        return np.load(io.BytesIO(data), allow_pickle=False)
    raise HandlerError(415, "content type %s is not supported by the default input_fn "
                            "(application/json, text/csv, application/x-npy)" % content_type)


def default_predict_fn(data, model):
    return model.predict(data)


def default_output_fn(prediction, accept):
    import numpy as np

    kind = media_type(accept)
    if kind == "application/json":
        value = prediction.tolist() if hasattr(prediction, "tolist") else prediction
        return json.dumps(value), accept
    if kind == "text/csv":
        import csv

        array = np.asarray(prediction)
        if array.ndim < 2:
            array = array.reshape(-1, 1)
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(array.tolist())
        return out.getvalue(), accept
    if kind == "application/x-npy":
        out = io.BytesIO()
        np.save(out, np.asarray(prediction), allow_pickle=False)
        return out.getvalue(), accept
    raise HandlerError(406, "accept %s is not supported by the default output_fn "
                            "(application/json, text/csv, application/x-npy)" % accept)


def default_model_fn(model_dir):
    raise NotImplementedError(
        "Please provide a model_fn implementation. "
        "See documentation for model_fn at https://sagemaker.readthedocs.io/en/stable/")


def read_exact(stream, n):
    chunks, left = [], n
    while left:
        chunk = stream.read(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def read_frame(stream):
    head = read_exact(stream, 4)
    if head is None:
        return None
    (n,) = struct.unpack(">I", head)
    header = json.loads(read_exact(stream, n).decode("utf-8"))
    (m,) = struct.unpack(">Q", read_exact(stream, 8))
    body = read_exact(stream, m) if m else b""
    return header, body


def write_frame(stream, header, body=b""):
    head = json.dumps(header).encode("utf-8")
    stream.write(struct.pack(">I", len(head)) + head + struct.pack(">Q", len(body)))
    if body:
        stream.write(body)
    stream.flush()


def last_line(exc):
    text = "".join(traceback.format_exception_only(type(exc), exc)).strip()
    return text.splitlines()[-1] if text else type(exc).__name__


def as_bytes(value):
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    raise HandlerError(500, "the output function returned %s; it must return bytes or str "
                            "(or a (body, content_type) pair)" % type(value).__name__)


class Worker:
    def __init__(self, module, model_dir):
        self.transform_fn = getattr(module, "transform_fn", None)
        self.input_fn = getattr(module, "input_fn", default_input_fn)
        self.predict_fn = getattr(module, "predict_fn", default_predict_fn)
        self.output_fn = getattr(module, "output_fn", default_output_fn)
        if self.transform_fn is not None and any(
                hasattr(module, n) for n in ("input_fn", "predict_fn", "output_fn")):
            raise ValueError("Cannot use transform_fn implementation in conjunction with "
                             "input_fn, predict_fn, and/or output_fn implementation")
        self.model = getattr(module, "model_fn", default_model_fn)(model_dir)
        self.default_accept = os.environ.get(
            "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", "application/json")

    def invoke(self, header, body):
        content_type = header.get("content_type") or "application/json"
        accept = header.get("accept")
        if not accept or accept == "*/*":
            accept = self.default_accept
        # The container hands JSON and CSV bodies over as text, anything else as bytes.
        if media_type(content_type) in ("application/json", "text/csv"):
            try:
                body = body.decode("utf-8")
            except UnicodeDecodeError as e:
                raise HandlerError(400, "the %s body is not UTF-8: %s" % (content_type, e))
        if self.transform_fn is not None:
            result = self.transform_fn(self.model, body, content_type, accept)
        else:
            data = self.input_fn(body, content_type)
            prediction = self.predict_fn(data, self.model)
            result = self.output_fn(prediction, accept)
        status = 200
        if hasattr(result, "get_data") and hasattr(result, "status_code"):  # a Flask Response
            status, out_type = result.status_code, result.mimetype or accept
            result = result.get_data()
        elif isinstance(result, tuple) and len(result) == 2:
            result, out_type = result
        else:
            out_type = accept
        return status, as_bytes(result), out_type


def main():
    # The protocol keeps the original stdin/stdout; user output goes to stderr.
    proto_in = os.fdopen(os.dup(0), "rb", buffering=0)
    proto_out = os.fdopen(os.dup(1), "wb", buffering=0)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    code_dir = os.environ["SAGEMAKER_SUBMIT_DIRECTORY"]
    program = os.environ["SAGEMAKER_PROGRAM"]
    module_name = program[:-3] if program.endswith(".py") else program
    for extra in reversed([code_dir] + [p for p in os.environ.get(
            "SAGEMAKER_SCRIPT_EXTRA_PATH", "").split(os.pathsep) if p]):
        sys.path.insert(0, extra)
    try:
        import importlib

        module = importlib.import_module(module_name)
        worker = Worker(module, os.environ["SAGEMAKER_MODEL_DIR"])
    except BaseException as e:  # noqa: B902 - any failure must reach the parent
        traceback.print_exc()
        write_frame(proto_out, {"status": 500, "ready": False,
                                "message": "%s (loading %s from %s)" % (last_line(e), program,
                                                                        code_dir)})
        return 1
    write_frame(proto_out, {"status": 200, "ready": True, "pid": os.getpid()})
    while True:
        frame = read_frame(proto_in)
        if frame is None:
            return 0
        header, body = frame
        try:
            status, out, out_type = worker.invoke(header, body)
            write_frame(proto_out, {"status": status, "content_type": out_type}, out)
        except HandlerError as e:
            write_frame(proto_out, {"status": e.status, "message": e.message})
        except Exception as e:  # a user exception fails only this request
            traceback.print_exc()
            write_frame(proto_out, {"status": 500, "message": last_line(e)})
        sys.stderr.flush()


if __name__ == "__main__":
    sys.exit(main())
