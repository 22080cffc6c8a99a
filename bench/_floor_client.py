"""The floor: the least a client can do to create N tasks, with a plain httpx thread pool.

`python bench/_floor_client.py URL TOKEN COUNT PARALLELISM PREFIX` looks up the template once
and posts COUNT creates, PARALLELISM at a time, on one pooled client; no retries, no checks
beyond the status code. `bench/apply_load.py` times it against `tasks apply` doing the same.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor

import httpx


def main() -> int:
    url, token, count, parallelism, prefix = sys.argv[1:6]
    headers = {"Coder-Session-Token": token}
    with httpx.Client(base_url=url, headers=headers, timeout=60) as client:
        template = client.get("/api/v2/organizations/coder/templates/claude-code").json()
        version = template["active_version_id"]

        def create(number: int) -> int:
            body = {
                "template_version_id": version,
                "input": f"Work on {prefix}-{number}.",
                "name": f"{prefix}-{number}",
            }
            return client.post("/api/v2/tasks/me", json=body).status_code

        with ThreadPoolExecutor(int(parallelism)) as pool:
            statuses = list(pool.map(create, range(int(count))))
    failed = [s for s in statuses if s != 201]
    if failed:
        print(f"{len(failed)} creates failed: {sorted(set(failed))}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
