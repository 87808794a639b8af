"""The localstack/localstack:4.14.0 stand-in: moto's S3 on :4566, LocalStack's ready hooks and their status.

LocalStack runs every file of /etc/localstack/init/ready.d once its services answer (*.py inside its own Python,
*.sh with bash) and reports them at GET /_localstack/init/ready as {"completed": true, "scripts": [...]}, which
docker-compose.yml's healthcheck reads. Everything else is S3, served by moto.
"""

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import make_server

READY_DIR = Path("/etc/localstack/init/ready.d")
PORT = int(os.environ.get("GATEWAY_PORT", "4566"))
status = {"completed": False, "scripts": []}
s3 = DomainDispatcherApplication(create_backend_app)


def app(environ, start_response):
    path = environ.get("PATH_INFO", "")
    if path.startswith("/_localstack/"):
        if path.rstrip("/") == "/_localstack/init/ready":
            body = status
        else:
            body = {"services": {"s3": "running"}, "edition": "stand-in"}
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(body).encode()]
    return s3(environ, start_response)


def run_ready_hooks() -> None:
    for script in sorted(READY_DIR.glob("*")):
        runner = {".py": [sys.executable], ".sh": ["bash"]}.get(script.suffix)
        if runner is None:
            continue
        result = subprocess.run(
            [*runner, str(script)], env={**os.environ, "S3_ENDPOINT_URL": f"http://localhost:{PORT}"}
        )
        state = "SUCCESSFUL" if result.returncode == 0 else "ERROR"
        print(f"ready.d: {script.name} {state}", flush=True)
        status["scripts"].append({"stage": "READY", "name": script.name, "state": state})
    status["completed"] = True


def main() -> None:
    # PID 1 of its container: without a handler SIGTERM would be ignored and `docker compose down` would wait.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = make_server("0.0.0.0", PORT, app, threaded=True)
    threading.Thread(target=run_ready_hooks, daemon=True).start()
    print(f"S3 stand-in ready on :{PORT}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
