"""Container-shaped Flask stand-in for the SageMaker scikit-learn serving container.

Run: MODEL_PATH=model.pkl gunicorn -k gevent -w 2 --worker-connections 2000 \
         --bind unix:/tmp/x.sock serve_app:app          (serve_standin.sh does this)

Reproduces, in one file, what one request costs in the real container:
  * sagemaker_containers/_worker.py: a Flask app with GET /ping (empty 200) and
    POST /invocations; its Request reads the content type from the `ContentType` header, then
    `Content-Type`, defaulting to application/json; Accept of `*/*` or none means
    SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT (default application/json); the body is read as text
    for the UTF-8 types (JSON, CSV) and as bytes otherwise.
  * sagemaker_containers/_transformer.py: input_fn -> predict_fn -> output_fn; an unsupported
    content type answers 415 and an unsupported accept 406 with a JSON error body; any other
    exception propagates to Flask, which answers 500.
  * sagemaker_containers/_encoders.py: text/csv decodes as csv.reader -> np.array(rows)
    .squeeze().astype(None); application/json as json.loads -> np.array; application/x-npy via
    np.load. Encoding: text/csv with np.savetxt(fmt='%s') (one label per line for a 1-D
    prediction), JSON with json.dumps(tolist), npy with np.save.
  * sagemaker_sklearn_container/serving.py default_input_fn: decode, then .astype(np.float32)
    for the UTF-8 types; default_predict_fn: model.predict; default_output_fn: encode per accept.

FIX_1D (env, default 1): squeeze() turns a one-row CSV into a 1-D array and sklearn raises
"Expected 2D array" -> HTTP 500 in the real container (aws/sagemaker-containers#273). With
FIX_1D=1 a 1-D input is reshaped to (1, -1) so one-row requests succeed; FIX_1D=0 reproduces the
upstream 500.

The model is a pickled estimator loaded from env MODEL_PATH (see train_pickle.py), once per
gunicorn worker at import.
"""

import csv
import http.client as http_client
import io
import json
import os
import pickle
import traceback

import flask
import numpy as np

# sagemaker_containers/_content_types.py
JSON = "application/json"
CSV = "text/csv"
OCTET_STREAM = "application/octet-stream"
ANY = "*/*"
NPY = "application/x-npy"
UTF8_TYPES = [JSON, CSV]

DEFAULT_ACCEPT = os.environ.get("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", JSON)
FIX_1D = os.environ.get("FIX_1D", "1") != "0"


# sagemaker_containers/_errors.py
class UnsupportedFormatError(Exception):
    def __init__(self, content_type, **kwargs):
        self.message = "Content type %s is not supported by this framework." % content_type
        super().__init__(self.message, **kwargs)


# sagemaker_containers/_encoders.py
def array_to_npy(array_like):
    buffer = io.BytesIO()
    np.save(buffer, array_like)
    return buffer.getvalue()


def npy_to_numpy(npy_array):
    stream = io.BytesIO(npy_array)
    return np.load(stream, allow_pickle=True)


def array_to_json(array_like):
    def default(_array_like):
        if hasattr(_array_like, "tolist"):
            return _array_like.tolist()
        return json.JSONEncoder().default(_array_like)

    return json.dumps(array_like, default=default)


def json_to_numpy(string_like, dtype=None):
    data = json.loads(string_like)
    return np.array(data, dtype=dtype)


def csv_to_numpy(string_like, dtype=None):
    stream = io.StringIO(string_like)
    reader = csv.reader(stream, delimiter=",", quotechar='"', doublequote=True, strict=True)
    array = np.array([row for row in reader]).squeeze()
    array = array.astype(dtype)
    return array


def array_to_csv(array_like):
    stream = io.StringIO()
    np.savetxt(stream, array_like, delimiter=",", fmt="%s")
    return stream.getvalue()


_encoders_map = {NPY: array_to_npy, CSV: array_to_csv, JSON: array_to_json}
_decoders_map = {NPY: npy_to_numpy, CSV: csv_to_numpy, JSON: json_to_numpy}


def decode(obj, content_type):
    try:
        decoder = _decoders_map[content_type]
    except KeyError:
        raise UnsupportedFormatError(content_type)
    return decoder(obj)


def encode(array_like, content_type):
    try:
        encoder = _encoders_map[content_type]
    except KeyError:
        raise UnsupportedFormatError(content_type)
    return encoder(array_like)


# sagemaker_sklearn_container/serving.py defaults
def input_fn(input_data, content_type):
    np_array = decode(input_data, content_type)
    if FIX_1D and np_array.ndim == 1:
        np_array = np_array.reshape(1, -1)
    return np_array.astype(np.float32) if content_type in UTF8_TYPES else np_array


def predict_fn(input_data, model):
    return model.predict(input_data)


def output_fn(prediction, accept):
    return Response(response=encode(prediction, accept), mimetype=accept)


# sagemaker_containers/_worker.py
class Response(flask.Response):
    default_mimetype = JSON


class Request(flask.Request):
    @property
    def content_type(self):
        return self.headers.get("ContentType") or self.headers.get("Content-Type") or JSON

    @property
    def accept(self):
        accept = self.headers.get("Accept")
        if not accept or accept == ANY:
            return DEFAULT_ACCEPT
        return accept

    @property
    def content(self):
        as_text = self.content_type in UTF8_TYPES
        return self.get_data(as_text=as_text)


def _load_model():
    with open(os.environ["MODEL_PATH"], "rb") as f:
        return pickle.load(f)


MODEL = _load_model()


# sagemaker_containers/_transformer.py
def _error_response(error, status_code):
    body = json.dumps(
        {
            "error": error.__class__.__name__,
            "error-message": str(error),
            "stack-trace": traceback.format_exc(),
        }
    )
    return Response(response=body, status=status_code, mimetype=JSON)


def _default_transform_fn(model, content, content_type, accept):
    try:
        data = input_fn(content, content_type)
    except UnsupportedFormatError as e:
        return _error_response(e, http_client.UNSUPPORTED_MEDIA_TYPE)
    prediction = predict_fn(data, model)
    try:
        result = output_fn(prediction, accept)
    except UnsupportedFormatError as e:
        return _error_response(e, http_client.NOT_ACCEPTABLE)
    return result


def transform():
    request = flask.request
    return _default_transform_fn(MODEL, request.content, request.content_type, request.accept)


def ping():
    return Response(status=http_client.OK)


app = flask.Flask(__name__)
app.request_class = Request
app.add_url_rule(rule="/invocations", endpoint="invocations", view_func=transform,
                 methods=["POST"])
app.add_url_rule(rule="/ping", endpoint="ping", view_func=ping)
