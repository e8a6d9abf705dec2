"""lambda-deploy: ship AWS Lambda functions safely from CI.

The pipeline is settings -> artifact -> state -> plan -> execute (or dry-run) ->
result -> report. Each stage lives in its own module; only ``aws`` talks to boto3
and only ``github`` knows the runner's file commands.
"""

__version__ = "0.1.0"
