"""Your own ComfyUI servers as a provider: workflows, one server's routes, jobs, dispatch, progress."""
