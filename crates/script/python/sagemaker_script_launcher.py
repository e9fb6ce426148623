"""Runs a user's training script the way SageMaker's training toolkit runs it, without Docker.

Started by the Rust `ScriptContainer` as `python sagemaker_script_launcher.py PLAN.json`, in a
process group of its own. In order:

1. asks the kernel to kill it when its parent dies (so no script outlives the SDK);
2. gives the job its own ``/opt/ml`` with an unprivileged user + mount namespace (done here,
   in a single-threaded Python process, because the Rust parent is multi-threaded and the
   workspace forbids ``unsafe`` code); where namespaces are refused it runs in place, with
   ``SAGEMAKER_BASE_DIR`` and every ``SM_*`` variable pointing at the job's directory;
3. installs ``requirements.txt`` into a cached overlay directory (never into the shared
   environment);
4. computes the toolkit's environment (``SM_*``) and command-line arguments from the files
   under ``input/config`` exactly as sagemaker-training-toolkit 4.8.0 does
   (``environment.py``, ``mapping.py``), then ``exec``s the script in ``code/``.

Lines starting with ``[sagemaker-script]`` are the launcher's own; the Rust side reads the
``Invoking script`` line to name the command in a generated failure reason.

Only the standard library is used: the launcher must work in any Python 3 environment.
"""

import ctypes
import ctypes.util
import errno
import hashlib
import json
import multiprocessing
import os
import shlex
import shutil
import signal
import subprocess
import sys

PREFIX = "[sagemaker-script]"

# <sched.h> and <sys/mount.h> constants (Linux, every architecture).
CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_RDONLY = 1
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
PR_SET_PDEATHSIG = 1

# The toolkit's reserved hyperparameters (sagemaker_training/params.py).
RESERVED = {
    "sagemaker_program",
    "sagemaker_submit_directory",
    "sagemaker_container_log_level",
    "sagemaker_job_name",
    "sagemaker_region",
    "sagemaker_enable_cloudwatch_metrics",
    "sagemaker_s3_output",
    "default_user_module_name",
    "_tuning_objective_metric",
}


def log(message):
    print("%s %s" % (PREFIX, message), file=sys.stderr, flush=True)


def fail(reason, code=1, base=None):
    """Writes `output/failure` (the job's FailureReason) and exits."""
    if base is not None:
        try:
            with open(os.path.join(base, "output", "failure"), "w") as f:
                f.write(reason)
        except OSError:
            pass
    log(reason)
    sys.exit(code)


def libc():
    return ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)


def die_with_parent():
    if not sys.platform.startswith("linux"):
        return
    try:
        libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, "%s: %s" % (what, os.strerror(err)))


def _mount(lib, source, target, fstype, flags, data, what):
    enc = lambda s: None if s is None else s.encode()
    _check(lib.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)), what)


def isolate(job_root, scratch):
    """Enters a user + mount namespace where `job_root` is mounted at /opt/ml.

    Returns None on success, else why it could not (the caller falls back to running in
    place). Nothing here touches the host's mount table: `/` is made recursively private
    before any mount, so every mount stays inside the namespace.
    """
    if not sys.platform.startswith("linux"):
        return "user namespaces are Linux-only (this is %s)" % sys.platform
    if os.environ.get("SAGEMAKER_SCRIPT_NO_NAMESPACE"):
        return "disabled by SAGEMAKER_SCRIPT_NO_NAMESPACE"
    lib = libc()
    uid, gid = os.getuid(), os.getgid()
    try:
        _check(lib.unshare(CLONE_NEWUSER | CLONE_NEWNS), "unshare(CLONE_NEWUSER|CLONE_NEWNS)")
        # Identity maps keep the caller's uid, so files the script writes are the user's.
        with open("/proc/self/setgroups", "w") as f:
            f.write("deny")
        with open("/proc/self/uid_map", "w") as f:
            f.write("%d %d 1" % (uid, uid))
        with open("/proc/self/gid_map", "w") as f:
            f.write("%d %d 1" % (gid, gid))
        _mount(lib, None, "/", None, MS_REC | MS_PRIVATE, None, "make / private")
        if not os.path.isdir("/opt/ml"):
            # An unprivileged user cannot create /opt/ml: lay an overlay over /opt whose
            # upper layer already holds ml/ (kernel >= 5.11), else a tmpfs (hides /opt).
            upper = os.path.join(scratch, "upper")
            work = os.path.join(scratch, "work")
            os.makedirs(os.path.join(upper, "ml"), exist_ok=True)
            os.makedirs(work, exist_ok=True)
            try:
                if not os.path.isdir("/opt"):
                    raise OSError(errno.ENOENT, "/opt does not exist")
                _mount(lib, "overlay", "/opt", "overlay", 0,
                       "lowerdir=/opt,upperdir=%s,workdir=%s" % (upper, work), "overlay on /opt")
            except OSError as overlay_error:
                if sys.executable.startswith("/opt/"):
                    raise OSError(overlay_error.errno,
                                  "%s; a tmpfs on /opt would hide the interpreter %s"
                                  % (overlay_error, sys.executable))
                _mount(lib, "tmpfs", "/opt", "tmpfs", 0, "mode=755", "tmpfs on /opt")
                os.makedirs("/opt/ml", exist_ok=True)
        _mount(lib, job_root, "/opt/ml", None, MS_BIND | MS_REC, None, "bind the job at /opt/ml")
        return None
    except OSError as e:
        return str(e)


def install_requirements(code_dir, cache_dir, base):
    """pip-installs code/requirements.txt into a directory keyed by its hash and the
    interpreter, reused by every later job, and returns it (None without the file)."""
    req = os.path.join(code_dir, "requirements.txt")
    if not os.path.isfile(req):
        return None
    with open(req, "rb") as f:
        digest = hashlib.sha256(f.read() + sys.version.encode() + sys.prefix.encode()).hexdigest()
    target = os.path.join(cache_dir, "requirements", digest[:32])
    if os.path.isdir(target):
        log("requirements.txt: reusing %s" % target)
        return target
    partial = "%s.partial-%d" % (target, os.getpid())
    cmd = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check",
           "--no-input", "--target", partial, "-r", req]
    log("requirements.txt: running %s" % " ".join(shlex.quote(c) for c in cmd))
    proc = subprocess.run(cmd, cwd=code_dir, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = proc.stdout.decode("utf-8", "replace")
    for line in output.splitlines():
        print(line, file=sys.stderr)
    if proc.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        tail = "\n".join(output.strip().splitlines()[-5:])
        fail('InstallRequirementsError:\nExitCode %d\nErrorMessage "%s"\nCommand "%s"'
             % (proc.returncode, tail, " ".join(cmd)), base=base)
    os.makedirs(os.path.dirname(target), exist_ok=True)
    try:
        os.rename(partial, target)  # atomic: no half-installed overlay is ever used
    except OSError:
        shutil.rmtree(partial, ignore_errors=True)  # another job won the race
    return target


def decode_hyperparameters(raw):
    """Toolkit `read_hyperparameters`: json.loads each value, else keep the raw string."""
    out = {}
    for key, value in raw.items():
        try:
            out[key] = json.loads(value)
        except (ValueError, TypeError):
            out[key] = value
    return out


def to_cmd_args(mapping):
    """Toolkit `mapping.to_cmd_args`: sorted keys, `--key value`, `-k` for one letter,
    values rendered with str() (dicts as `k=v,...`)."""
    args = []
    for key in sorted(mapping):
        value = mapping[key]
        args.append(("-%s" if len(key) == 1 else "--%s") % key)
        if isinstance(value, dict):
            value = ",".join("%s=%s" % (k, v) for k, v in sorted(value.items()))
        args.append("" if value is None else str(value))
    return args


def env_value(value):
    """Toolkit `mapping._decode`: strings as they are, None empty, else compact JSON."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def toolkit_env(base, plan):
    """The SM_* variables and the user's arguments (toolkit `Environment.to_env_vars`)."""
    config = os.path.join(base, "input", "config")

    def read(name, default):
        try:
            with open(os.path.join(config, name)) as f:
                return json.load(f)
        except (OSError, ValueError):
            return default

    hps = decode_hyperparameters(read("hyperparameters.json", {}))
    user = {k: v for k, v in hps.items() if k not in RESERVED and not k.startswith("sagemaker_")}
    framework = {k: v for k, v in hps.items()
                 if k not in RESERVED and k.startswith("sagemaker_")}
    data_config = read("inputdataconfig.json", {})
    resource = read("resourceconfig.json", {})
    hosts = sorted(resource.get("hosts", ["algo-1"]))
    current_host = resource.get("current_host", "algo-1")
    channels = sorted(data_config)
    program = plan["program"]
    module_name = program[:-3] if program.endswith(".py") else program
    group = resource.get("current_group_name", "homogeneousCluster")
    dirs = {
        "model_dir": os.path.join(base, "model"),
        "input_dir": os.path.join(base, "input"),
        "input_config_dir": config,
        "output_dir": os.path.join(base, "output"),
        "output_data_dir": os.path.join(base, "output", "data"),
        "output_intermediate_dir": os.path.join(base, "output", "intermediate"),
    }
    channel_dirs = {c: os.path.join(base, "input", "data", c) for c in channels}
    args = to_cmd_args(user)
    env = {
        "additional_framework_parameters": framework,
        "channel_input_dirs": channel_dirs,
        "current_host": current_host,
        "current_instance_group": group,
        "current_instance_group_hosts": hosts,
        "current_instance_type": resource.get("current_instance_type", "local"),
        "distribution_hosts": [],
        "distribution_instance_groups": [],
        "framework_module": plan.get("framework_module") or "",
        "hosts": hosts,
        "hyperparameters": user,
        "input_data_config": data_config,
        "instance_groups": [group],
        "instance_groups_dict": {group: {"instance_group_name": group, "hosts": hosts,
                                         "instance_type": resource.get("current_instance_type", "local")}},
        "is_hetero": False,
        "is_master": current_host == hosts[0],
        "is_modelparallel_enabled": None,
        "is_smddpmprun_installed": False,
        "is_smddprun_installed": False,
        "job_name": plan.get("job_name") or "",
        "log_level": hps.get("sagemaker_container_log_level", 20),
        "master_hostname": hosts[0],
        "module_dir": hps.get("sagemaker_submit_directory", "/opt/ml/code"),
        "module_name": module_name,
        "network_interface_name": resource.get("network_interface_name", "eth0"),
        "num_cpus": plan.get("num_cpus") or multiprocessing.cpu_count(),
        "num_gpus": 0,
        "num_neurons": 0,
        "resource_config": resource,
        "user_entry_point": program,
    }
    env.update(dirs)
    out = {"SM_" + k.upper(): env_value(v) for k, v in env.items()
           if k not in ("additional_framework_parameters", "hyperparameters")}
    out["SM_FRAMEWORK_PARAMS"] = env_value(framework)
    out["SM_HPS"] = env_value(user)
    for key, value in user.items():
        out["SM_HP_" + key.upper()] = env_value(value)
    for channel, path in channel_dirs.items():
        out["SM_CHANNEL_" + channel.upper()] = path
    out["SM_CHANNELS"] = env_value(channels)
    out["SM_USER_ARGS"] = env_value(args)
    out["SM_USER_ENTRY_POINT"] = program
    out["SM_TRAINING_ENV"] = json.dumps(env, sort_keys=True, separators=(",", ":"))
    out["SM_INPUT_DATA_CONFIG"] = env_value(data_config)
    out["SM_RESOURCE_CONFIG"] = env_value(resource)
    out["SM_INSTANCE_GROUPS"] = env_value([group])
    out["SM_INSTANCE_GROUPS_DICT"] = env_value(env["instance_groups_dict"])
    out["SM_DISTRIBUTION_INSTANCE_GROUPS"] = "[]"
    out["SM_IS_HETERO"] = "false"
    out["SAGEMAKER_JOB_NAME"] = env["job_name"]
    out["CURRENT_HOST"] = current_host
    out["SAGEMAKER_REGION"] = str(hps.get("sagemaker_region", ""))
    return out, args


def mentions_opt_ml(code_dir):
    found = []
    for root, _, files in os.walk(code_dir):
        for name in files:
            if name.endswith((".py", ".sh")):
                path = os.path.join(root, name)
                try:
                    with open(path, "rb") as f:
                        if b"/opt/ml" in f.read(4 << 20):
                            found.append(os.path.relpath(path, code_dir))
                except OSError:
                    pass
    return found


def main():
    with open(sys.argv[1]) as f:
        plan = json.load(f)
    die_with_parent()
    job_root = plan["job_root"]
    why = isolate(job_root, plan["scratch"]) if plan.get("isolation", True) else "not requested"
    if why is None:
        base = "/opt/ml"
        log("isolation: user + mount namespace, the job's directory is at /opt/ml")
    else:
        base = job_root
        log("isolation: none (%s); running in place under %s, SAGEMAKER_BASE_DIR and SM_* point there"
            % (why, base))
        hard_coded = mentions_opt_ml(os.path.join(base, "code"))
        if hard_coded:
            log("WARNING: /opt/ml is hard-coded in %s but does not exist here (namespaces are "
                "unavailable: %s); read SM_CHANNEL_<NAME> / SM_MODEL_DIR instead"
                % (", ".join(hard_coded), why))
    code_dir = os.path.join(base, "code")
    program = plan["program"]
    overlay = install_requirements(code_dir, plan["cache_dir"], base)
    env = dict(os.environ)
    env.update(plan.get("environment", {}))
    sm_env, args = toolkit_env(base, plan)
    env.update(sm_env)
    env["SAGEMAKER_BASE_DIR"] = base
    path = [code_dir] + ([overlay] if overlay else []) + [p for p in sys.path if p]
    env["PYTHONPATH"] = ":".join(path)
    env.update({"PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1",
                "PYTHONIOENCODING": "UTF-8", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"})
    os.chdir(code_dir)
    if program.endswith(".py"):
        cmd = [sys.executable, program] + args
    else:
        # The toolkit's COMMAND entry point: made executable, run by the shell.
        os.chmod(os.path.join(code_dir, program), 0o777)
        cmd = ["/bin/sh", "-c", "./%s %s" % (program, " ".join(shlex.quote(a) for a in args))]
    log("Invoking script with the following command: %s" % " ".join(shlex.quote(c) for c in cmd))
    sys.stderr.flush()
    sys.stdout.flush()
    os.execve(cmd[0], cmd, env)


if __name__ == "__main__":
    main()
