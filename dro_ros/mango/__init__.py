"""The mango-agents transport (optional extra `mango`): dro_ros agents across OS processes over TCP.

carrier.py    MangoCarrier (a dro_ros carrier on a mango TCP container), the JSON envelope
host.py       one process: bind a container, wait for the peers, run the local agents to the end
__main__.py   `python -m dro_ros.mango RUN.json INDEX`: host the agents of endpoint INDEX of a run file

Like `dro_ros.ros`, this layer imports only `dro_ros.core` (and mango); the process entry point, like
the CLI, builds agents through the one agent registry (`dro_ros.spec`).
"""
