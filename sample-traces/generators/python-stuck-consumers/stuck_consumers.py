"""A small job runner for leakscope's sample traces, traced by viztracer.

* asyncio: each batch starts `drain_inbox` consumers that wait on an asyncio.Queue nobody
  feeds; they are still pending when `asyncio.run` returns (which cancels them). Jobs run as
  their own tasks (`run_job`) and finish.
* threads: each batch starts a `heartbeat` thread that idles on an Event with a timeout until
  the program stops it at exit; a short-lived worker pool hashes the job payloads.

It prints what it left behind as JSON. With LEAKSCOPE_HEALTHY=1 it is the correct program:
each consumer gets a sentinel and returns, each heartbeat stops when its batch is done.
"""

import asyncio
import hashlib
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor

STOP = threading.Event()
HEARTBEATS = []
HEALTHY = os.environ.get("LEAKSCOPE_HEALTHY") == "1"
BATCH_DONE = [threading.Event() for _ in range(4)]


def heartbeat(batch: int) -> None:
    while not STOP.is_set() and not (HEALTHY and BATCH_DONE[batch].is_set()):
        STOP.wait(0.05)


def digest(job: int) -> str:
    return hashlib.sha1(str(job).encode() * 64).hexdigest()[:8]


async def drain_inbox(inbox: asyncio.Queue) -> None:
    while True:
        item = await inbox.get()  # nobody ever puts anything (unless healthy: a sentinel)
        inbox.task_done()
        if item is None:
            return


async def run_job(job: int) -> int:
    await asyncio.sleep(0.002)
    return job * 2


async def main_async(batches: int) -> dict:
    consumers = []
    done = 0
    for batch in range(batches):
        inbox = asyncio.Queue()
        consumers.append(asyncio.create_task(drain_inbox(inbox), name=f"drain-{batch}"))
        jobs = [asyncio.create_task(run_job(batch * 10 + j), name=f"job-{batch}-{j}") for j in range(2)]
        done += len(await asyncio.gather(*jobs))
        if HEALTHY:
            inbox.put_nowait(None)
            BATCH_DONE[batch].set()
    await asyncio.sleep(0.01)
    if HEALTHY:
        await asyncio.gather(*consumers)
        for t in HEARTBEATS:
            t.join()
        # Work after the cleanup, so the capture shows everything ended well before the end.
        await asyncio.sleep(0.03)
    return {"jobs_done": done, "consumers_pending": sum(1 for c in consumers if not c.done())}


def main() -> None:
    batches = 4
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="hasher") as pool:
        list(pool.map(digest, range(8)))
    for batch in range(batches):
        t = threading.Thread(target=heartbeat, args=(batch,), name=f"heartbeat-{batch}", daemon=True)
        t.start()
        HEARTBEATS.append(t)
    truth = asyncio.run(main_async(batches))
    truth["heartbeats_alive"] = sum(1 for t in HEARTBEATS if t.is_alive())
    print(json.dumps(truth))
    STOP.set()
    for t in HEARTBEATS:
        t.join()


if __name__ == "__main__":
    main()
